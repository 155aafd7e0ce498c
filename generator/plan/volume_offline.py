"""Volume repairs planned offline, from the catalog schema of a named release.

The same Cinder semantics as the live planners (domain/cinder.py), expressed as
scopes that select the rows still needing a change when the files run, and
preconditions checked then in place of the facts a live bundle reads (the volume
exists in the database the file runs against; no service is working on it; no
live snapshots without --cascade; no active instance holds it). Values a live
bundle computes at generation are computed by the apply itself: the volume's
status from the attachments that remain, a closed attachment's connector from its
legacy attachment_specs (volume_offline_connector.py; the detach steps in
volume_offline_detach.py), and each quota_usages row's in_use from
Cinder's recount of the rows left — correlated subqueries, so the recount sees the
volume already deleted within the same transaction.

Supported: reset-detached (with --detach-nova: Nova's BDMs, the cell file first so
its precondition gates everything) and soft-delete. detach-from-nova and purge
need the live rows (which instances, which connection, which backups stay).
"""

from __future__ import annotations

from sqlglot import exp

from generator import catalog
from generator.domain import cinder
from generator.domain.staleness import format_duration, recently_updated_sql
from generator.errors import FixpackError
from generator.plan import builders as b
from generator.plan import volume_offline_connector as connector
from generator.plan import volume_recipes as recipes
from generator.plan.cinder_recipes import bdm_soft_delete, close_of_volume
from generator.plan.model import ApiCommand, DatabaseTarget, Plan, Postcondition, offline_target
from generator.plan.overrides import override_record
from generator.plan.recipe import Evaluated, conjuncts, evaluate_offline, offline_step
from generator.plan.volume_common import ACTIVE_VM_STATES, VolumeOptions
from generator.plan.volume_offline_detach import Status, fixed_status, offline_detach, status_from_staying
from generator.plan.volume_offline_quota import quota_recount_ops
from generator.schema.model import SchemaSnapshot
from generator.sqlgen.builders import isin as _in
from generator.sqlgen.builders import parse as _sql
from generator.sqlgen.literals import sql_literal


def _none(description: str, table: str, *conds: exp.Expr) -> Postcondition:
    return Postcondition("cinder", description, b.count_is(table, 0, *conds))


def plan_volume_offline(uuid: str, options: VolumeOptions, release: str) -> Plan:
    rel = catalog.get_release(release).name
    c = offline_target("cinder", rel)
    u = uuid
    pre = [
        Postcondition("cinder", f"volume {u} is in this database", b.count_is("volumes", 1, b.eq("id", u)))
    ]
    pending: exp.Expr | None = None
    warnings = [
        "offline bundle: rows are found when the files run; compare the precheck's row counts with what you "
        "expect before the apply, and run the capture files first — they write the rollback",
    ]
    if options.op == "reset-detached":
        ops, posts, nova_pre = _reset_detached(c.schema, u, options, rel)
        # the busy checks hold while the bundle still changes the volume: a volume that keeps its
        # 'uploading' status (attachment-delete) carries the apply's updated_at, and a re-run must
        # not take that for a service at work
        closing = conjuncts(close_of_volume(options.instances).where([u]))
        of_closing = exp.select("volume_id").from_("volume_attachment").where(exp.and_(*closing))
        status_left = next(o for o in ops if o.table == "volumes").scope.tree()
        pending = exp.Paren(this=exp.or_(exp.column("id").isin(query=of_closing), status_left))
        pre += connector.connector_preconditions(closing)
        dbs: tuple[DatabaseTarget, ...] = (c,)
        if options.detach_nova:
            dbs = (offline_target("nova", rel), c)
            pre += nova_pre
            warnings.append(
                "offline: the compute host and connection were not known at generation, so there is no "
                "compute-node script; the Nova precheck prints the host and the connection (IQN, portal, "
                "LUN): log out of a stale iSCSI/FC session there by hand (iscsiadm -m session) after the "
                "apply"
            )
        else:
            warnings.append("offline: Nova's block_device_mapping is not checked or changed (--detach-nova)")
    elif options.op == "soft-delete":
        ops, posts, more = _soft_delete(c.schema, u, options, rel)
        pre += more
        dbs = (c,)
    else:
        raise FixpackError(
            f"offline {options.op} is not supported: it needs the live rows (pass --cinder-url and "
            "--nova-api-url)"
        )
    pre[1:1] = _not_busy(u, options, pending)
    return Plan(
        target_kind="volume",
        op=options.op,
        targets=(u,),
        mode="offline",
        release=rel,
        databases=dbs,
        operations=tuple(ops),
        postconditions=tuple(posts),
        preconditions=tuple(pre),
        findings=(f"offline plan for volume {u} from the {rel} catalog schema (no database was given)",),
        warnings=tuple(warnings),
        api_first=(
            ApiCommand(f"openstack volume show {u} -c status -c attachments", "see what Cinder thinks first"),
            ApiCommand(
                f"cinder reset-state --state available --attach-status detached {u}"
                if options.op == "reset-detached"
                else f"cinder force-delete {u}",
                "Cinder's own way, which this bundle replaces",
            ),
        ),
        options={
            **override_record(options),
            "offline": True,
            "cascade": options.cascade,
            "host_side": "volume",  # the prechecks print the attachments' hosts and connections
        },
    )


def _not_busy(u: str, options: VolumeOptions, pending: exp.Expr | None = None) -> list[Postcondition]:
    """No service may be working on the volume: the staleness rule and the migration rule, at run time
    (`pending`: only while the bundle still has something to change on it)."""
    extra = [pending.copy()] if pending is not None else []
    moving = _sql(
        f"migration_status IN ({', '.join(sql_literal(s) for s in cinder.TRANSITIONAL_MIGRATION)}) "
        "OR migration_status LIKE 'target:%'"
    )
    out = []
    if "recent-transition" not in options.allow:
        out.append(
            Postcondition(
                "cinder",
                f"no transitional status changed less than {format_duration(options.stale_after)} ago "
                "(--allow-recent-transition, --stale-after)",
                b.count_is(
                    "volumes",
                    0,
                    b.eq("id", u),
                    b.eq("deleted", 0),
                    _in("status", tuple(cinder.TRANSITIONAL_STATUSES)),
                    recently_updated_sql(options.stale_after),
                    *extra,
                ),
            )
        )
    if "migrating" not in options.allow:
        out.append(
            Postcondition(
                "cinder",
                "the volume is not being migrated (--allow-migrating to override)",
                b.count_is("volumes", 0, b.eq("id", u), b.eq("deleted", 0), exp.Paren(this=moving)),
            )
        )
    return out


def _reset_detached(schema: SchemaSnapshot, u: str, options: VolumeOptions, release: str):
    """cinder_recipes' steps bound to the volume (volume_offline_detach.py). The close first: it writes
    the connector from the legacy specs still live, which the next step then soft-deletes
    (volume_offline_connector.py says why the order and scope hold). The status follows from the
    attachments that *stay* (not those this bundle closes), so its scope means the same before the
    apply (capture), after it, and on a re-run."""
    status: Status
    if options.instances:
        # attachment-delete of those attachments: a volume being uploaded or migrated keeps its status
        # once none stays (volume_detached), decided when the file runs, as the live plan decides it
        status = status_from_staying(sql_literal(u), options.instances, keep_busy=True)
    else:  # reset-state: available/detached
        status = fixed_status("available", cinder.ATTACH_DETACHED)
    steps = offline_detach(schema, close_of_volume(options.instances), u, u, status)
    order = ("volume_attachment", "attachment_specs", "volume_admin_metadata", "volumes")
    done = sum((steps[table] for table in order), Evaluated())
    ops, posts = list(done.operations), list(done.postconditions)
    nova_pre: list[Postcondition] = []
    if options.detach_nova:
        bdm = bdm_soft_delete(options.instances, "the instance no longer uses the volume")
        if "active-user" not in options.allow:
            active = (
                exp.select("uuid")
                .from_("instances")
                .where(exp.and_(b.eq("deleted", 0), _in("vm_state", ACTIVE_VM_STATES)))
            )
            nova_pre.append(
                Postcondition(
                    "nova",
                    "no active instance still has the volume in its block devices (--allow-active-user to "
                    "override)",
                    b.count_is(
                        "block_device_mapping",
                        0,
                        *conjuncts(bdm.where([u])),
                        exp.column("instance_uuid").isin(query=active),
                    ),
                )
            )
        nova = offline_step(bdm, catalog.catalog_snapshot(release, "nova"), [u])
        ops[:0] = nova.operations
        posts += nova.postconditions
    return ops, posts, nova_pre


def _cascade_preconditions(u: str, options: VolumeOptions) -> list[Postcondition]:
    """At run time, what volume_common.refuse_cascade_snapshots refuses live."""
    live = (b.eq("volume_id", u), b.eq("deleted", 0))
    pre = [
        Postcondition(
            "cinder",
            f"no live snapshot of the volume is in a {what}, which Cinder's delete refuses even forced "
            f"(delete the {what} first)",
            b.count_is("snapshots", 0, *(c.copy() for c in live), b.not_(b.is_null(column))),
        )
        for column, what in cinder.SNAPSHOT_GROUP_COLUMNS
    ]
    if "snapshot-status" not in options.allow:
        pre.append(
            Postcondition(
                "cinder",
                "every live snapshot of the volume is available or error, as Cinder's delete requires "
                "(--allow-snapshot-status)",
                b.count_is(
                    "snapshots",
                    0,
                    *(c.copy() for c in live),
                    b.not_(b.isin("status", cinder.CASCADE_DELETABLE_SNAPSHOT)),
                ),
            )
        )
    return pre


def _soft_delete(schema: SchemaSnapshot, u: str, options: VolumeOptions, release: str):
    pre: list[Postcondition] = []
    if not options.cascade:
        pre.append(
            Postcondition(
                "cinder",
                "the volume has no live snapshots (--cascade deletes them)",
                b.count_is("snapshots", 0, b.eq("volume_id", u), b.eq("deleted", 0)),
            )
        )
    if "attached" not in options.allow:
        pre.append(
            Postcondition(
                "cinder",
                "the volume is not attached, as Cinder's delete requires (--allow-attached)",
                b.count_is(
                    "volume_attachment",
                    0,
                    b.eq("volume_id", u),
                    b.eq("deleted", 0),
                    b.eq("attach_status", cinder.ATTACHED),
                ),
            )
        )
    if "group-member" not in options.allow:
        grouped = _sql("group_id IS NOT NULL OR consistencygroup_id IS NOT NULL")
        pre.append(
            Postcondition(
                "cinder",
                "the volume belongs to no group, as Cinder's delete requires (--allow-group-member)",
                b.count_is("volumes", 0, b.eq("id", u), b.eq("deleted", 0), exp.Paren(this=grouped)),
            )
        )
    if options.cascade:
        pre += _cascade_preconditions(u, options)
    schemas = {"cinder": schema}
    done = Evaluated()
    # found at run time; without --cascade no snapshot is taken (the precondition above: none is
    # live), so the workers of snapshots deleted long ago stay, as Cinder's delete and live leave them
    cascaded = recipes.live_snapshots(u)
    taken: recipes.Snapshots = recipes.every_snapshot(u) if options.cascade else ()
    steps = recipes.soft_delete(release, u, cascade=options.cascade, cascaded=cascaded, taken=taken)
    for step, targets in steps:
        done += evaluate_offline([step], schemas, targets)
    ops = list(done.operations)
    posts = [*done.postconditions, recipes.volume_deleted(u)]
    qops, qposts = quota_recount_ops(u, release, no_snapshot_gb_quota=options.no_snapshot_gb_quota)
    return ops + qops, posts + qposts, pre
