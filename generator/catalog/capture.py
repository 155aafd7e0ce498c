"""Maintainer command: capture the schema catalog from the real upstream services.

    python -m generator.catalog.capture [--release R ...] [--mode alembic|db-sync]
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
   Either way pip installs under `constraints/<release>.txt` when that file
   exists: without pins pip pulls today's libraries, which a release's own
   code predates (see that directory's README);
3. checks the synced database's `alembic_version` equals the head read from
   the wheel, and writes `data/<release>/<db>.sql` plus `data/index.json`
   (or the same layout under `--output-dir`, leaving the shipped catalog
   alone); `--compare` then checks each database's schema fingerprint
   against the shipped catalog's and exits 1 on any difference.

Nothing in the catalog is written by hand.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pymysql

from generator.catalog.declared import RELEASES, ReleaseSpec, release_spec
from generator.catalog.dump import dump_database
from generator.connect.urls import DatabaseURL, parse_url
from generator.schema.ddl import snapshot_from_ddl
from generator.schema.diff import diff_snapshots
from generator.scratch.server import ScratchServer

DATA_DIR = Path(__file__).parent / "data"
SCRIPTS = Path(__file__).parent / "sync_scripts"
CONSTRAINTS_DIR = Path(__file__).parent / "constraints"

# Where each service keeps its alembic tree inside its wheel.
MIGRATION_TREES = {
    "nova": ("nova", "nova/db/main/migrations/versions/"),
    "nova_api": ("nova", "nova/db/api/migrations/versions/"),
    "cinder": ("cinder", "cinder/db/migrations/versions/"),
    "placement": ("openstack-placement", "placement/db/sqlalchemy/alembic/versions/"),
}
PACKAGE_OF = {"nova": "nova", "cinder": "cinder", "openstack-placement": "placement"}


def log(msg: str) -> None:
    print(f"[capture] {msg}", file=sys.stderr, flush=True)


def database_names(spec: ReleaseSpec) -> dict[str, str]:
    """The scratch databases one release is synced into (stable, so scripts can find them)."""
    safe = re.sub(r"\W", "_", spec.name)
    return {kind: f"fixpack_capture_{safe}_{kind}" for kind in MIGRATION_TREES}


def release_constraints(spec: ReleaseSpec) -> Path | None:
    """The pip constraints a release's own packages need to install today, if any.

    Old releases declare open-ended requirements (`SQLAlchemy>=1.4.13`), so an
    unpinned install pulls libraries years newer than the release's code.
    """
    path = CONSTRAINTS_DIR / f"{spec.name}.txt"
    return path if path.is_file() else None


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload]
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"command failed: {' '.join(cmd[:4])} ...\n{tail}")
    return done


# -- reading facts out of wheels ---------------------------------------------
def download_wheel(work: Path, project: str, version: str) -> Path:
    dest = work / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    prefix = project.replace("-", "_") + "-" + version + "-"
    for existing in dest.glob("*.whl"):
        if existing.name.startswith(prefix):
            return existing
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--only-binary",
            ":all:",
            f"{project}=={version}",
            "-d",
            str(dest),
        ]
    )
    for existing in dest.glob("*.whl"):
        if existing.name.startswith(prefix):
            return existing
    raise SystemExit(f"no wheel for {project}=={version} was downloaded")


def alembic_head(wheel: Path, tree: str) -> str:
    """The one revision no other revision in the tree names as its down_revision."""
    revisions, downs = set(), set()
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if not (name.startswith(tree) and name.endswith(".py")) or "/" in name[len(tree) :]:
                continue
            src = z.read(name).decode()
            rev = re.search(r"^revision\s*=\s*['\"](\w+)['\"]", src, re.M)
            down = re.search(r"^down_revision\s*=\s*(.*)$", src, re.M)
            if rev:
                revisions.add(rev.group(1))
                if down:
                    downs.update(re.findall(r"['\"](\w+)['\"]", down.group(1)))
    heads = sorted(revisions - downs)
    if len(heads) != 1:
        raise SystemExit(f"{wheel.name}: expected one alembic head in {tree}, found {heads}")
    return heads[0]


def compute_service_version(nova_wheel: Path) -> int:
    with zipfile.ZipFile(nova_wheel) as z:
        src = z.read("nova/objects/service.py").decode()
    found = re.search(r"^SERVICE_VERSION = (\d+)", src, re.M)
    if not found:
        raise SystemExit(f"{nova_wheel.name}: SERVICE_VERSION not found")
    return int(found.group(1))


def release_facts(work: Path, spec: ReleaseSpec) -> dict:
    wheels = {
        "nova": download_wheel(work, "nova", spec.nova),
        "cinder": download_wheel(work, "cinder", spec.cinder),
        "openstack-placement": download_wheel(work, "openstack-placement", spec.placement),
    }
    heads = {kind: alembic_head(wheels[project], tree) for kind, (project, tree) in MIGRATION_TREES.items()}
    return {"heads": heads, "compute_service_version": compute_service_version(wheels["nova"])}


# -- the services' own venvs ---------------------------------------------------
def find_python(version: str) -> str:
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        candidates += [str(p / "bin" / "python") for p in sorted(pyenv.glob(f"{version}*"))]
    for cand in candidates:
        if cand and subprocess.run([cand, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return cand
    raise SystemExit(f"python{version} not found (needed to run this release's own packages)")


def ensure_venv(path: Path, python: str, requirement: str, constraints: Path | None) -> Path:
    """A venv with `requirement` installed; reused while interpreter and pins are unchanged."""
    marker = path / ".fixpack-installed"
    version = run([python, "-c", "import platform; print(platform.python_version())"]).stdout.strip()
    wanted = f"{requirement}\npython {version}\n" + (constraints.read_text() if constraints else "")
    if marker.exists() and marker.read_text() == wanted:
        log(f"reusing {path} ({requirement}, Python {version}, same constraints)")
        return path
    shutil.rmtree(path, ignore_errors=True)
    log(f"installing {requirement} into {path}" + (f" (constraints: {constraints})" if constraints else ""))
    started = time.monotonic()
    run([python, "-m", "venv", str(path)])
    cmd = [str(path / "bin" / "pip"), "install", "-q", requirement, "PyMySQL"]
    if constraints:
        cmd += ["-c", str(constraints)]
    run(cmd)
    marker.write_text(wanted)
    log(f"installed {requirement} in {time.monotonic() - started:.0f}s")
    return path


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
                f"captured by generator.catalog.capture --mode {mode}: migrations of "
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
    index = json.loads(path.read_text()) if path.exists() else {"format": 1, "releases": {}}
    index["releases"].update(entries)
    order = [r.name for r in RELEASES]
    index["releases"] = {k: index["releases"][k] for k in sorted(index["releases"], key=order.index)}
    path.write_text(json.dumps(index, indent=2, sort_keys=False) + "\n")


def _sql_body(text: str) -> str:
    """A catalog file without its header comments (which name the capture mode and packages)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("-- "))


_KEY_LINE = ("  KEY ", "  UNIQUE KEY ", "  FULLTEXT KEY ", "  CONSTRAINT ")
_SYNC_TIME = re.compile(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?'")
_UUID = re.compile(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'")


def _sql_normalised(text: str) -> str:
    """`_sql_body` less what legitimately changes from one sync to the next.

    SQLAlchemy emits a table's indexes in set order, which changes from run to
    run (`SHOW CREATE TABLE` keeps creation order), so each table's KEY and
    CONSTRAINT lines are sorted; seed rows carry the time of the sync and
    fresh UUIDs (Cinder's default volume and group types), which are masked.
    """
    out: list[str] = []
    keys: list[str] = []
    for line in _sql_body(text).splitlines():
        if line.startswith(_KEY_LINE):
            keys.append(line.rstrip(","))
            continue
        out += sorted(keys)
        keys = []
        out.append(_UUID.sub("'<uuid>'", _SYNC_TIME.sub("'<time>'", line.rstrip(","))))
    return "\n".join(out + sorted(keys))


def _text_verdict(new_text: str, old_text: str) -> tuple[str, list[str]]:
    """How the captured file's text compares with the shipped one, and the lines that differ."""
    if _sql_body(new_text) == _sql_body(old_text):
        return "text byte-identical", []
    old_lines, new_lines = _sql_normalised(old_text).splitlines(), _sql_normalised(new_text).splitlines()
    if old_lines == new_lines:
        return "text identical but for index order and sync-time timestamps/UUIDs", []
    diff = difflib.unified_diff(old_lines, new_lines, "shipped", "captured", lineterm="", n=0)
    return "text differs in index/FK names or seed rows", [line for line in diff if line[:2] != "@@"]


def compare_with_shipped(entries: dict[str, dict], out_root: Path, shipped: dict) -> int:
    """Print, per database, whether a capture matches the shipped catalog; the count that differ.

    Equal fingerprints mean equal schemas (tables, columns, keys, foreign keys;
    index/FK names left out). The file text is compared too, which also covers
    names and the seed rows, so a report can say "byte-identical" (or
    identical but for index order and sync-time values, see `_sql_normalised`).
    """
    differing = 0
    for name, entry in entries.items():
        ref = shipped.get("releases", {}).get(name)
        for kind in MIGRATION_TREES:
            got = entry["fingerprints"][kind]
            if ref is None:
                print(f"{name} {kind}: DIFFERENT (release not in the shipped catalog)")
                differing += 1
                continue
            new_text = (out_root / name / f"{kind}.sql").read_text()
            old_text = (DATA_DIR / name / f"{kind}.sql").read_text()
            if got == ref["fingerprints"][kind]:
                verdict, lines = _text_verdict(new_text, old_text)
                print(f"{name} {kind}: identical ({got[:19]}...; {verdict})")
                for line in lines[:40]:
                    print(f"    {line}")
                continue
            differing += 1
            shipped_fp = ref["fingerprints"][kind]
            print(f"{name} {kind}: DIFFERENT (shipped {shipped_fp[:19]}..., captured {got[:19]}...)")
            for d in diff_snapshots(snapshot_from_ddl(old_text), snapshot_from_ddl(new_text)):
                print(f"    {d.describe()}")
    print(f"compare: {differing} database(s) differ from the shipped catalog")
    return differing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator.catalog.capture", description=__doc__.split("\n\n")[0]
    )
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
        return cur.fetchone()[0]


if __name__ == "__main__":
    sys.exit(main())
