// duration: to be written.
