"""Scratch servers and loading catalog releases into them (tests, rehearsal, capture)."""
