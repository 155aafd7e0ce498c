"""Run placement's own alembic upgrade to a given revision (placement-manage has no argument).

usage: python placement_sync.py CONFIG_FILE [REVISION]
"""

import sys

from oslo_config import cfg
from placement import conf, db_api
from placement.db.sqlalchemy import migration

config = cfg.ConfigOpts()
conf.register_opts(config)
config(["--config-file", sys.argv[1]], project="placement", default_config_files=None)
db_api.configure(config)
migration.upgrade(sys.argv[2] if len(sys.argv) > 2 else "head")
print(migration.version())
