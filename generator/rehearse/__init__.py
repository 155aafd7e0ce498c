"""Run bundles for real: the mysql client, table states, and the rehearsal report."""
