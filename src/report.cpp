// report: to be written.
