"""Measure how much SQL a reviewer reads: every op, live and offline, on a seeded scratch database.

    python bench/bundle_size.py [--release 2025.1] [--keep]

Starts a private MariaDB (or uses FIXPACK_TEST_DB_URL), seeds one world per op (the VM world:
one stuck instance with two ports, metadata, a fault, actions and one volume among ten healthy
instances; the volume worlds of tests/volume_world.py), generates the live bundle and the offline
bundle of that op and prints, per bundle: SQL files, total SQL lines, the longest line, the rows
the (live) plan changes, and SQL lines per changed row. An offline bundle's rollback is captured
at run time, so its figure counts only the files in the bundle. Figures, not assertions: the
targets are asserted by tests/db/render/test_bundle_size.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.connect.sources import ConnectionOptions, ConnectionTargets, resolve
from generator.errors import FixpackError
from generator.jobs_volume import generate_volume
from generator.ops.operations import CheckRows, DeleteRows, InsertRows, UpdateRows
from generator.pipeline import BundleResult, OutputOptions, generate_vm
from generator.plan.model import Plan
from generator.plan.vm_common import VmOptions
from generator.plan.volume_common import VolumeOptions
from generator.scratch.deployment import Deployment, create_deployment
from generator.scratch.provider import provide
from generator.seed import Seeder

VM_OPS = ("soft-delete", "purge", "rehost")
VOLUME_OPS = ("reset-detached", "detach-from-nova", "soft-delete", "purge")


def changed_rows(plan: Plan) -> int:
    """Rows the plan changes (checks excluded): the denominator of lines per changed row."""
    n = 0
    for op in plan.operations:
        if isinstance(op, CheckRows):
            continue
        if isinstance(op, UpdateRows):
            n += len(op.changes or ())
        elif isinstance(op, DeleteRows | InsertRows):
            n += len(op.rows or ())
    return n


def sql_figures(bundle: Path) -> tuple[int, int, int]:
    """(SQL files, lines, longest line) over every .sql file of a bundle."""
    files = sorted(bundle.rglob("*.sql"))
    lines = [line for f in files for line in f.read_text(encoding="utf-8").splitlines()]
    return len(files), len(lines), max((len(line) for line in lines), default=0)


def seed_vm_world(dep: Deployment, op: str) -> str:
    """One stuck instance with ~20 rows to change: two ports, metadata, a fault, actions, a volume."""
    s = Seeder(dep, seed=11)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(10):
        s.instance(host=h1 if i % 2 else h2, volumes=i % 3)
    target = s.instance(
        host=h1,
        vm_state="error",
        task_state="deleting" if op != "rehost" else None,
        power_state=4,
        volumes=1,
        vif_types=("ovs_hybrid", "ovs"),
        migration="resize" if op == "rehost" else None,
        metadata={"role": "db"},
        faults=1,
        actions=2,
    )
    s.flush()
    return target.uuid


def live_targets(dep: Deployment) -> ConnectionTargets:
    urls = {role: dep.url(role).render(with_password=True) for role in ("nova_api", "placement", "cinder")}
    return resolve(ConnectionOptions(urls=urls), env={})


NO_DATABASE = resolve(ConnectionOptions(), env={})


def vm_bundles(dep: Deployment, op: str, release: str, out: Path) -> tuple[BundleResult, BundleResult | str]:
    uuid = seed_vm_world(dep, op)
    to_node = None
    if op == "rehost":
        to_node = dep.query("nova", "SELECT hypervisor_hostname FROM compute_nodes WHERE host = 'cmp-02'")[0][
            "hypervisor_hostname"
        ]
    options = VmOptions(op=op, to_host="cmp-02" if op == "rehost" else None)
    live = generate_vm(uuid, options, live_targets(dep), "auto", OutputOptions(out_dir=out / "live"))
    offline_options = VmOptions(op=op, to_host="cmp-02", to_node=to_node) if op == "rehost" else options
    try:
        offline: BundleResult | str = generate_vm(
            uuid, offline_options, NO_DATABASE, release, OutputOptions(out_dir=out / "offline")
        )
    except FixpackError as exc:
        offline = str(exc)
    return live, offline


def volume_bundles(
    dep: Deployment, op: str, release: str, out: Path
) -> tuple[BundleResult, BundleResult | str]:
    from tests.volume_world import seed_world  # the suite's volume scenarios, one per op

    sc = seed_world(dep, op)
    live = generate_volume(
        sc.volume.id,
        VolumeOptions(op=op, **sc.options),
        live_targets(dep),
        "auto",
        OutputOptions(out_dir=out / "live"),
    )
    try:
        offline: BundleResult | str = generate_volume(
            sc.volume.id,
            VolumeOptions(op=op, **sc.options),
            NO_DATABASE,
            release,
            OutputOptions(out_dir=out / "offline"),
        )
    except FixpackError as exc:
        offline = str(exc)
    return live, offline


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", default="2025.1")
    parser.add_argument("--keep", action="store_true", help="keep the generated bundles (path printed)")
    args = parser.parse_args()

    server = provide("auto")
    os.environ.setdefault("FIXPACK_CACHE_DIR", tempfile.mkdtemp(prefix="fixpack-bench-cache-"))
    out = Path(tempfile.mkdtemp(prefix="fixpack-bench-size-"))
    print(f"server: {server.description}; release {args.release}")
    header = f"{'kind':6} {'op':17} {'mode':7} {'files':>5} {'lines':>6} {'max len':>7} {'rows':>5} "
    header += f"{'lines/row':>9}"
    print(header)
    print("-" * len(header))
    try:
        jobs = [("vm", op, vm_bundles) for op in VM_OPS] + [
            ("volume", op, volume_bundles) for op in VOLUME_OPS
        ]
        for kind, op, make in jobs:
            dep = create_deployment(server.url, args.release, prefix="bsize")
            try:
                live, offline = make(dep, op, args.release, out / f"{kind}-{op}")
            finally:
                dep.drop()
            rows = changed_rows(live.plan)
            for mode, result in (("live", live), ("offline", offline)):
                if isinstance(result, str):
                    print(f"{kind:6} {op:17} {mode:7} n/a: {result}")
                    continue
                files, lines, longest = sql_figures(result.path)
                per_row = f"{lines / rows:.1f}" if rows else "-"
                print(f"{kind:6} {op:17} {mode:7} {files:5} {lines:6} {longest:7} {rows:5} {per_row:>9}")
    finally:
        server.stop()
        if args.keep:
            print(f"bundles kept in {out}")
        else:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
