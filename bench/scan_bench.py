"""Benchmark: `fixpack scan` on a large seeded cloud vs the plain client reading the same keys once.

    python bench/scan_bench.py [INSTANCES] [--volumes V] [--release 2025.1] [--runs 2]
        [--datadir DIR --buffer-pool SIZE] [--keep FILE | --reuse FILE]

Seeds INSTANCES healthy instances (the seeding library's bulk rows: every row a booted server
has, placement consumers and allocations, one compute host per 40 instances) and V volumes
(every 5th attached to an instance, every 10th with a snapshot and a backup), plants one case
of a few checks, then times:

* the scan (all checks, JSON rendered, nothing printed), `--runs` times: the first run right after
  seeding (InnoDB buffer pool warm with what the seeding wrote), later runs fully warm;
* the plain `mariadb` client running the scan's key-reading SELECTs once, output to /dev/null;
* PyMySQL fetching the same SELECTs (the client library the scan uses).

and `cinder-manage quota check` on the same Cinder database, when the release's Cinder venv that
the test suite builds is in ~/.cache/fixpack-test (a minimal cinder.conf names the database).
Every figure comes with the load average (other work on the machine) and the scan's CPU time.

Seeding: when INSTANCES is a multiple of 200 and V of 40 (default V = INSTANCES/5), the Seeder
writes a template of INSTANCES/40 instances, one on each of the INSTANCES/40 hosts, and V/40
volumes, and the server copies it 39 times (generator/seed/clone.py: new uuids, ids, MACs and
names per copy; hosts, projects and flavors shared), so each host ends with 40 instances;
host usage and Cinder quota usages are then set from the totals. Other counts go through the
Seeder row by row (about a millisecond per instance). `--datadir DIR` puts the private server's
data under DIR (default: /dev/shm, as the tests; a million instances are about 15 GB) and
`--buffer-pool` sizes its InnoDB buffer pool.

`--keep FILE` leaves the seeded server running (its URL and data directory in FILE, mode 0600);
`--reuse FILE` times a kept deployment again without seeding.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from generator.catalog.declared import release_spec
from generator.connect.sources import ConnectionOptions, resolve
from generator.connect.urls import parse_url
from generator.domain import cinder_quota
from generator.scan import run_scan
from generator.scan.output import render_json
from generator.scan.registry import all_checks
from generator.scratch.deployment import Deployment, admin_connection, create_deployment
from generator.scratch.provider import ProvidedServer, provide
from generator.scratch.server import ScratchServer
from generator.seed import Seeder, clone

COPIES = 40  # the template is instances/40 instances, one per host (one host per 40 instances)

# The key reads of generator/scan/context.py and the checks (same statements, one pass each).
KEY_READS = (
    ("nova", "SELECT uuid FROM instances WHERE deleted = 0 OR deleted IS NULL"),
    ("nova", "SELECT uuid FROM instances WHERE deleted <> 0"),
    ("nova", "SELECT host, MIN(CAST(host AS BINARY)), MAX(CAST(host AS BINARY)) FROM instances "
             "WHERE (deleted = 0 OR deleted IS NULL) AND host IS NOT NULL GROUP BY host"),
    ("nova", "SELECT DISTINCT CAST(host AS BINARY) FROM services WHERE `binary` = 'nova-compute' "
             "AND deleted = 0 AND host IS NOT NULL"),
    ("nova", "SELECT DISTINCT host FROM services WHERE `binary` = 'nova-compute' AND deleted = 0"),
    ("nova", "SELECT uuid, host, hypervisor_hostname, hypervisor_type, deleted FROM compute_nodes"),
    ("nova", "SELECT instance_uuid, volume_id FROM block_device_mapping WHERE volume_id IS NOT NULL "
             "AND deleted = 0"),
    ("nova", "SELECT uuid, status, instance_uuid, deleted FROM migrations WHERE uuid IS NOT NULL"),
    ("nova_api", "SELECT id, uuid FROM cell_mappings"),
    ("nova_api", "SELECT instance_uuid, cell_id FROM instance_mappings"),
    ("nova_api", "SELECT instance_uuid, created_at FROM build_requests WHERE instance_uuid IS NOT NULL"),
    ("placement", "SELECT DISTINCT consumer_id FROM allocations"),
    ("placement", "SELECT c.uuid, t.name FROM consumers AS c JOIN consumer_types AS t "
                  "ON t.id = c.consumer_type_id"),
    ("placement", "SELECT id, uuid, name, parent_provider_id FROM resource_providers"),
    ("placement", "SELECT DISTINCT resource_provider_id FROM inventories WHERE resource_class_id IN (0, 1)"),
    ("cinder", "SELECT id, status, attach_status, deleted FROM volumes"),
    ("cinder", "SELECT id, volume_id, instance_uuid, attach_status FROM volume_attachment WHERE deleted = 0"),
    ("cinder", "SELECT project_id, resource, in_use FROM quota_usages WHERE deleted = 0"),
)  # fmt: skip


def key_reads(release: str) -> list[tuple[str, str]]:
    """KEY_READS plus the reads whose SQL depends on the release: instance-stuck's stale tasks and
    the four Cinder usage aggregates cinder-quota-drift recounts from (what `quota check` reads)."""
    stale = ("nova", "SELECT uuid, vm_state, task_state, host, updated_at FROM instances WHERE task_state IS "
             "NOT NULL AND deleted = 0 AND (updated_at IS NULL OR updated_at <= UTC_TIMESTAMP() - INTERVAL "
             "3600 SECOND)")  # fmt: skip
    usage = [("cinder", sql) for sql in cinder_quota.usage_queries(release, None, None).values()]
    return [*KEY_READS, stale, *usage]


def seed(dep: Deployment, instances: int, volumes: int, chunk: int) -> None:
    """Through the Seeder when the counts do not divide into COPIES copies (small runs), else a
    template of instances/COPIES instances, one on each host, copied server-side (seed/clone.py)."""
    if instances % (COPIES * 5) or volumes % COPIES or instances < COPIES * 5:
        seed_directly(dep, instances, volumes, chunk)
        return
    tpl, tpl_volumes = instances // COPIES, volumes // COPIES
    t0 = time.monotonic()
    with Seeder(dep, seed=5) as s:
        hosts = s.hosts_for(instances)  # one host per 40 instances: each gets one template instance
        seeded = s.bulk_instances(tpl, hosts=hosts, projects=max(3, instances // 2000), chunk=chunk)
        seed_volumes(s, seeded, tpl_volumes, chunk)
        print(f"  template: {len(seeded)} instances on {len(hosts)} hosts, {tpl_volumes} volumes, "
              f"{time.monotonic() - t0:.0f}s", flush=True)  # fmt: skip
        t1 = time.monotonic()
        clone.copy_template(dep, COPIES - 1, template_instances=tpl, template_volumes=tpl_volumes,
                            log=lambda m: print(m, flush=True))  # fmt: skip
        clone.verify_unique(dep)
        clone.scale_hosts(s, COPIES)
        s.flush()
        s.sync_cinder_quota_usages()
        print(f"  {COPIES - 1} copies written server-side in {time.monotonic() - t1:.0f}s "
              f"(seeding {time.monotonic() - t0:.0f}s in all)", flush=True)  # fmt: skip
    plant(dep, seeded[0].uuid)


def seed_volumes(s: Seeder, seeded: list, volumes: int, chunk: int) -> None:
    for i in range(volumes):
        attach = seeded[(i * 7) % len(seeded)] if i % 5 == 0 and seeded else None
        extra = 1 if i % 10 == 0 else 0
        s.volume(project_id=None if attach else seeded[i % len(seeded)].project_id, attach_to=attach,
                 snapshots=extra, backups=extra)  # fmt: skip
        if (i + 1) % chunk == 0:
            s.flush(background=True)
    s.flush()


def plant(dep: Deployment, uuid: str) -> None:
    dep.execute("nova", "UPDATE instances SET task_state = 'rebooting', updated_at = '2021-01-01' "
                "WHERE uuid = %s", (uuid,))  # fmt: skip


def seed_directly(dep: Deployment, instances: int, volumes: int, chunk: int) -> None:
    t0 = time.monotonic()
    with Seeder(dep, seed=5) as s:
        seeded = s.bulk_instances(instances, projects=max(3, instances // 2000), chunk=chunk)
        print(f"  {len(seeded)} instances seeded in {time.monotonic() - t0:.0f}s", flush=True)
        t1 = time.monotonic()
        seed_volumes(s, seeded, volumes, chunk)
        print(f"  {volumes} volumes seeded in {time.monotonic() - t1:.0f}s", flush=True)
    plant(dep, seeded[0].uuid)


def plain_client(dep: Deployment) -> float:
    server = dep.server
    env = dict(os.environ, MYSQL_PWD=server.password or "")
    base = ["mariadb", "--batch", "--skip-column-names", "-u", server.user or "root"]
    if server.unix_socket:
        base += ["--socket", server.unix_socket]
    else:
        base += ["-h", server.host or "127.0.0.1", "-P", str(server.port or 3306)]
    t0 = time.perf_counter()
    for role, sql in key_reads(dep.release):
        subprocess.run([*base, "-D", dep.names[role], "-e", sql], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t0


def cinder_manage(dep: Deployment) -> None:
    """Time `cinder-manage quota check` (all projects) on the same Cinder database, when the release's
    Cinder venv that the test suite builds (~/.cache/fixpack-test/venv-cinder-VERSION) is there."""
    version = release_spec(dep.release).cinder
    cache = Path(os.environ.get("FIXPACK_TEST_CACHE", Path.home() / ".cache" / "fixpack-test"))
    binary = cache / f"venv-cinder-{version}" / "bin" / "cinder-manage"
    if not binary.exists():
        print(f"cinder-manage quota check: not measured ({binary} not built; cinder {version})")
        return
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "cinder.conf"
        url = dep.url("cinder").render(with_password=True)  # mysql+pymysql://: Cinder's driver too
        conf.write_text(f"[DEFAULT]\nlog_dir = {tmp}\n[database]\nconnection = {url}\n")
        conf.chmod(0o600)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        command = [str(binary), "--config-file", str(conf), "quota", "check"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    projects = done.stdout.count("Processing quota usage for project")
    tail = next((x for x in reversed(done.stderr.splitlines()) if "Error" in x), "see its stderr")[:200]
    failed = done.returncode not in (0, 1) or "Action successfully completed" not in done.stdout
    status = f"exit {done.returncode}" + (f", failed: {tail}" if failed else "")
    print(f"cinder-manage quota check ({version}): {wall:.2f}s wall, {cpu:.2f}s CPU, {projects} project(s), "
          f"{status}; load {os.getloadavg()}")  # fmt: skip


def pymysql_fetch(dep: Deployment) -> float:
    t0 = time.perf_counter()
    conns = {}
    for role, sql in key_reads(dep.release):
        conn = conns.get(role) or admin_connection(dep.server, dep.names[role])
        conns[role] = conn
        with conn.cursor() as cur:
            cur.execute(sql)
            cur.fetchall()
    for conn in conns.values():
        conn.close()
    return time.perf_counter() - t0


def _keep(path: Path, dep: Deployment, server: ProvidedServer) -> None:
    """Leave the seeded server running and say how to reach it again (--reuse) and stop it."""
    handle = getattr(server, "_handle", None)
    state = {"url": dep.server.render(with_password=True), "release": dep.release, "names": dep.names,
             "cell1_uuid": dep.cell1_uuid, "root": str(getattr(handle, "root", ""))}  # fmt: skip
    path.write_text(json.dumps(state))
    path.chmod(0o600)
    pid = getattr(getattr(handle, "_proc", None), "pid", None)
    print(f"kept the seeded deployment: {path} (server pid {pid or '?'}; stop it yourself)")


def private(base: Path, pool: str | None) -> ProvidedServer:
    base.mkdir(parents=True, exist_ok=True)
    extra = (f"--innodb-buffer-pool-size={pool}",) if pool else ()
    server = ScratchServer(base_dir=str(base), extra_args=extra).start()
    return ProvidedServer(server.url, "local", f"private server in {server.root}", server)


def _reused(path: Path) -> Deployment:
    state = json.loads(path.read_text())
    return Deployment(parse_url(state["url"]), state["release"], state["names"], state["cell1_uuid"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="?", type=int, default=100_000)
    parser.add_argument("--volumes", type=int, default=None, help="default: instances / 5")
    parser.add_argument("--release", default="2025.1")
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="leave the seeded server running, its URL in this file")
    parser.add_argument("--reuse", type=Path, help="scan the deployment a --keep run left (no seeding)")
    parser.add_argument(
        "--datadir",
        type=Path,
        help="start a private server with its data under this "
        "directory (default: what the test suite uses, /dev/shm when writable)",
    )
    parser.add_argument(
        "--buffer-pool",
        default=None,
        help="innodb_buffer_pool_size of a --datadir server "
        "(e.g. 6G: the seeded million-instance cloud is about that size)",
    )
    args = parser.parse_args()
    all_checks()  # every check module loaded now: a run times the code as it was at its start
    volumes = args.instances // 5 if args.volumes is None else args.volumes

    server = (
        None if args.reuse else (private(args.datadir, args.buffer_pool) if args.datadir else provide("auto"))
    )
    keep = False
    try:
        if server is None:
            dep = _reused(args.reuse)
            print(f"reusing {args.reuse}; release {dep.release}; load {os.getloadavg()}", flush=True)
        else:
            dep = create_deployment(server.url, args.release)
            print(f"server: {server.description}; release {args.release}; load {os.getloadavg()}", flush=True)
            seed(dep, args.instances, volumes, args.chunk)
        profile(dep)
        for run in range(1, args.runs + 1):
            scan_once(dep, run)
        for label, read in (("plain mariadb client", plain_client), ("PyMySQL fetchall    ", pymysql_fetch)):
            server_before = server_cpu(dep)
            wall = read(dep)
            server_after = server_cpu(dep)
            used = (
                "n/a"
                if server_before is None or server_after is None
                else f"{server_after - server_before:.2f}s"
            )
            print(
                f"{label}, every key once: {wall:.2f}s wall, {used} CPU of the server; load {os.getloadavg()}"
            )
        cinder_manage(dep)
        if args.keep and server is not None:
            _keep(args.keep, dep, server)
            keep = True
        elif server is not None:
            dep.drop()
    finally:
        if server is not None and not keep:
            server.stop()


def profile(dep: Deployment) -> None:
    """The data profile and the server configuration the figures are for."""
    with admin_connection(dep.server, None) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT @@innodb_buffer_pool_size, VERSION(), @@max_allowed_packet, "
            "@@innodb_flush_log_at_trx_commit"
        )
        pool, version, packet, flush = cur.fetchone()
    print(f"  server {version}, innodb_buffer_pool_size {pool // 2**20} MiB, max_allowed_packet "
          f"{packet // 2**20} MiB, innodb_flush_log_at_trx_commit {flush}")  # fmt: skip
    tables = (("nova", "instances"), ("nova", "block_device_mapping"), ("nova_api", "instance_mappings"),
              ("placement", "consumers"), ("placement", "allocations"), ("cinder", "volumes"),
              ("cinder", "volume_attachment"), ("cinder", "snapshots"), ("cinder", "backups"),
              ("cinder", "quota_usages"))  # fmt: skip
    for role, table in tables:
        n = dep.query(role, f"SELECT COUNT(*) AS n FROM `{table}`")[0]["n"]
        print(f"  {role}.{table}: {n} rows")


def server_cpu(dep: Deployment) -> float | None:
    """The database server's CPU seconds so far (a private server on this machine), else None."""
    try:
        with admin_connection(dep.server, None) as conn, conn.cursor() as cur:
            cur.execute("SELECT @@pid_file")
            pid = int(Path(cur.fetchone()[0]).read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan_once(dep: Deployment, run: int) -> None:
    urls = {r: dep.url(r).render(with_password=True) for r in ("nova_api", "placement", "cinder")}
    targets = resolve(ConnectionOptions(urls=urls), env={})
    marks: list[tuple[str, float]] = []
    server_before = server_cpu(dep)
    before = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    report = run_scan(targets, progress=lambda cid, m=marks: m.append((cid, time.perf_counter())))
    rendered = render_json(report)
    wall = time.perf_counter() - t0
    digest = hashlib.sha256(rendered.encode()).hexdigest()[:16]  # the same data gives the same report
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    server_after = server_cpu(dep)
    server = (
        "n/a" if server_before is None or server_after is None else f"{server_after - server_before:.2f}s"
    )
    ends = [t for _c, t in marks[1:]] + [t0 + wall]
    per_check = ", ".join(f"{c} {end - t:.2f}" for (c, t), end in zip(marks, ends, strict=True))
    print(f"  per check (s; the first to need a key set pays its read): {per_check}")
    cache = "buffer pool warm from seeding" if run == 1 else "fully warm (a scan ran before)"
    print(
        f"scan run {run} ({cache}): {wall:.2f}s wall, {cpu:.2f}s CPU of the scan process, "
        f"{server} CPU of the server, "
        f"{report.round_trips} round trips, {len(report.findings)} finding(s), "
        f"skipped {len(report.skipped)}, JSON report sha256 {digest}; "
        f"load {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
