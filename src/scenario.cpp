// scenario: to be written.
