// schema: to be written.
