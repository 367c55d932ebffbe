"""One module per revision, oldest first (0001 is the schema LaporHub had before migrations)."""
