// receiver: to be written.
