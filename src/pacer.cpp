// pacer: to be written.
