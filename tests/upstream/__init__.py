"""Scripts the differential tests run with the services' own Python (nova/cinder venvs), never imported."""
