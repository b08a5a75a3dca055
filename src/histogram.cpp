// histogram: to be written.
