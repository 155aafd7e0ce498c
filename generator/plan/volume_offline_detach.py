"""Cinder's detach as run-time scopes: plan/cinder_recipes.py's steps evaluated offline, for volume
reset-detached and the VM repairs' offline Cinder group (plan/vm_offline_cinder.py).

What a live plan reads from rows and an offline one computes when the files run, in one place:
the attachments whose specs go (those the close selects that are live, or closed with their
connector: volume_offline_connector.py says why), the connector each close writes (SQL from the
live specs), and the volume's status/attach_status from the attachments that stay. Each caller binds
the steps (one volume, or one instance's attachments) and orders them so each scope keeps meaning
"still to do" across the apply's rounds.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.ops.operations import Assignment, FromQuery, SetValue
from generator.plan import builders as b
from generator.plan import volume_offline_connector as connector
from generator.plan.cinder_recipes import ATTACHED_MODE, SPECS, volume_status
from generator.plan.recipe import Evaluated, Step, bind, conjuncts, offline_step
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import parse_query
from generator.sqlgen.literals import sql_literal

# A volume's status/attach_status as the apply sets them, and the two values as a scope compares them.
Status = tuple[dict[str, Assignment], tuple[exp.Expr, exp.Expr]]


def offline_detach(
    schema: SchemaSnapshot,
    close: Step,
    target: str,
    volumes: object,
    status: Status,
) -> dict[str, Evaluated]:
    """By table: the close of `close` bound to `target` (writing the connector from the live specs),
    the specs of its attachments, and the attached_mode and status of `volumes` (a volume id, or a
    `Selected` query), whose `status` (assignments, and the values a scope compares) the caller
    computes (`status_from_staying`) and which change only where the status is not yet that."""
    assigned, wanted = status
    with_connector = replace(
        close, assignments=(*close.assignments, ("connector", connector.connector_from_live_specs()))
    )
    pending = exp.and_(b.eq("deleted", 0), status_differs(wanted))
    attachments = conjuncts(bind(close.scope, [target]))  # the close's without `deleted = 0`
    return {
        "volume_attachment": offline_step(with_connector, schema, [target]),
        "attachment_specs": offline_step(SPECS, schema, [connector.specs_attachments(attachments)]),
        "volume_admin_metadata": offline_step(ATTACHED_MODE, schema, [volumes]),
        "volumes": offline_step(
            volume_status(assigned["status"], assigned["attach_status"], pending), schema, [volumes]
        ),
    }


def status_from_staying(volume: str, leaving: tuple[str, ...], *, keep_busy: bool = False) -> Status:
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


def fixed_status(status: str, attach_status: str) -> Status:
    """The volume's status/attach_status set to known values (reset-state's available/detached)."""
    assigned: dict[str, Assignment] = {"status": SetValue(status), "attach_status": SetValue(attach_status)}
    return assigned, (exp.Literal.string(status), exp.Literal.string(attach_status))


def status_differs(wanted: tuple[exp.Expr, exp.Expr]) -> exp.Expr:
    """The volume's status or attach_status is not yet `wanted` (NULL-safe)."""
    return exp.Paren(
        this=exp.or_(
            exp.Not(this=exp.NullSafeEQ(this=exp.column("status"), expression=wanted[0])),
            exp.Not(this=exp.NullSafeEQ(this=exp.column("attach_status"), expression=wanted[1])),
        )
    )
