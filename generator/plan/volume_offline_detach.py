"""The offline steps of ending attachments in Cinder, shared by volume reset-detached and the VM
repairs' offline Cinder group (plan/vm_offline_cinder.py).

Cinder's `volume_detached` + `finish_detach` as run-time scopes: the close (its connector from the
live legacy specs, volume_offline_connector.py), the specs soft-deleted after it, the
`attached_mode` admin metadata, and the volume's status/attach_status from the attachments that
stay. Each caller scopes them (one volume, or one instance's attachments) and orders them so each
scope keeps meaning "still to do" across the apply's rounds.
"""

from __future__ import annotations

from sqlglot import exp

from generator.domain import cinder
from generator.ops.operations import ApplyTime, Assignment, FromQuery, SetValue, UpdateRows
from generator.plan import builders as b
from generator.plan import volume_offline_connector as connector
from generator.plan.builders import offline_update as _update
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import parse_query
from generator.sqlgen.literals import sql_literal

SOFT: dict[str, Assignment] = {"deleted": SetValue(True), "deleted_at": ApplyTime()}


def close_attachments(schema: SchemaSnapshot, closing: list[exp.Expr], description: str) -> UpdateRows:
    """End the attachments `closing` selects (live ones) as volume_detached does; their live legacy
    specs first become the connector (volume_offline_connector.py). Shared with the VM repairs'
    offline Cinder group (plan/vm_offline_cinder.py)."""
    return _update(
        "cinder",
        schema,
        "volume_attachment",
        {
            "attach_status": SetValue(cinder.ATTACH_DETACHED),
            **SOFT,
            "detach_time": ApplyTime(),
            "updated_at": ApplyTime(),  # the ORM's onupdate fires (domain/cinder.py)
            "connector": connector.connector_from_live_specs(),
        },
        b.scope_where(description, *closing),
        "close the attachment as volume_detached does (VolumeAttachment.delete_values); legacy specs "
        "first become the connector, as loading it does",
    )


def soft_delete_specs(schema: SchemaSnapshot, attachments: list[exp.Expr]) -> UpdateRows:
    """The legacy specs of the attachments `attachments` selects (without `deleted = 0`), after the close."""
    return _update(
        "cinder",
        schema,
        "attachment_specs",
        SOFT,
        connector.specs_scope(attachments),
        "soft-delete the legacy connector specs, as Cinder does when it loads the attachment",
    )


def drop_attached_mode(schema: SchemaSnapshot, volumes: exp.Expr, description: str) -> UpdateRows:
    """finish_detach's volume_admin_metadata_delete(volume, 'attached_mode') for the volumes selected."""
    return _update(
        "cinder",
        schema,
        "volume_admin_metadata",
        SOFT,
        b.scope_where(description, volumes, b.eq("key", "attached_mode"), b.eq("deleted", 0)),
        "forget the attach mode, as finish_detach does",
    )


def status_from_staying(
    volume: str, leaving: tuple[str, ...], *, keep_busy: bool = False
) -> tuple[dict[str, Assignment], tuple[exp.Expr, exp.Expr]]:
    """The volume's status/attach_status from its live attachments of instances other than `leaving`
    (`statuses_from_attachments` in SQL): the assignments and the two values as expressions (a scope
    compares them). `volume`: SQL for the volume's id — a literal, or `volumes.id` to correlate with
    the row being updated. `keep_busy`: keep the status when nothing stays attached while a migration or
    an upload runs (`detached_volume_statuses`; needs `volumes` as the updated table)."""
    a = "volume_attachment"
    stay = f" AND ({a}.instance_uuid IS NULL OR {a}.instance_uuid NOT IN ({{}}))".format(
        ", ".join(sql_literal(i) for i in leaving)
    )
    left = (
        f"FROM {a} WHERE {a}.volume_id = {volume} AND {a}.deleted = 0 "
        f"AND {a}.attach_status NOT LIKE 'error_%'{stay}"
    )
    attach = f"COALESCE(MIN({a}.attach_status), 'detached')"
    status = f"CASE {attach} WHEN 'attached' THEN 'in-use' WHEN 'detached' THEN 'available' ELSE {attach} END"
    if keep_busy:
        migration = "COALESCE(volumes.migration_status, '')"
        status = (
            f"CASE WHEN {attach} = 'detached' AND {migration} NOT IN ('success', 'error') "
            f"AND ({migration} <> '' OR volumes.status = 'uploading') THEN volumes.status ELSE {status} END"
        )
    status_q = parse_query(f"SELECT {status} {left}")
    attach_q = parse_query(f"SELECT {attach} {left}")
    assignments: dict[str, Assignment] = {
        "status": FromQuery(status_q, "status from the attachments that stay"),
        "attach_status": FromQuery(attach_q, "attach_status from the attachments that stay"),
    }
    return assignments, (status_q.subquery(), attach_q.subquery())


def status_differs(wanted: tuple[exp.Expr, exp.Expr]) -> exp.Expr:
    """The volume's status or attach_status is not yet `wanted` (NULL-safe)."""
    return exp.Paren(
        this=exp.or_(
            exp.Not(this=exp.NullSafeEQ(this=exp.column("status"), expression=wanted[0])),
            exp.Not(this=exp.NullSafeEQ(this=exp.column("attach_status"), expression=wanted[1])),
        )
    )
