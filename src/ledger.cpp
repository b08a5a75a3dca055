// ledger: to be written.
