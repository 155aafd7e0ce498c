"""Scan checks, one module per service group; each registers its checks with `registry.check`."""
