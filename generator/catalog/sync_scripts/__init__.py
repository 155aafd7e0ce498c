"""Tiny programs the capture command runs *inside* the upstream services' venvs.

They are not imported by fixpack; they run under nova's, cinder's or
placement's own interpreter to call that service's own migration code.
"""
