"""The pipeline, end to end: facts -> plan -> render -> lint -> bundle.

The CLI is a thin layer over these functions; tests and benchmarks call them
directly. `assemble()` is shared by every operation: whatever produced the
Plan (live facts, the offline catalog, a batch), rendering, linting and
writing are one code path.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from generator import __version__
from generator.bundle import preimages
from generator.bundle.digest import PLACEHOLDER, seal
from generator.bundle.manifest import build_manifest, manifest_text
from generator.bundle.writer import write_atomically
from generator.errors import FixpackError, LintFailure
from generator.lint import LintInput, lint_files, shellcheck, tables_named
from generator.lint.report import LintReport
from generator.plan.model import Plan
from generator.render.runbook import OFFLINE_COMPUTE_TARGET, render_runbook
from generator.render.shell import (
    render_compute_script,
    render_controller_script,
    render_offline_compute_script,
    script_name,
)
from generator.render.sql import DEFAULT_CHUNK_ROWS, RenderedFile, render_sql
from generator.render.writeset import chunking_notes


@dataclass(frozen=True)
class OutputOptions:
    out_dir: Path = Path("out")
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    allow_lint_failures: bool = False
    use_lint_cache: bool = True
    now: dt.datetime | None = None  # fixed clock for golden tests


@dataclass(frozen=True)
class BundleResult:
    path: Path
    plan: Plan
    manifest: dict
    lint: LintReport
    timings: dict[str, float] = field(default_factory=dict)
    round_trips: int = 0
    digest: str = ""  # the bundle digest (bundle/digest.py): what `fixpack verify --expect` checks


def bundle_id_for(plan: Plan, now: dt.datetime) -> str:
    first = plan.targets[0] if plan.targets else "none"
    suffix = first.split("-")[0][:8] if len(plan.targets) == 1 else f"batch{len(plan.targets)}"
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{plan.target_kind}-{plan.op}-{suffix}"


def _schema_json(plan: Plan, sql_files: list[RenderedFile]) -> dict:
    touched: dict[str, set[str]] = {}
    for op in plan.operations:
        touched.setdefault(op.database, set()).add(op.table)
    for f in sql_files:  # every table the SQL names: `fixpack lint BUNDLE` checks against this record
        touched.setdefault((f.target or "").removeprefix("db:"), set()).update(tables_named(f.text))
    out = {}
    for db in plan.databases:
        out[db.role] = {"release": db.release, **db.schema.to_dict(only=touched.get(db.role, set()))}
    return out


def _offline_compute_file(plan: Plan, uuid: str, bundle_id: str) -> RenderedFile:
    """An offline VM bundle's compute script for one instance: its host is the one the precheck prints."""
    path = str(plan.options.get("instances_path") or "/var/lib/nova/instances")
    return RenderedFile(
        "shell/compute.sh" if len(plan.targets) == 1 else f"shell/compute-{uuid[:8]}.sh",
        "shell",
        "apply",
        OFFLINE_COMPUTE_TARGET,
        f"compute-node cleanup of instance {uuid} on its compute host (printed by the precheck): libvirt "
        "domain, VIF plumbing, iSCSI sessions, instance directories, all discovered on the host at run "
        "time (dry run unless --execute)",
        render_offline_compute_script(
            uuid, bundle_id=bundle_id, fixpack_version=__version__, instances_path=path
        ),
    )


def shell_compute_files(plan: Plan, bundle_id: str) -> list[RenderedFile]:
    """The compute-host scripts of a bundle (one per instance and host): rendered before the SQL, so
    shellcheck checks them while the SQL renders (tools/ship_shellcheck_verdicts.py renders them too)."""
    shell_files: list[RenderedFile] = []
    hosts = [c.host for c in plan.compute]
    for cleanup in plan.compute:
        name = script_name(cleanup.host, hosts, "source" if cleanup.move_leftovers else "compute")
        if hosts.count(cleanup.host) > 1:  # a batch with several instances on one host
            name = name.removesuffix(".sh") + f"-{cleanup.instance_uuid[:8]}.sh"
        shell_files.append(
            RenderedFile(
                f"shell/{name}",
                "shell",
                "apply",
                f"host:{cleanup.host}",
                (
                    f"compute-node disconnect of the detached volume(s) of instance {cleanup.instance_uuid} "
                    f"on {cleanup.host}: storage sessions and SCSI disks only (dry run unless --execute)"
                )
                if cleanup.volumes_only
                else (
                    f"source-host cleanup after the rehost of instance {cleanup.instance_uuid}: what the "
                    f"failed move left on {cleanup.host} (the _resize directory, VIF plumbing, storage "
                    "sessions no other domain uses; refused while the domain runs there; "
                    "dry run unless --execute)"
                )
                if cleanup.move_leftovers
                else f"compute-node cleanup of instance {cleanup.instance_uuid} on {cleanup.host}: libvirt "
                "domain, VIF plumbing, storage sessions, instance directories (dry run unless --execute)",
                render_compute_script(cleanup, bundle_id=bundle_id, fixpack_version=__version__),
            )
        )
    if plan.mode == "offline" and plan.options.get("host_side") == "instance":
        shell_files += [_offline_compute_file(plan, uuid, bundle_id) for uuid in plan.targets]
    return shell_files


def shell_controller_files(plan: Plan, bundle_id: str, sql_files: list[RenderedFile]) -> list[RenderedFile]:
    """The controller scripts of a bundle (offline ones read what the Nova cell capture in `sql_files`
    writes)."""
    controllers = [plan.controller] if plan.controller is not None else []
    controllers += list(plan.extra_controllers)
    # offline: where the Nova cell capture writes the delete_on_termination volumes controller.sh reads
    nova_capture = next((f.produces for f in sql_files if f.produces and f.target == "db:nova"), None)
    return [
        RenderedFile(
            "shell/controller.sh"
            if len(controllers) == 1
            else f"shell/controller-{(actions.instance_uuid or str(n))[:8]}.sh",
            "shell",
            "apply",
            "controller",
            (
                f"API-side end of the rehost to {actions.rehost_host}: Neutron ports rebound, volume "
                "attachments refreshed with the target's connector (--connector; else the commands are "
                "printed) (dry run unless --execute)"
            )
            if actions.rehost_host
            else "API-side cleanup: Neutron ports, shelved image, console tokens"
            + (
                ", delete_on_termination volumes (after the SQL apply)"
                if actions.volumes_to_delete
                else f", delete_on_termination volumes (read from {nova_capture}, after the SQL apply)"
                if actions.volumes_from_capture
                else ""
            )
            + " (dry run unless --execute)",
            render_controller_script(
                actions,
                bundle_id=bundle_id,
                fixpack_version=__version__,
                release=plan.release,
                offline=plan.mode == "offline",
                captured=nova_capture if actions.volumes_from_capture else None,
            ),
        )
        for n, actions in enumerate(controllers)
    ]


def assemble(
    plan: Plan, output: OutputOptions, *, timings: dict[str, float] | None = None, round_trips: int = 0
) -> BundleResult:
    timings = dict(timings or {})
    now = (output.now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    created_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    bundle_id = bundle_id_for(plan, now)

    t0 = time.perf_counter()
    chunking, lowered = chunking_notes(plan, output.chunk_rows)
    if lowered:  # said on the terminal and in the runbook's warnings
        plan = replace(plan, warnings=(*plan.warnings, *lowered))
    shell_files = shell_compute_files(plan, bundle_id)
    # shellcheck (a process per script, up to ~0.5 s each on an empty cache) checks the compute
    # scripts while the SQL renders; lint_files collects it with the controller scripts added
    shell_run = shellcheck.start({f.path: f.text for f in shell_files}, use_cache=output.use_lint_cache)
    try:
        sql_files, guards = render_sql(plan, output.chunk_rows)
        controller_files = shell_controller_files(plan, bundle_id, sql_files)
        prechecks = [f for f in sql_files if f.phase == "precheck" and not f.produces]
        captures = [f for f in sql_files if f.produces]
        applies = [f for f in sql_files if f.phase == "apply"]
        verifies = [f for f in sql_files if f.phase == "verify"]
        rollbacks = [f for f in sql_files if f.phase == "rollback"]
        run_order = prechecks + captures + shell_files + applies + controller_files + verifies
        steps = run_order + rollbacks
        runbook = render_runbook(
            plan, bundle_id, created_at, run_order, rollbacks, chunking=chunking, digest=PLACEHOLDER
        )
    except BaseException:  # nothing is written: no shellcheck left running
        shell_run.abandon()
        raise
    timings["render"] = time.perf_counter() - t0

    written = [f for f in steps if not f.produced_by]  # offline rollbacks are written at run time
    lint = lint_files(
        [
            LintInput(
                f.path, f.text, f.kind, (f.target or "").removeprefix("db:") if f.kind == "sql" else None
            )
            for f in written
        ],
        {db.role: db.schema for db in plan.databases},
        plan.targets,
        use_cache=output.use_lint_cache,
        shell_run=shell_run,
    )
    timings["lint"] = lint.seconds.get("total", 0.0)
    if not lint.passed and not output.allow_lint_failures:
        first = lint.findings[0]
        raise LintFailure(
            f"generated files failed lint ({len(lint.findings)} finding(s); first: "
            f"{first.describe()}); nothing written. --allow-lint-failures writes it anyway"
        )

    t0 = time.perf_counter()
    files = {f.path: f.text for f in written}
    files["README.md"] = runbook
    files["data/guards.json"] = json.dumps(guards, indent=2) + "\n"
    files["data/preimages.json"] = json.dumps(preimages.collect(plan.operations), indent=1) + "\n"
    files["data/schema.json"] = json.dumps(_schema_json(plan, sql_files), indent=1) + "\n"
    manifest = build_manifest(plan, bundle_id, created_at, steps, files, lint.as_dict())
    manifest["digest"] = PLACEHOLDER  # README.md and manifest.json name the digest: sealed below
    digest, files, text = seal(files, manifest_text(manifest))
    manifest["digest"] = digest
    path = write_atomically(output.out_dir, bundle_id, files, text)
    timings["write"] = time.perf_counter() - t0
    return BundleResult(path, plan, manifest, lint, timings, round_trips, digest)


def generate(
    targets,
    release: str,
    output: OutputOptions,
    *,
    read: Callable,
    plan: Callable,
    offline: Callable[[], Plan] | None = None,
) -> BundleResult:
    """The one skeleton every operation runs: live facts -> plan when any database is given,
    else `offline()` from the catalog of `release`; then render, lint and write.

    `read(live)` reads the facts through a LiveDatabases (sessions, detection and schemas
    shared, round trips counted); `plan(facts)` is the pure planner.
    """
    from generator.facts.live import LiveDatabases

    timings: dict[str, float] = {}
    if not targets.any:
        if offline is None:
            raise FixpackError("this operation needs live databases: pass connection options")
        t0 = time.perf_counter()
        planned = offline()
        timings["plan"] = time.perf_counter() - t0
        return assemble(planned, output, timings=timings)
    live = LiveDatabases(targets, release)
    try:
        t0 = time.perf_counter()
        facts = read(live)
        timings["facts"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        planned = plan(facts)
        timings["plan"] = time.perf_counter() - t0
        rounds = live.counter.count
    finally:
        live.close()
    return assemble(planned, output, timings=timings, round_trips=rounds)


def generate_vm(uuid: str, options, targets, release: str, output: OutputOptions) -> BundleResult:
    """A VM bundle: live when any database is given, else offline from the catalog of `release`."""
    from generator.facts.instance import read_instance
    from generator.plan.vm import plan_vm

    def offline() -> Plan:  # imported only when no database is given (11 ms a live run skips)
        from generator.plan.vm_offline import plan_vm_offline

        return plan_vm_offline(uuid, options, release)

    return generate(
        targets, release, output,
        read=lambda live: read_instance(live, uuid, to_host=options.to_host,
                                        include_shadow=options.include_shadow),
        plan=lambda facts: plan_vm(facts, options),
        offline=offline,
    )  # fmt: skip
