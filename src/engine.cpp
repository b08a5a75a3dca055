// engine: to be written.
