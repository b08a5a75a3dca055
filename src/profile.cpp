// profile: to be written.
