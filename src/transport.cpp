// transport: to be written.
