// live_runner: to be written.
