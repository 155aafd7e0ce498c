"""Bundle stage: lay out the directory, checksum it, write it atomically."""
