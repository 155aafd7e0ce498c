"""Fixtures for running generated shell scripts against a simulated host."""
