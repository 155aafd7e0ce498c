"""Benchmark: generation and lint time for a VM purge bundle and for a batch of VMs.

    python bench/generate_bench.py [--batch 1000] [--release 2025.1] [--op purge] [--backend auto]

Seeds a scratch deployment (a purge target in error state among a few
instances, plus `--batch` ordinary instances), then generates:

* one purge bundle, with an empty lint cache (cold) and again with the cache
  it filled (warm);
* one batch bundle for `--batch` instances (`generate_vm_batch`), cold and warm.

For each it prints total generation wall time, the lint part of it, and the
lint breakdown (structure = sqlglot rules, sqlfluff = distinct statement
shapes, shellcheck = what was left to wait for after the SQL checks).
`FIXPACK_CACHE_DIR` points at a fresh temporary directory for the cold runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.connect.sources import ConnectionOptions, resolve
from generator.jobs_batch import generate_vm_batch
from generator.pipeline import BundleResult, OutputOptions, generate_vm
from generator.plan.overrides import Overrides
from generator.plan.vm_common import VmOptions
from generator.scratch.deployment import Deployment, create_deployment
from generator.scratch.provider import provide
from generator.seed import Seeder


def targets(dep: Deployment):
    urls = {role: dep.url(role).render(with_password=True) for role in ("nova_api", "placement", "cinder")}
    return resolve(ConnectionOptions(urls=urls), env={})


def row(label: str, wall: float, result: BundleResult) -> str:
    lint = result.lint
    s = lint.seconds
    return (
        f"  {label:<28} total {wall:7.2f}s   lint {s.get('total', 0):6.2f}s "
        f"(structure {s.get('structure', 0):5.2f}s, sqlfluff {s.get('sqlfluff', 0):6.2f}s for "
        f"{lint.shapes} shapes/{lint.shapes_from_cache} cached, "
        f"shellcheck wait {s.get('shellcheck_wait', 0):5.2f}s for {lint.scripts} scripts/"
        f"{lint.scripts_from_cache} cached/{lint.scripts_checked} run)"
    )


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000, help="instances in the batch bundle")
    parser.add_argument("--release", default="2025.1")
    parser.add_argument("--op", default="purge", choices=("purge", "soft-delete"))
    parser.add_argument("--backend", default="auto", help="scratch server: auto, local, docker or env")
    args = parser.parse_args()

    server = provide(args.backend)
    work = Path(tempfile.mkdtemp(prefix="fixpack-bench-"))
    try:
        t0 = time.perf_counter()
        dep = create_deployment(server.url, args.release)
        with Seeder(dep, seed=7) as s:
            host = s.compute_host("cmp-bench-01")
            for i in range(5):
                s.instance(host=host, volumes=i % 2)
            target = s.instance(host=host, vm_state="error", task_state="deleting", power_state=4, volumes=2,
                                vif_types=("ovs_hybrid", "ovs"), tags=("web",))  # fmt: skip
            bulk = s.bulk_instances(args.batch) if args.batch else []
            rows = s.rows_written
        print(f"server: {server.description}")
        print(f"seeded {args.release}: 1 target + {len(bulk) + 5} instances, {rows} rows in "
              f"{time.perf_counter() - t0:.1f}s; {os.cpu_count()} CPU(s)")  # fmt: skip

        options = VmOptions(op=args.op, allow=Overrides.of("healthy-instance", "recent-transition"))
        conn = targets(dep)
        print(f"\nVM {args.op} bundle (1 instance):")
        for label in ("cold lint cache", "warm lint cache"):
            if label.startswith("cold"):
                os.environ["FIXPACK_CACHE_DIR"] = str(work / "cache-single")
            out = OutputOptions(out_dir=work / f"single-{label[:4]}")
            wall, result = timed(lambda out=out: generate_vm(target.uuid, options, conn, "auto", out))
            print(row(label, wall, result))

        if bulk:
            uuids = [b.uuid for b in bulk]
            print(f"\nbatch {args.op} bundle ({len(uuids)} instances, one bundle):")
            for label in ("cold lint cache", "warm lint cache"):
                if label.startswith("cold"):
                    os.environ["FIXPACK_CACHE_DIR"] = str(work / "cache-batch")
                out = OutputOptions(out_dir=work / f"batch-{label[:4]}")
                wall, results = timed(lambda out=out: generate_vm_batch(uuids, options, conn, "auto", out))
                for result in results:
                    files = len(result.manifest["steps"])
                    print(row(label, wall, result) + f"; {files} files")
        dep.drop()
    finally:
        server.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
