// aggregator: to be written.
