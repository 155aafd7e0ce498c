"""Benchmark: seed N instances (default 100000) with all their rows into a private scratch server.

    python bench/seed_bench.py [N] [--release 2025.1] [--chunk 5000] [--projects 20]

Prints the wall time of the seeding (server start and schema load reported apart) and the
rows written per second, plus the row count of the biggest tables as a sanity check.
"""

from __future__ import annotations

import argparse
import time

from generator.scratch.deployment import create_deployment
from generator.scratch.provider import provide
from generator.seed import Seeder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000, help="instances to seed")
    parser.add_argument("--release", default="2025.1")
    parser.add_argument("--chunk", type=int, default=5000, help="instances per background flush")
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.monotonic()
    server = provide("auto")
    try:
        dep = create_deployment(server.url, args.release)
        ready = time.monotonic()
        print(f"server: {server.description}; schema {args.release} loaded in {ready - started:.1f}s")
        with Seeder(dep, seed=args.seed) as seeder:
            t0 = time.monotonic()
            seeded = seeder.bulk_instances(args.n, projects=args.projects, chunk=args.chunk)
            wall = time.monotonic() - t0
            rows = seeder.rows_written
        print(f"seeded {len(seeded)} instances: {rows} rows in {wall:.1f}s")
        print(f"  {rows / wall:,.0f} rows/s, {len(seeded) / wall:,.0f} instances/s")
        for role, table in (
            ("nova", "instances"),
            ("nova", "instance_system_metadata"),
            ("nova_api", "request_specs"),
            ("placement", "allocations"),
        ):
            n = dep.query(role, f"SELECT COUNT(*) AS n FROM `{table}`")[0]["n"]
            print(f"  {role}.{table}: {n} rows")
        dep.drop()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
