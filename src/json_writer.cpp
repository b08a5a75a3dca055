// json_writer: to be written.
