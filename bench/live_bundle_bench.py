"""Benchmark: one live `fixpack vm` bundle on a large cloud, the real CLI, start-up included.

    python bench/live_bundle_bench.py [INSTANCES] [--op soft-delete] [--cold 3] [--warm 3]
        [--keep FILE | --reuse FILE] [--profile DIR] [--release 2025.1]

Issue 12 item 4: a live bundle on a 100k-instance database in at most 1 s wall, Python start-up
included, with an empty lint cache (a fresh machine). This seeds INSTANCES instances the way
bench/scan_bench.py does (a Seeder-written template copied server-side, generator/seed/clone.py;
`--reuse FILE` times a deployment a `--keep FILE` run left, without seeding), makes one of them
stuck (vm_state error, task_state deleting, updated long ago), then runs
`.venv/bin/fixpack vm UUID --op OP --nova-url ... -o DIR` as a subprocess:

* `--cold` times with FIXPACK_CACHE_DIR a new empty directory each time (the goal's case);
* `--warm` times with one cache directory the first of them filled.

Each run prints its wall time, the CPU time of the child, the phases the CLI reports
(FIXPACK_TIMINGS=1: facts, plan, render, lint, write; round trips) and the machine's load
average, since the machine is shared. `--profile DIR` also writes, for one cold run,
`python -X importtime` output (importtime.txt, the 25 slowest imports printed) and a cProfile
(cold.prof; `python -m pstats` reads it).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import scan_bench  # noqa: E402  (bench/: the large-cloud seeding and --keep/--reuse)

from generator.scratch.deployment import Deployment, create_deployment  # noqa: E402
from generator.scratch.provider import provide  # noqa: E402

FIXPACK = HERE.parent / ".venv" / "bin" / "fixpack"
_RUNS = itertools.count(1)


def stuck_instance(dep: Deployment) -> str:
    """One live instance (the first seeded, attached volumes and all) made stuck in deleting."""
    row = dep.query("nova", "SELECT uuid FROM instances WHERE deleted = 0 ORDER BY id LIMIT 1")[0]
    dep.execute(
        "nova",
        "UPDATE instances SET vm_state = 'error', task_state = 'deleting', power_state = 4, "
        "updated_at = '2021-01-01' WHERE uuid = %s",
        (row["uuid"],),
    )
    return str(row["uuid"])


def command(dep: Deployment, uuid: str, op: str, out: Path) -> list[str]:
    urls = []
    flags = {"nova": "--nova-url", "nova_api": "--nova-api-url", "placement": "--placement-url",
             "cinder": "--cinder-url"}  # fmt: skip
    for role, flag in flags.items():
        urls += [flag, dep.url(role).render(with_password=True)]
    return [str(FIXPACK), "vm", uuid, "--op", op, *urls, "-o", str(out)]


def run_once(
    cmd: list[str], cache: Path, extra_env: dict[str, str] | None = None
) -> tuple[float, float, str]:
    """Wall and CPU seconds of one CLI run, and the phases it reported (stderr timings line)."""
    env = dict(os.environ, FIXPACK_CACHE_DIR=str(cache), FIXPACK_TIMINGS="1", **(extra_env or {}))
    cmd = [*cmd[:-1], str(Path(cmd[-1]) / f"run-{next(_RUNS)}")]  # bundle ids are per second: a dir each
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"fixpack exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    timings = next((x for x in done.stderr.splitlines() if x.startswith("timings:")), "timings: ?")
    lint = next((x.strip() for x in done.stdout.splitlines() if x.strip().startswith("lint:")), "")
    return wall, cpu, f"{timings.removeprefix('timings: ')}; {lint}"


def load() -> str:
    return "load " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def series(label: str, runs: list[tuple[float, float, str]]) -> None:
    for n, (wall, cpu, phases) in enumerate(runs, 1):
        print(f"  {label} {n}: {wall:.2f}s wall, {cpu:.2f}s CPU; {phases}", flush=True)
    walls = [w for w, _c, _p in runs]
    if walls:
        print(f"  {label}: median {statistics.median(walls):.2f}s, best {min(walls):.2f}s wall "
              f"over {len(walls)} run(s); {load()}", flush=True)  # fmt: skip


def profile(cmd: list[str], work: Path, target: Path) -> None:
    """One cold run under -X importtime and one under cProfile (files in `target`)."""
    target.mkdir(parents=True, exist_ok=True)
    python = str(HERE.parent / ".venv" / "bin" / "python")
    entry = ["-c", "import sys; from generator.cli import main; sys.argv[0] = 'fixpack'; main(sys.argv[1:])"]
    env = dict(os.environ, FIXPACK_CACHE_DIR=str(work / "cache-importtime"))
    done = subprocess.run([python, "-X", "importtime", *entry, *cmd[1:]], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    (target / "importtime.txt").write_text(done.stderr)
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), m.group(4)))
    print("  slowest imports (cumulative us):", flush=True)
    for us, name in sorted(rows, reverse=True)[:25]:
        print(f"    {us / 1e6:6.3f}s {name}")
    env["FIXPACK_CACHE_DIR"] = str(work / "cache-cprofile")
    prof = target / "cold.prof"
    subprocess.run([python, "-m", "cProfile", "-o", str(prof), str(FIXPACK), *cmd[1:]], env=env,
                   capture_output=True, check=False)  # fmt: skip
    print(f"  cProfile of a cold run: {prof}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="?", type=int, default=100_000)
    parser.add_argument("--release", default="2025.1")
    parser.add_argument("--op", default="soft-delete", choices=("soft-delete", "purge"))
    parser.add_argument("--cold", type=int, default=3, help="runs with a new empty lint cache each")
    parser.add_argument("--warm", type=int, default=3, help="runs with a cache filled by a first run")
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="leave the seeded server running, its URL in this file")
    parser.add_argument("--reuse", type=Path, help="time the deployment a --keep run left (no seeding)")
    parser.add_argument("--uuid", help="the stuck instance (default: make the first one stuck)")
    parser.add_argument("--profile", type=Path, help="also write -X importtime and cProfile output here")
    parser.add_argument("--out", type=Path, help="keep the last bundle under this directory")
    parser.add_argument(
        "--assume-shipped",
        action="store_true",
        help="cold runs start with the sqlfluff verdicts of the bundle's shapes in the cache (what a "
        "shipped verdicts file covering them gives; measures the code before that file is rebuilt)",
    )
    args = parser.parse_args()

    server = None if args.reuse else provide("auto")
    keep = False
    work = Path(tempfile.mkdtemp(prefix="fixpack-live-bench-"))
    try:
        if server is None:
            dep = scan_bench._reused(args.reuse)
            print(f"reusing {args.reuse}; release {dep.release}; {load()}", flush=True)
        else:
            dep = create_deployment(server.url, args.release)
            print(f"server: {server.description}; release {args.release}; {load()}", flush=True)
            scan_bench.seed(dep, args.instances, args.instances // 5, args.chunk)
        n = dep.query("nova", "SELECT COUNT(*) AS n FROM instances")[0]["n"]
        uuid = args.uuid or stuck_instance(dep)
        print(f"{n} instances; target {uuid}; {os.cpu_count()} CPU(s)", flush=True)
        out = args.out or work / "out"
        cmd = command(dep, uuid, args.op, out)
        if args.profile:
            profile(cmd, work, args.profile)
        if args.assume_shipped:  # the SQL verdicts a first run lints, put in each cold cache beforehand
            run_once(cmd, work / "cache-sql")
            for i in range(args.cold):
                shutil.copytree(work / "cache-sql" / "lint", work / f"cache-cold-{i}" / "lint")
            print("  cold runs: SQL verdicts of every shape present (as with a rebuilt shipped file); "
                  "shellcheck verdicts only as shipped", flush=True)  # fmt: skip
        cold = [run_once(cmd, work / f"cache-cold-{i}") for i in range(args.cold)]
        series("cold", cold)
        warm_cache = work / "cache-warm"
        if args.warm:
            run_once(cmd, warm_cache)  # fills it
        series("warm", [run_once(cmd, warm_cache) for _ in range(args.warm)])
        if args.out and not (args.cold or args.warm):
            run_once(cmd, work / "cache-out")
        if args.keep and server is not None:
            scan_bench._keep(args.keep, dep, server)
            keep = True
        elif server is not None:
            dep.drop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server is not None and not keep:
            server.stop()


if __name__ == "__main__":
    main()
