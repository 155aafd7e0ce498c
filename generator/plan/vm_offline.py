"""VM operations planned offline, from the catalog schema of a named release.

The same Nova semantics as the live planners, expressed as scopes that select
the rows still needing a change at run time, plus preconditions checked at run
time in place of the facts a live bundle reads at generation (the instance
exists in the database the file is run against; it is not a healthy running
server unless --allow-healthy-instance, no task_state changed less than
--stale-after ago unless --allow-recent-transition; the rehost target is an enabled compute node). What a
live bundle knows and an offline one cannot (a migration's placement consumer
lives in another database) is said in the warnings.
"""

from __future__ import annotations

from sqlglot import exp

from generator import catalog
from generator.domain import nova
from generator.domain.staleness import format_duration, recently_updated_sql
from generator.errors import FixpackError, SchemaProblem
from generator.ops.operations import (
    DeleteRows,
    Operation,
)
from generator.plan import builders as b
from generator.plan.model import (
    ApiCommand,
    ControllerActions,
    DatabaseTarget,
    Plan,
    Postcondition,
    SessionValue,
    offline_target,
)
from generator.plan.overrides import override_record
from generator.plan.recipe import evaluate_offline, offline_step
from generator.plan.vm_common import VmOptions, instance_deleted_postcondition
from generator.plan.vm_offline_cinder import WITH_CINDER_WARNING, offline_cinder_side
from generator.plan.vm_pci import OFFLINE_PCI_WARNING, held_step
from generator.plan.vm_recipes import (
    PURGE_API,
    RELEASE_ALLOCATIONS,
    SOFT_DELETE_API,
    SOFT_DELETE_CELL_RELATED,
    SOFT_DELETE_INSTANCE,
    purge_cell_steps,
)
from generator.plan.vm_shares import offline_shares
from generator.schema.model import SchemaSnapshot

# Nova's move swaps the source allocations to a consumer named by the migration's uuid
# (MigrationTask / live migration); the cell holds those uuids, placement the allocations.
MIGRATION_CONSUMERS_WARNING = (
    "allocations held by the instance's migrations (placement consumer = migration uuid, listed by the Nova "
    "cell precheck as `migration` lines) are not known offline and not freed by this bundle: for each, "
    "`openstack resource provider allocation show CONSUMER`, then `openstack resource provider allocation "
    "delete CONSUMER`"
)


def service_release(option: str, name: str) -> str:
    """A per-service release (--cinder-release, --placement-release): a catalog release, or one line
    naming the option (Nova and Cinder or Placement often run different releases)."""
    try:
        return catalog.get_release(name).name
    except SchemaProblem as exc:
        raise SchemaProblem(f"{option}: {exc}") from None


def _delete(role: str, schema: SchemaSnapshot, table: str, scope, purpose: str) -> DeleteRows:
    return DeleteRows(role, table, schema.table(table).primary_key, purpose, scope=scope)


def _not_healthy(u: str, options: VmOptions) -> list[Postcondition]:
    if "healthy-instance" in options.allow:
        return []
    done: list[exp.Expr] = []
    if options.op == "rehost" and options.to_host and options.to_node:
        # a re-run after the rehost ended a live migration (task_state NULL) finds it healthy on the target
        done = [b.not_(exp.and_(b.eq("host", options.to_host), b.eq("node", options.to_node)))]
    return [
        Postcondition(
            "nova",
            "the instance is not a healthy running server (active, running, no task; "
            + ("unless already on the rehost target; " if done else "")
            + "--allow-healthy-instance to override)",
            b.count_is(
                "instances",
                0,
                b.eq("uuid", u),
                b.eq("deleted", 0),
                b.eq("vm_state", "active"),
                b.eq("power_state", nova.RUNNING),
                exp.Is(this=exp.column("task_state"), expression=exp.Null()),
                *done,
            ),
        )
    ]


def _not_recent(u: str, options: VmOptions) -> list[Postcondition]:
    """The staleness rule at run time: no task_state changed less than --stale-after ago."""
    if "recent-transition" in options.allow:
        return []
    return [
        Postcondition(
            "nova",
            f"no task_state changed less than {format_duration(options.stale_after)} ago "
            "(--allow-recent-transition, --stale-after)",
            b.count_is(
                "instances",
                0,
                b.eq("uuid", u),
                b.eq("deleted", 0),
                exp.Not(this=exp.Is(this=exp.column("task_state"), expression=exp.Null())),
                recently_updated_sql(options.stale_after),
            ),
        )
    ]


# What an offline VM delete leaves to do in Cinder without --with-cinder (a live bundle does it:
# plan/vm_cinder.py; --with-cinder: plan/vm_offline_cinder.py).
CINDER_OFFLINE = (
    "offline bundle: Cinder is not changed. For each volume the Nova cell precheck lists, end its "
    "attachment after the apply, as Nova's delete does: `cinder --os-volume-api-version 3.27 "
    "attachment-delete ATTACHMENT_ID` (its attachment_id; none: `cinder reset-state --state available "
    "--attach-status detached VOLUME_ID`); then, for each one with delete_on_termination = 1, "
    "`openstack volume delete VOLUME_ID` (Cinder's delete also removes the backend volume); "
    "or generate with --with-cinder, which adds the Cinder step group"
)


def plan_vm_offline(uuid: str, options: VmOptions, release: str) -> Plan:
    rel = catalog.get_release(release).name
    if options.placement_release and options.op == "rehost":
        raise FixpackError(
            "--placement-release is for soft-delete and purge (offline rehost leaves Placement alone)"
        )
    placement_rel = service_release("--placement-release", options.placement_release or rel)
    how = "--placement-release" if placement_rel != rel else "--release"
    cell, api = offline_target("nova", rel), offline_target("nova_api", rel)
    placement = offline_target("placement", placement_rel, how)
    u = uuid
    where = (
        "run the file against its cell"
        if options.op != "purge"
        else "a re-run after a finished purge stops here: nothing is left"
    )
    exists = Postcondition(
        "nova", f"instance {u} is in this database ({where})", b.count_is("instances", 1, b.eq("uuid", u))
    )
    pre = [exists, *_not_healthy(u, options), *_not_recent(u, options)]
    session: tuple[SessionValue, ...] = ()  # read per transaction before the scopes (rehost only)
    warnings = [
        "offline bundle: rows are found when the files run; compare the precheck's row counts with what you "
        "expect before the apply, and run the capture files first — they write the rollback",
    ]
    ops: list[Operation] = []
    posts: list[Postcondition] = []
    if options.with_cinder and options.op not in ("soft-delete", "purge"):
        raise FixpackError("--with-cinder is for soft-delete and purge (rehost leaves Cinder alone)")
    if options.cinder_release and not options.with_cinder:
        raise FixpackError("--cinder-release names the release of the Cinder database --with-cinder writes")
    if options.op in ("soft-delete", "purge"):
        warnings.append(WITH_CINDER_WARNING if options.with_cinder else CINDER_OFFLINE)
        warnings.append(OFFLINE_PCI_WARNING)
    if options.op == "soft-delete":
        ops, posts = _soft_delete(cell.schema, api.schema, placement.schema, u)
        share_ops, share_posts, share_warnings = offline_shares(cell.schema, rel, u)
        ops, posts = share_ops + ops, posts + share_posts
        warnings += share_warnings
        warnings.append(MIGRATION_CONSUMERS_WARNING)
        # The cell database first: its preconditions (the instance is there, not healthy) gate
        # everything, since an offline bundle only learns them at run time.
        order: tuple[DatabaseTarget, ...] = (cell, api, placement)
    elif options.op == "purge":
        ops, posts = _purge(cell.schema, api.schema, placement.schema, u, options.include_shadow)
        warnings.append(
            MIGRATION_CONSUMERS_WARNING
            + "; do it before the apply: the purge deletes the migrations rows, the "
            "only record of which consumers they are (the rollback restores them)"
        )
        order = (cell, api, placement)
    elif options.op == "rehost":
        if not options.to_host or not options.to_node:
            raise FixpackError(
                "offline rehost needs --to-host and --to-node (the compute node's "
                "hypervisor_hostname), which a live bundle would look up"
            )
        from generator.plan.vm_offline_rehost import OFFLINE_REHOST_WARNINGS, offline_rehost
        from generator.plan.vm_offline_rehost_outcome import session_values

        ops, posts, more_pre = offline_rehost(cell.schema, u, options.to_host, options.to_node, options)
        pre += more_pre
        session = session_values(u, options.to_host, options.to_node)
        warnings += OFFLINE_REHOST_WARNINGS
        order = (cell,)
    else:
        raise FixpackError(f"unknown VM operation {options.op!r}")
    if options.with_cinder:  # after the Nova files: the cell precondition gates the repair first
        cinder_rel = service_release("--cinder-release", options.cinder_release or rel)
        cinder_db = offline_target(
            "cinder", cinder_rel, "--cinder-release" if cinder_rel != rel else "--release"
        )
        cinder_ops, cinder_posts, cinder_pre = offline_cinder_side(cinder_db, u)
        ops, posts, pre = ops + cinder_ops, posts + cinder_posts, pre + cinder_pre
        order += (cinder_db,)
    return Plan(
        target_kind="vm",
        op=options.op,
        targets=(u,),
        mode="offline",
        release=rel,
        databases=order,
        operations=tuple(ops),
        postconditions=tuple(posts),
        preconditions=tuple(pre),
        session_values=session,
        findings=(f"offline plan for instance {u} from the {rel} catalog schema (no database was given)",),
        warnings=tuple(warnings),
        api_first=(
            ApiCommand(f"openstack server show {u}", "see what Nova thinks first"),
            ApiCommand(
                f"openstack server set --state error {u} && openstack server delete {u}",
                "let Nova delete it (a down compute host makes the API delete locally)",
            ),
        ),
        controller=ControllerActions(instance_uuid=u, volumes_from_capture=options.with_cinder)
        if options.op != "rehost"
        else None,
        options={
            **override_record(options),
            "offline": True,
            "to_host": options.to_host,
            "to_node": options.to_node,
            # soft-delete/purge leave a domain, VIFs and volume connections on a host the
            # bundle cannot know: the precheck prints it, shell/compute.sh discovers the rest
            "host_side": "instance" if options.op != "rehost" else None,
            "instance_name_template": options.instance_name_template,
            "instances_path": options.instances_path,
            **({"with_cinder": True} if options.with_cinder else {}),
        },
    )


def _release_pci(cell: SchemaSnapshot, u: str) -> Operation:
    """PciDevice.free() on the instance's own devices (vm_pci.held_step); their PF/VF relatives
    are not changed offline (OFFLINE_PCI_WARNING says what to check by hand)."""
    (op,) = offline_step(held_step(), cell, [u]).operations
    return op


def _soft_delete(cell: SchemaSnapshot, api: SchemaSnapshot, placement: SchemaSnapshot, u: str):
    """vm_recipes' steps as run-time scopes; the PCI devices the instance holds are released
    before its row (the live planner's vm_pci also carries their PF/VF relatives)."""
    schemas = {"nova": cell, "nova_api": api, "placement": placement}
    api_side = evaluate_offline(SOFT_DELETE_API, schemas, [u])
    related = evaluate_offline(SOFT_DELETE_CELL_RELATED, schemas, [u])
    instance = evaluate_offline([SOFT_DELETE_INSTANCE], schemas, [u])
    placement_side = evaluate_offline(RELEASE_ALLOCATIONS, schemas, [u])
    pci = _release_pci(cell, u)
    ops = [*api_side.operations, *related.operations, pci, *instance.operations, *placement_side.operations]
    posts = [
        *related.postconditions,
        instance_deleted_postcondition(u),
        *api_side.postconditions,
        *placement_side.postconditions,
    ]
    return ops, posts


def _purge(cell: SchemaSnapshot, api: SchemaSnapshot, placement: SchemaSnapshot, u: str, shadow: bool):
    """vm_recipes' purge as run-time scopes, after releasing (never deleting) the PCI devices."""
    schemas = {"nova": cell, "nova_api": api, "placement": placement}
    pci = _release_pci(cell, u)
    done = (
        evaluate_offline(purge_cell_steps(cell, include_shadow=shadow), schemas, [u])
        + evaluate_offline(PURGE_API, schemas, [u])
        + evaluate_offline(RELEASE_ALLOCATIONS, schemas, [u])
    )
    return [pci, *done.operations], list(done.postconditions)
