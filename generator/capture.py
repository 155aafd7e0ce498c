"""Maintainer command: capture the schema catalog from the real upstream services.

    python -m generator.capture [--release R ...] [--mode alembic|db-sync]
        [--output-dir DIR] [--compare] [--server-url URL --keep-databases]

For each release it

1. downloads that release's nova, cinder and openstack-placement wheels (no
   dependencies) and reads from them the alembic head of every migration tree
   and nova's compute `SERVICE_VERSION`;
2. runs the services' own migrations against a scratch MariaDB server:
   * `--mode alembic` (default): the newest declared release's packages,
     installed once into throwaway venvs, run *their* alembic trees up to this
     release's heads (`nova-manage db sync REV`, `nova-manage api_db sync REV`,
     cinder's `db_sync(REV)`, placement's `upgrade(REV)`). Migrations keep
     their schema once released, so this reproduces every release's schema
     from Xena on (`--mode db-sync --compare` checks it). Seed rows need not
     match: cinder 24.x (2024.1) edited its initial migration 921e1a36b076 to stop
     inserting the `consistencygroups` default quota class, which the real
     `db sync` of Xena..2023.2 still inserts.
   * `--mode db-sync`: the release's own packages in their own venv (on the
     Python declared for the release), each service's plain `db sync`
     (`nova-manage api_db sync` / `db sync`, `cinder-manage db sync`,
     `placement-manage db sync`) to its own head (slower; proves the above);
   Either way pip installs under `catalog/constraints/<release>.txt` when that file
   exists: without pins pip pulls today's libraries, which a release's own
   code predates (see that directory's README);
3. checks the synced database's `alembic_version` equals the head read from
   the wheel, and writes `catalog/data/<release>/<db>.sql` plus `catalog/data/index.json`
   (or the same layout under `--output-dir`, leaving the shipped catalog
   alone); `--compare` then checks each database's schema fingerprint
   against the shipped catalog's and exits 1 on any difference.

Nothing in the catalog is written by hand. The command lives outside `catalog/`
because it needs a scratch server and `scratch/` loads the catalog (docs/architecture.md,
Layers).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pymysql

from generator.catalog.compare import DATA_DIR, compare_with_shipped
from generator.catalog.declared import RELEASES, ReleaseSpec, release_spec
from generator.catalog.dump import dump_database
from generator.catalog.packages import (
    MIGRATION_TREES,
    ensure_venv,
    find_python,
    log,
    release_constraints,
    release_facts,
    run,
)
from generator.connect.urls import DatabaseURL, parse_url
from generator.schema.ddl import snapshot_from_ddl
from generator.scratch.server import ScratchServer

SCRIPTS = DATA_DIR.parent / "sync_scripts"


def database_names(spec: ReleaseSpec) -> dict[str, str]:
    """The scratch databases one release is synced into (stable, so scripts can find them)."""
    safe = re.sub(r"\W", "_", spec.name)
    return {kind: f"fixpack_capture_{safe}_{kind}" for kind in MIGRATION_TREES}


def sync_database(
    venvs: dict[str, Path], url: DatabaseURL, names: dict[str, str], heads: dict[str, str] | None, tmp: Path
) -> None:
    """Run each service's own migrations; heads=None means 'to the package's own head'."""

    def conn_url(kind: str) -> str:
        return url.with_database(names[kind]).render(with_password=True) + "?charset=utf8"

    nova_conf = tmp / "nova.conf"
    nova_conf.write_text(
        f"[database]\nconnection = {conn_url('nova')}\n[api_database]\nconnection = {conn_url('nova_api')}\n"
    )
    cinder_conf = tmp / "cinder.conf"
    cinder_conf.write_text(f"[database]\nconnection = {conn_url('cinder')}\n")
    placement_conf = tmp / "placement.conf"
    placement_conf.write_text(f"[placement_database]\nconnection = {conn_url('placement')}\n")
    for conf in (nova_conf, cinder_conf, placement_conf):
        conf.chmod(0o600)

    def rev(kind: str) -> list[str]:
        return [heads[kind]] if heads else []

    manage = str(venvs["nova"] / "bin" / "nova-manage")
    run([manage, "--config-file", str(nova_conf), "api_db", "sync", *rev("nova_api")])
    run([manage, "--config-file", str(nova_conf), "db", "sync", "--local_cell", *rev("nova")])
    if heads is None:
        # The operators' own commands; they only sync to the package's head.
        run([str(venvs["cinder"] / "bin" / "cinder-manage"), "--config-file", str(cinder_conf), "db", "sync"])
        run(
            [
                str(venvs["placement"] / "bin" / "placement-manage"),
                "--config-file",
                str(placement_conf),
                "db",
                "sync",
            ]
        )
        return
    run(
        [
            str(venvs["cinder"] / "bin" / "python"),
            str(SCRIPTS / "cinder_sync.py"),
            str(cinder_conf),
            *rev("cinder"),
        ]
    )
    run(
        [
            str(venvs["placement"] / "bin" / "python"),
            str(SCRIPTS / "placement_sync.py"),
            str(placement_conf),
            *rev("placement"),
        ]
    )


def capture_release(
    spec: ReleaseSpec,
    *,
    mode: str,
    work: Path,
    url: DatabaseURL,
    runner: ReleaseSpec,
    constraints: Path | None,
    out_root: Path = DATA_DIR,
    keep_databases: bool = False,
) -> dict:
    facts = release_facts(work, spec)
    pkg = runner if mode == "alembic" else spec
    python = sys.executable if mode == "alembic" else find_python(spec.python)
    constraints = constraints or release_constraints(pkg)
    venvs = {
        "nova": ensure_venv(work / f"venv-{pkg.name}-nova", python, f"nova=={pkg.nova}", constraints),
        "cinder": ensure_venv(work / f"venv-{pkg.name}-cinder", python, f"cinder=={pkg.cinder}", constraints),
        "placement": ensure_venv(
            work / f"venv-{pkg.name}-placement", python, f"openstack-placement=={pkg.placement}", constraints
        ),
    }
    names = database_names(spec)
    conn = pymysql.connect(**_admin_params(url))
    try:
        with conn.cursor() as cur:
            for db in names.values():
                cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
                cur.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb3")
        with tempfile.TemporaryDirectory(prefix="fixpack-capture-") as tmp:
            log(f"{spec.name}: syncing ({mode}) to {facts['heads']}")
            started = time.monotonic()
            sync_database(venvs, url, names, facts["heads"] if mode == "alembic" else None, Path(tmp))
            log(f"{spec.name}: synced the four databases in {time.monotonic() - started:.0f}s")
        entry = {
            "name": spec.name,
            "codename": spec.codename,
            "packages": {"nova": spec.nova, "cinder": spec.cinder, "placement": spec.placement},
            "heads": facts["heads"],
            "compute_service_version": facts["compute_service_version"],
            "migrate_version": {},
            "fingerprints": {},
            "capture": {
                "mode": mode,
                "ran": {"nova": pkg.nova, "cinder": pkg.cinder, "placement": pkg.placement},
                "server": _server_version(conn),
            },
        }
        out_dir = out_root / spec.name
        out_dir.mkdir(parents=True, exist_ok=True)
        for kind, db in names.items():
            with conn.cursor() as cur:
                cur.execute(f"SELECT version_num FROM `{db}`.alembic_version")
                found = sorted(r[0] for r in cur.fetchall())
            if found != [facts["heads"][kind]]:
                raise SystemExit(
                    f"{spec.name}/{kind}: synced to {found}, wheel head is {facts['heads'][kind]}"
                )
            header = [
                f"fixpack catalog: {kind} database of OpenStack {spec.name} ({spec.codename})",
                f"captured by generator.capture --mode {mode}: migrations of "
                f"{pkg.nova if kind.startswith('nova') else getattr(pkg, kind)} run to "
                f"{facts['heads'][kind]} on {_server_version(conn)}",
                "do not edit: re-run the capture command instead",
            ]
            text = dump_database(conn, db, header)
            (out_dir / f"{kind}.sql").write_text(text)
            entry["fingerprints"][kind] = snapshot_from_ddl(text).fingerprint()
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT COUNT(*) FROM information_schema.TABLES WHERE "
                    "TABLE_SCHEMA = %s AND TABLE_NAME = 'migrate_version'",
                    (db,),
                )
                if cur.fetchone()[0]:
                    cur.execute(f"SELECT version FROM `{db}`.migrate_version")
                    entry["migrate_version"][kind] = cur.fetchone()[0]
        if keep_databases:
            log(f"{spec.name}: kept databases {', '.join(names.values())}")
        else:
            with conn.cursor() as cur:
                for db in names.values():
                    cur.execute(f"DROP DATABASE `{db}`")
        return entry
    finally:
        conn.close()


def _admin_params(url: DatabaseURL) -> dict:
    params = {
        "host": url.host or "127.0.0.1",
        "user": url.user or "root",
        "password": url.password or "",
        "autocommit": True,
    }
    if url.port:
        params["port"] = url.port
    return params


def write_index(entries: dict[str, dict], out_root: Path = DATA_DIR) -> None:
    path = out_root / "index.json"
    index: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {"format": 1, "releases": {}}
    index["releases"].update(entries)
    order = [r.name for r in RELEASES]
    index["releases"] = {k: index["releases"][k] for k in sorted(index["releases"], key=order.index)}
    path.write_text(json.dumps(index, indent=2, sort_keys=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.capture", description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", action="append", help="release name (repeat); default all")
    parser.add_argument("--mode", choices=("alembic", "db-sync"), default="alembic")
    parser.add_argument("--work-dir", default=str(Path.home() / ".cache" / "fixpack-capture"))
    parser.add_argument("--server-url", help="scratch server URL (default: start a private one)")
    parser.add_argument(
        "--constraints",
        help="pip constraints file for the service venvs (default: constraints/<release>.txt if present)",
    )
    parser.add_argument(
        "--output-dir",
        help=f"write <release>/<db>.sql and index.json here instead of the shipped catalog ({DATA_DIR})",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="compare each captured schema with the shipped catalog; exit 1 if any differs "
        "(needs --output-dir)",
    )
    parser.add_argument(
        "--keep-databases",
        action="store_true",
        help="leave the synced databases on the server (needs --server-url)",
    )
    args = parser.parse_args(argv)
    out_root = Path(args.output_dir).resolve() if args.output_dir else DATA_DIR
    if args.compare and out_root == DATA_DIR.resolve():
        parser.error("--compare needs --output-dir (otherwise the capture overwrites what it compares with)")
    if args.keep_databases and not args.server_url:
        parser.error("--keep-databases needs --server-url (a private server is deleted when capture ends)")
    shipped = json.loads((DATA_DIR / "index.json").read_text()) if args.compare else {}
    specs = [release_spec(r) for r in args.release] if args.release else list(RELEASES)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    constraints = Path(args.constraints) if args.constraints else None
    server = None
    if args.server_url:
        url = parse_url(args.server_url)
    else:
        server = ScratchServer().start()
        url = server.url
    try:
        entries = {}
        for spec in specs:
            started = time.monotonic()
            entries[spec.name] = capture_release(
                spec,
                mode=args.mode,
                work=work,
                url=url,
                runner=RELEASES[-1],
                constraints=constraints,
                out_root=out_root,
                keep_databases=args.keep_databases,
            )
            log(f"{spec.name}: written to {out_root / spec.name} ({time.monotonic() - started:.0f}s in all)")
        write_index(entries, out_root)
    finally:
        if server:
            server.stop()
    if args.compare:
        return 1 if compare_with_shipped(entries, out_root, shipped) else 0
    return 0


def _server_version(conn: pymysql.Connection) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        row = cur.fetchone()
        assert row is not None  # SELECT VERSION() returns one row
        return row[0]


if __name__ == "__main__":
    sys.exit(main())
