"""Facts stage: read, in a few round trips, every row a repair may touch."""
