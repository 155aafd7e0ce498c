"""Scripts tests/api_standins.py runs with the services' own Python (nova/cinder/placement venvs):
the API commands of a scan's controller.sh, never imported. Not differential mirrors (their
evidence, tools/differential_evidence.py, covers tests/upstream/ only)."""
