// stats: to be written.
