// profile_json: to be written.
