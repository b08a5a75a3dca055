// encoder: to be written.
