"""`cinder-manage`, as the release's console script runs it, for the differential tests.

usage: <cinder venv>/bin/python cinder_manage.py --config-file CINDER_CONF quota check|sync ...

Runs `cinder.cmd.manage.main()` unchanged, except where the release's own `quota check` /
`quota sync` cannot run at all. cinder 22.3.0 (2023.1): three `QuotaCommands` helpers query with
`context`, the module, instead of their request-context argument, and one names a column as a
bare string, so on any project with quota usage both commands stop with
`AttributeError: module 'cinder.context' has no attribute 'session'` or SQLAlchemy's
"Textual column expression 'project_id' should be explicitly declared". Later releases (2026.2's
29.0.0) have the same queries with the argument and `sa.Column('project_id')`
(`db.get_projects`); for a release whose helpers still have the bug, exactly those three are
replaced here by that later text (same SELECTs, same FOR UPDATE, same filters). Nothing else
changes; 2026.2 runs untouched.
"""

import inspect
import re
import sys

import sqlalchemy as sa
from cinder.cmd import manage

BROKEN = re.compile(r"model_query\(\s*context,")


def _get_quota_projects(self, ctxt, project_id):
    if project_id:
        model = manage.models.QuotaUsage
        if not ctxt.session.query(
            manage.db_api.sql.exists().where(
                manage.db_api.and_(model.project_id == project_id, ~model.deleted)
            )
        ).scalar():
            print(f"Project id {project_id} has no quota usage. Nothing to do.")
            return []
        return [project_id]
    projects = (
        manage.db_api.model_query(ctxt, manage.models.QuotaUsage, read_deleted="no")
        .with_entities(sa.Column("project_id"))
        .distinct()
        .all()
    )
    return [row.project_id for row in projects]


def _get_usages(self, ctxt, resources, project_id):
    return (
        manage.db_api.model_query(ctxt, manage.models.QuotaUsage, read_deleted="no")
        .filter_by(project_id=project_id)
        .with_for_update()
        .all()
    )


def _get_reservations(self, ctxt, project_id, usage_id):
    return (
        manage.db_api.model_query(ctxt, manage.models.Reservation, read_deleted="no")
        .filter_by(project_id=project_id, usage_id=usage_id)
        .with_for_update()
        .all()
    )


if BROKEN.search(inspect.getsource(manage.QuotaCommands._get_usages)):
    commands = manage.QuotaCommands
    reader = manage.db_api.main_context_manager.reader
    commands._get_quota_projects = reader(_get_quota_projects)
    commands._get_usages = _get_usages
    commands._get_reservations = _get_reservations

if __name__ == "__main__":
    sys.argv[0] = "cinder-manage"
    sys.exit(manage.main())
