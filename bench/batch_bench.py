"""Benchmark: `fixpack vm --from-file ids --batch` end to end (the CLI, as a subprocess).

    python bench/batch_bench.py [--instances 1000] [--op soft-delete] [--release 2025.1]
                                [--offline] [--fleet 100000]

Seeds a private scratch server with `--instances` stuck instances (vm_state error,
task_state deleting, last changed two days ago) carrying every row a booted server
has (generator/seed bulk rows: extra, info cache, metadata, BDM, action, mapping,
request spec, placement consumer and allocations), writes their UUIDs to a file and
times `fixpack vm --from-file ids --batch --op OP` as an operator runs it: a new
Python process, an empty lint cache (cold, `FIXPACK_CACHE_DIR` a fresh directory)
and then the cache that run filled (warm). Each line gives the wall time, the CPU
time of the process (user+sys: other work on a shared machine inflates wall, not
CPU) and the phases the CLI reports with FIXPACK_TIMINGS=1 (facts, plan, merge,
render, lint, write) and the database round trips.

`--offline` also times an offline purge bundle (no database, `--release`) on an
empty cache against plain `sqlfluff lint` of the same SQL files with the same
configuration. `--fleet N` seeds N more ordinary instances first, then also
times a live single-VM bundle (`fixpack vm UUID --op OP`) on that database,
cold cache, Python start-up included. `--profile FILE` adds one more warm batch run
under cProfile (after the timed ones, so the figures stay unprofiled) and writes its
statistics to FILE (`python -m pstats FILE`). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.scratch.deployment import Deployment, create_deployment  # noqa: E402
from generator.scratch.provider import provide  # noqa: E402
from generator.seed import Seeder  # noqa: E402


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    """(wall, cpu user+sys of the child, stdout, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(argv[:4])} …\n{proc.stdout}\n{proc.stderr}")
    return wall, cpu, proc.stdout, proc.stderr


def timings_of(stderr: str) -> str:
    return next((line for line in stderr.splitlines() if line.startswith("timings:")), "timings: ?")


def fixpack() -> list[str]:
    return [sys.executable, "-m", "generator"]


def conn_args(dep: Deployment) -> list[str]:
    return [
        f"--{role.replace('_', '-')}-url={dep.url(role).render(with_password=True)}"
        for role in ("nova_api", "placement", "cinder")
    ]


def stuck(dep: Deployment, uuids: list[str]) -> None:
    """Leave the instances stuck in deleting, long enough ago that no override is needed."""
    for i in range(0, len(uuids), 1000):
        part = uuids[i : i + 1000]
        dep.execute(
            "nova",
            "UPDATE instances SET vm_state = 'error', task_state = 'deleting', power_state = 4, "
            "updated_at = UTC_TIMESTAMP() - INTERVAL 2 DAY "
            f"WHERE uuid IN ({', '.join(['%s'] * len(part))})",
            part,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--op", default="soft-delete", choices=("soft-delete", "purge"))
    parser.add_argument("--release", default="2025.1")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--offline", action="store_true", help="also the offline purge vs sqlfluff figure")
    parser.add_argument("--fleet", type=int, default=0, help="also a single-VM bundle among N instances")
    parser.add_argument(
        "--keep",
        metavar="FILE",
        help="after the figures, write the single-VM command line to FILE and keep the seeded "
        "server until interrupted (re-time a change without seeding again)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="also profile one more warm batch run with cProfile; its statistics go to FILE",
    )
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fixpack-batch-bench-"))
    env = dict(os.environ, FIXPACK_TIMINGS="1", PYTHONPATH=str(ROOT))
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; {os.cpu_count()} CPU(s)")
    if args.offline:
        offline(args, work, env)
    server = provide(args.backend)
    try:
        dep = create_deployment(server.url, args.release, prefix="bbench")
        t0 = time.perf_counter()
        with Seeder(dep, seed=11) as s:
            if args.fleet:
                s.bulk_instances(args.fleet, projects=20)
            batch = s.bulk_instances(args.instances, projects=5)
            rows = s.rows_written
        uuids = [b.uuid for b in batch]
        stuck(dep, uuids)
        print(f"server: {server.description}")
        print(
            f"seeded {args.fleet + args.instances} instances, {rows} rows in {time.perf_counter() - t0:.1f}s"
        )
        ids = work / "ids"
        ids.write_text("\n".join(uuids) + "\n")
        env["FIXPACK_CACHE_DIR"] = str(work / "cache-batch")

        def batch_args(out: str) -> list[str]:
            return ["vm", "--from-file", str(ids), "--batch", "--op", args.op, "--out", str(work / out),
                    *conn_args(dep)]  # fmt: skip

        print(f"\nfixpack vm --from-file ids --batch --op {args.op} ({len(uuids)} instances, CLI):")
        for label in ("cold lint cache", "warm lint cache"):
            wall, cpu, out, err = run([*fixpack(), *batch_args(f"out-{label[:4]}")], env)
            lint = next((ln.strip() for ln in out.splitlines() if ln.strip().startswith("lint:")), "")
            print(f"  {label}: wall {wall:6.2f}s, cpu {cpu:6.2f}s; {timings_of(err)}; {lint}")
        if args.profile:
            prof = [sys.executable, "-m", "cProfile", "-o", str(Path(args.profile).resolve())]
            wall, cpu, _, err = run([*prof, "-m", "generator", *batch_args("out-prof")], env)
            print(f"  profiled (warm): wall {wall:6.2f}s, cpu {cpu:6.2f}s; {timings_of(err)}")
        if args.fleet:
            env["FIXPACK_CACHE_DIR"] = str(work / "cache-single")
            print(f"\nfixpack vm UUID --op {args.op} on a {args.fleet + args.instances}-instance database:")
            for n in range(3):
                argv = [*fixpack(), "vm", uuids[n], "--op", args.op,
                        "--out", str(work / f"single-{n}"), *conn_args(dep)]  # fmt: skip
                env["FIXPACK_CACHE_DIR"] = str(work / f"cache-single-{n}")  # each run a fresh machine
                wall, cpu, out, err = run(argv, env)
                print(f"  run {n + 1} (empty cache): wall {wall:5.2f}s, cpu {cpu:5.2f}s; {timings_of(err)}")
        if args.keep:
            keep(args, dep, uuids, ids)
        dep.drop()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def keep(args: argparse.Namespace, dep: Deployment, uuids: list[str], ids: Path) -> None:
    """Write the single-VM command (without --out) to a file, and the batch command to FILE.batch
    (`ids`, the UUID file, stays until the end); wait until Ctrl-C or SIGTERM."""
    import contextlib
    import shlex
    import signal

    argv = ["-m", "generator", "vm", uuids[0], "--op", args.op, *conn_args(dep)]
    Path(args.keep).write_text(" ".join(shlex.quote(a) for a in argv) + "\n")
    batch = ["-m", "generator", "vm", "--from-file", str(ids), "--batch", "--op", args.op, *conn_args(dep)]
    Path(f"{args.keep}.batch").write_text(" ".join(shlex.quote(a) for a in batch) + "\n")
    print(f"\nkept: python $(cat {args.keep}) --out DIR; stop with Ctrl-C or kill {os.getpid()}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        signal.pause()


def offline(args: argparse.Namespace, work: Path, env: dict[str, str]) -> None:
    uuid = "6f1c3a52-0b7e-4d7a-9a51-3c2f1d0e9b11"
    print(f"\noffline purge bundle (--release {args.release}), empty lint cache, vs plain sqlfluff lint:")
    env = dict(env, FIXPACK_CACHE_DIR=str(work / "cache-offline"))
    out = work / "offline"
    wall, cpu, _, err = run(
        [*fixpack(), "vm", uuid, "--op", "purge", "--release", args.release, "--out", str(out)], env
    )
    print(f"  fixpack (fresh machine): wall {wall:6.2f}s, cpu {cpu:6.2f}s; {timings_of(err)}")
    bundle = next(out.iterdir())
    sql = sorted(str(p) for p in (bundle / "sql").rglob("*.sql"))
    config = ROOT / "generator" / "lint" / "sqlfluff.cfg"
    lint_wall, lint_cpu, _, _ = run(
        [sys.executable, "-m", "sqlfluff", "lint", "--config", str(config), "--processes", "1",
         "--disable-progress-bar", "--nofail", *sql], env)  # fmt: skip
    print(f"  plain sqlfluff lint of its {len(sql)} SQL files: wall {lint_wall:6.2f}s, cpu {lint_cpu:6.2f}s")
    print(f"  ratio: wall {wall / lint_wall:.3f}x, cpu {cpu / lint_cpu:.3f}x (goal <= 0.15x)")


if __name__ == "__main__":
    main()
