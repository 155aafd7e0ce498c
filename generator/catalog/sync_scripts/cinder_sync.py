"""Run cinder's own db_sync to a given alembic revision (cinder-manage only takes ints).

usage: python cinder_sync.py CONFIG_FILE [REVISION]
"""

import sys

from cinder import objects  # noqa: F401
from cinder.db import migration
from cinder.volume import group_types  # noqa: F401  (registers options before parsing)
from oslo_config import cfg

cfg.CONF(["--config-file", sys.argv[1]], project="cinder", default_config_files=None)
migration.db_sync(sys.argv[2] if len(sys.argv) > 2 else None)
print(migration.db_version())
