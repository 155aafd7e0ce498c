"""Benchmark: generate a VM purge bundle against a server seeded with many instances.

    python bench/vm_purge_bench.py [--instances 100000] [--release 2025.1] [--runs 3]

Starts a private MariaDB (or uses FIXPACK_TEST_DB_URL), seeds N instances with every related
row (bulk), adds one stuck instance with volumes, VIFs, actions and PCI devices, then generates
its purge bundle several times and prints, per run: wall time, database round trips, and the
time spent reading facts, planning, rendering and linting (cold lint cache on the first run,
warm on the others). Figures, not assertions: performance is measured here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import create_deployment
from generator.scratch.provider import provide
from generator.seed import Seeder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=100_000)
    parser.add_argument("--release", default="2025.1")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    server = provide("auto")
    cache = tempfile.mkdtemp(prefix="fixpack-bench-cache-")
    os.environ["FIXPACK_CACHE_DIR"] = cache
    out = Path(tempfile.mkdtemp(prefix="fixpack-bench-out-"))
    try:
        print(f"server: {server.description}")
        dep = create_deployment(server.url, args.release, prefix="bench")
        t0 = time.perf_counter()
        seeder = Seeder(dep, seed=42)
        hosts = [seeder.compute_host(f"cmp-{i:03d}") for i in range(1, 51)]
        seeder.bulk_instances(args.instances, hosts=hosts, projects=20)
        target = seeder.instance(
            host=hosts[0],
            vm_state="error",
            task_state="deleting",
            power_state=4,
            volumes=3,
            pci_devices=2,
            vif_types=("ovs_hybrid", "ovs"),
            actions=6,
            faults=3,
        )
        seeder.flush()
        seeder.close()
        seeded = time.perf_counter() - t0
        total_rows = sum(
            r["n"]
            for role in ("nova", "nova_api", "placement", "cinder")
            for r in dep.query(
                role,
                "SELECT SUM(TABLE_ROWS) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
            )
            if r["n"]
        )
        print(f"seeded {args.instances} instances (+1 target, ~{total_rows:,} rows) in {seeded:.1f} s")

        targets = resolve(
            ConnectionOptions(
                urls={
                    "nova_api": dep.url("nova_api").render(with_password=True),
                    "placement": dep.url("placement").render(with_password=True),
                    "cinder": dep.url("cinder").render(with_password=True),
                }
            ),
            env={},
        )
        walls = []
        print(
            f"{'run':>3} {'wall s':>7} {'trips':>5} {'facts':>6} {'plan':>6} {'render':>6} {'lint':>6} "
            f"{'lint cache':>10} {'shapes':>6} {'rows':>5}"
        )
        for run in range(1, args.runs + 1):
            t0 = time.perf_counter()
            result = generate_vm(
                target.uuid, VmOptions(op="purge"), targets, "auto", OutputOptions(out_dir=out / str(run))
            )
            wall = time.perf_counter() - t0
            walls.append(wall)
            t = result.timings
            rows = sum(s.get("rows", 0) for s in result.manifest["steps"] if s["phase"] == "apply")
            cache = "cold" if result.lint.shapes_from_cache == 0 else "warm"
            print(
                f"{run:>3} {wall:7.2f} {result.round_trips:>5} {t.get('facts', 0):6.2f} "
                f"{t.get('plan', 0):6.2f} {t.get('render', 0):6.2f} {t.get('lint', 0):6.2f} "
                f"{cache:>10} {result.lint.shapes:>6} {rows:>5}"
            )
        print(
            f"median wall time {statistics.median(walls):.2f} s over {len(walls)} runs "
            f"(first run lints with a cold cache)"
        )
        dep.drop()
    finally:
        server.stop()
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
