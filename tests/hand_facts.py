"""Facts built by hand (no database) for driving the real planners and renderers with chosen values.

The property tests put generated hostile values into the columns the red-team pass found
reaching a shell, a runbook, a SQL comment or a terminal, run the real planner on these
facts and render what a bundle holds (SQL files and runbook) the way `pipeline.assemble`
does, without lint or writing a directory, so a thousand examples take seconds.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from generator.catalog import catalog_snapshot
from generator.facts.instance import InstanceFacts
from generator.facts.model import DatabaseFacts, TableRows
from generator.facts.volume import VolumeFacts
from generator.ops.rows import Row, Scope
from generator.plan import builders as b
from generator.plan.model import Plan
from generator.plan.vm import plan_vm
from generator.plan.vm_common import VmOptions
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_reset_detached import plan_reset_detached
from generator.render.runbook import render_runbook
from generator.render.sql import RenderedFile, render_sql
from generator.scratch.deployment import CELL0_UUID

RELEASE = "2025.1"
NOW = dt.datetime(2026, 1, 2, 3, 4, 5)
INSTANCE = "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57"
VOLUME = "6a1d3c1e-0c4b-4f8e-8d3a-1b2c3d4e5f60"
OTHER_VOLUME = "7b2e4d2f-1d5c-4a9f-9e4b-2c3d4e5f6071"
ATTACHED_TO = "8c3f5e30-2e6d-4b00-8f5c-3d4e5f607182"


@cache
def _schema(kind: str):
    return catalog_snapshot(RELEASE, kind)


def full_row(kind: str, table: str, **values: object) -> Row:
    """A row with every column of the catalog table (NULL unless given)."""
    columns = _schema(kind).table(table).column_names
    unknown = set(values) - set(columns)
    assert not unknown, unknown
    return Row(tuple(columns), tuple(values.get(c) for c in columns))


def _db(role: str, kind: str, label: str, database: str, tables: dict[str, list[Row]]) -> DatabaseFacts:
    return DatabaseFacts(
        role=role,
        label=label,
        release=RELEASE,
        schema=_schema(kind),
        database=database,
        schema_fingerprint="sha256:0",
        detection="hand-built facts",
        tables={t: TableRows(t, Scope(b.eq("id", 0), t), tuple(rows)) for t, rows in tables.items()},
    )


def vm_facts(
    *,
    vm_state: str = "error",
    task_state: str | None = "deleting",
    node: str | None = "cmp-01.example",
    host: str | None = "cmp-01",
    display_name: str = "web-1",
    project_id: str = "p1",
    cell_name: str = "cell1",
    database: str = "nova_cell1",
    attachment_id: str = "a1b2c3d4-0000-4000-8000-000000000001",
    attached_volume: str = OTHER_VOLUME,
    cell0: bool = True,
) -> InstanceFacts:
    """A stuck instance (in cell0 by default: no compute script, its host never validated)."""
    inst = full_row(
        "nova", "instances", id=7, uuid=INSTANCE, deleted=0, vm_state=vm_state, task_state=task_state,
        power_state=4, host=host, node=node, display_name=display_name, project_id=project_id,
        user_id="u1", updated_at=NOW - dt.timedelta(days=1), created_at=NOW - dt.timedelta(days=2),
    )  # fmt: skip
    cell = _db("nova", "nova", f"Nova cell database ({cell_name})", database, {"instances": [inst]})
    att = full_row(
        "cinder", "volume_attachment", id=attachment_id, volume_id=attached_volume, instance_uuid=INSTANCE,
        attach_status="attached", attached_host=host, deleted=0,
    )  # fmt: skip
    cinder = _db("cinder", "cinder", "Cinder database", "cinder", {"volume_attachment": [att]})
    return InstanceFacts(
        uuid=INSTANCE,
        cell_uuid=CELL0_UUID if cell0 else "11111111-2222-4333-8444-555555555555",
        cell_name=cell_name,
        instance=inst,
        cell=cell,
        api=None,
        placement=None,
        cinder=cinder,
        read_at=NOW,
    )


def volume_facts(
    *,
    status: str = "detaching",
    migration_status: str | None = None,
    host: str = "cinder-vol@lvm#lvm",
    project_id: str = "p1",
    type_name: str = "lvm",
    attached_host: str = "cmp-01",
    mountpoint: str = "/dev/vdb",
    display_name: str = "data",
) -> VolumeFacts:
    """A volume stuck detaching with one live attachment (no Nova database given)."""
    vol = full_row(
        "cinder", "volumes", id=VOLUME, deleted=0, status=status, attach_status="attached",
        migration_status=migration_status, host=host, project_id=project_id, volume_type_id="t1",
        display_name=display_name, size=10, updated_at=NOW - dt.timedelta(days=1),
    )  # fmt: skip
    att = full_row(
        "cinder", "volume_attachment", id="a1b2c3d4-0000-4000-8000-000000000002", volume_id=VOLUME,
        instance_uuid=ATTACHED_TO, attach_status="attached", attached_host=attached_host,
        mountpoint=mountpoint, deleted=0,
    )  # fmt: skip
    vtype = full_row("cinder", "volume_types", id="t1", name=type_name, deleted=0)
    cinder = _db(
        "cinder", "cinder", "Cinder database", "cinder",
        {"volumes": [vol], "volume_attachment": [att], "volume_types": [vtype]},
    )  # fmt: skip
    return VolumeFacts(volume_id=VOLUME, cinder=cinder, usage=None, read_at=NOW)


def vm_plan(**values: object) -> Plan:
    return plan_vm(vm_facts(**values), VmOptions(op="soft-delete"))  # type: ignore[arg-type]


def volume_plan(**values: object) -> Plan:
    return plan_reset_detached(volume_facts(**values), VolumeOptions(op="reset-detached"))  # type: ignore[arg-type]


def render(plan: Plan) -> tuple[list[RenderedFile], str]:
    """SQL files and runbook, as `pipeline.assemble` renders them (no shell scripts, no lint)."""
    sql_files, _ = render_sql(plan)
    run = [f for f in sql_files if f.phase != "rollback"]
    back = [f for f in sql_files if f.phase == "rollback"]
    return sql_files, render_runbook(plan, "20260102T030405Z-test", "2026-01-02T03:04:05Z", run, back)
