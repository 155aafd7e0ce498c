"""`fixpack scan` against a seeded cloud, one release per distinct schema set: exactly the planted
inconsistencies are reported (never a healthy look-alike), exit codes 0/1/partial, and the
table output keeps hostile database values inert."""

from __future__ import annotations

import json

import pytest

from generator.scratch.deployment import create_deployment
from tests.conftest import SCHEMA_SET_RELEASES
from tests.review_fixtures import run_cli
from tests.scan_world import HOSTILE_HOST, build_scan_world

pytestmark = pytest.mark.db

ALL_CHECKS = {
    "volume-attached-to-deleted-instance", "bdm-without-volume", "volume-stuck", "instance-stuck",
    "allocation-orphaned", "instance-without-mapping", "mapping-without-instance",
    "instance-on-missing-host", "provider-without-compute-node", "cinder-quota-drift",
    "build-request-stale",
}  # fmt: skip


def url_args(dep, roles=("nova_api", "placement", "cinder")) -> list[str]:
    out = []
    for role in roles:
        out += [f"--{role.replace('_', '-')}-url", dep.url(role).render(with_password=True)]
    return out


@pytest.fixture(scope="module", params=SCHEMA_SET_RELEASES)
def world(request, db_server):
    dep = create_deployment(db_server.url, request.param)
    try:
        yield dep, build_scan_world(dep)
    finally:
        dep.drop()


def scan_json(dep, capsys, *extra: str) -> tuple[int, dict, str]:
    code, out, err = run_cli(["scan", "--format", "json", *url_args(dep), *extra], capsys)
    return code, json.loads(out), err


def test_scan_reports_exactly_the_planted_cases(world, capsys):
    dep, planted = world
    code, report, err = scan_json(dep, capsys)
    found = {(f["check"], f["uuid"]) for f in report["findings"]}
    assert found == planted.expected, (found - planted.expected, planted.expected - found)
    assert report["skipped"] == {}
    assert set(report["checked"]) == ALL_CHECKS and all(n > 0 for n in report["checked"].values())
    assert code == 1 and err == ""
    reported = {f["uuid"] for f in report["findings"]} | {
        v for f in report["findings"] for v in f["details"].values() if isinstance(v, str)
    }
    for what, uuid in planted.lookalikes.items():
        assert uuid not in reported, f"healthy look-alike reported: {what}"
    for f in report["findings"]:
        assert f["suggested"] and f["service"] in ("nova", "nova_api", "placement", "cinder")
        assert set(f) == {"check", "uuid", "service", "details", "suggested"}


def test_suggested_commands(world, capsys):
    dep, _planted = world
    _code, report, _err = scan_json(dep, capsys)
    by_check = {f["check"]: f for f in report["findings"]}
    orphan = by_check["allocation-orphaned"]
    assert orphan["suggested"] == f"fixpack allocation {orphan['uuid']} --op delete"
    assert orphan["details"]["alternative"].startswith("openstack resource provider allocation delete ")
    for check in ("mapping-without-instance", "build-request-stale"):
        assert by_check[check]["suggested"] == f"fixpack mapping {by_check[check]['uuid']} --op delete"
    assert by_check["provider-without-compute-node"]["suggested"].startswith(
        "openstack resource provider delete "
    )
    assert by_check["cinder-quota-drift"]["suggested"].startswith("cinder-manage quota sync --project-id ")
    assert by_check["instance-stuck"]["suggested"].startswith("openstack server set --state active ")
    missing = by_check["instance-on-missing-host"]
    assert missing["details"]["host"] == HOSTILE_HOST  # JSON carries the value, escaped by json itself
    assert "--op rehost" in missing["suggested"] and "--op soft-delete" in missing["details"]["alternative"]
    assert by_check["mapping-without-instance"]["suggested"].endswith("--op delete")


def test_clean_scan_exits_0(world, capsys):
    """Every selected check ran and found nothing: 0 (the threshold puts every planted state in flight)."""
    dep, _planted = world
    code, report, _err = scan_json(dep, capsys, "--check", "instance-stuck", "--older-than", "3650d")
    assert (code, report["findings"], report["skipped"]) == (0, [], {})
    assert report["checked"]["instance-stuck"] > 100


def test_partial_scan_is_never_0(world, capsys):
    dep, _planted = world
    code, out, _err = run_cli(
        ["scan", "--format", "json", "--check", "volume-stuck", "--check", "instance-stuck",
         "--older-than", "3650d", *url_args(dep, ("nova_api",))], capsys,
    )  # fmt: skip
    report = json.loads(out)
    assert code == 3 and report["findings"] == []
    assert list(report["skipped"]) == ["volume-stuck"] and "Cinder" in report["skipped"]["volume-stuck"]
    assert list(report["checked"]) == ["instance-stuck"]


def test_unreachable_database_is_skipped_with_its_reason(world, capsys):
    dep, planted = world
    bad = dep.url("cinder").render(with_password=True).replace(dep.names["cinder"], "no_such_database_x")
    code, out, err = run_cli(
        ["scan", "--format", "json", *url_args(dep, ("nova_api", "placement")), "--cinder-url", bad], capsys
    )
    report = json.loads(out)
    assert code == 3
    cinder_checks = {"volume-attached-to-deleted-instance", "volume-stuck", "cinder-quota-drift",
                     "bdm-without-volume"}  # fmt: skip
    assert set(report["skipped"]) == cinder_checks
    assert all("no such database" in r for r in report["skipped"].values())
    found = {(f["check"], f["uuid"]) for f in report["findings"]}
    assert found == {e for e in planted.expected if e[0] not in cinder_checks}
    password = dep.url("cinder").password
    if password:
        assert password not in out + err


def test_table_output_is_readable_and_inert(world, capsys):
    dep, planted = world
    code, out, _err = run_cli(["scan", *url_args(dep)], capsys)
    assert code == 1
    assert "\x1b" not in out and "`id`" in out  # escape sequences shown escaped; backticks inert text
    line = next(x for x in out.splitlines() if "host=" in x and "cmp-" in x and "pwn" in x)
    assert "\\x1b[31m\\x0ared" in line  # the newline inside the value stays on the value's line
    for check_id in ALL_CHECKS:
        assert f"\n{check_id} (" in "\n" + out
    assert (
        out.rstrip().splitlines()[-1].startswith(f"scan: {len(planted.expected)} finding(s) in 11 check(s)")
    )
    for check_id, uuid in planted.expected:
        assert uuid in out, check_id


def test_no_database_is_one_line_error(capsys):
    code, out, err = run_cli(["scan"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "connection options" in err


def test_bad_duration_is_one_line_error(capsys):
    code, _out, err = run_cli(["scan", "--older-than", "soon", "--nova-url", "mysql+pymysql://x@h/d"], capsys)
    assert code == 2 and err.count("\n") == 1 and "not a duration" in err


@pytest.mark.parametrize("short_json", [False, True], ids=["json", "truncated-json-falls-back"])
def test_bulk_reads_are_complete_and_exact(world, short_json):
    """keyed_rows pages through every row (chunks of 7) and returns each value exactly (the hostile
    host included); a chunk whose JSON a server limit cut short is read again as plain rows."""
    from generator.connect import open_session
    from generator.connect.sources import ConnectionOptions, resolve
    from generator.scan.fetch import keyed_rows

    dep, _planted = world
    targets = resolve(ConnectionOptions(urls={"nova": dep.url("nova").render(with_password=True)}), env={})
    with open_session(targets.get("nova"), targets) as session:
        if short_json:
            session.execute_raw("SET SESSION group_concat_max_len = 200")
            session._bulk_ready = True
        rows = keyed_rows(session, "instances", "id", ("uuid", "host", "deleted"), chunk=7)
        plain = session.query_tuples("SELECT uuid, host, deleted FROM instances ORDER BY id")
    assert [tuple(r) for r in rows] == list(plain) and len(plain) > 100
    assert HOSTILE_HOST in {r[1] for r in rows}


def test_missing_host_is_compared_byte_for_byte(make_deployment, capsys):
    """A host that equals a live service's host only under the collation (case, trailing space)
    is still missing: Nova looks services up by the exact name. The look-alike on the service's
    own host is not reported."""
    from generator.seed import Seeder

    dep = make_deployment("2025.1")
    with Seeder(dep, seed=3) as s:
        host = s.compute_host("cmp-01")
        fine, upper, spaced = (s.instance(host=host) for _ in range(3))
        s.flush()
    for uuid, name in ((upper.uuid, "CMP-01"), (spaced.uuid, "cmp-01 ")):
        dep.execute("nova", "UPDATE instances SET host = %s WHERE uuid = %s", (name, uuid))
    code, report, _err = scan_json(dep, capsys, "--check", "instance-on-missing-host")
    found = sorted((f["uuid"], f["details"]["host"]) for f in report["findings"])
    assert found == sorted([(upper.uuid, "CMP-01"), (spaced.uuid, "cmp-01 ")]), found
    assert fine.uuid not in {f["uuid"] for f in report["findings"]}
    assert code == 1


@pytest.mark.parametrize("short", [False, True], ids=["joined", "truncated-falls-back"])
def test_joined_text_reads_are_exact(world, short):
    """keyed_values(text=True) gives back exactly the column's values: chunks holding a NULL
    (shelved instances have no host) or a value with a comma come as JSON instead, and so does a
    chunk a server limit cut short; clean chunks come comma-joined."""
    from generator.connect import open_session
    from generator.connect.sources import ConnectionOptions, resolve
    from generator.scan.fetch import keyed_values

    dep, _planted = world
    before = dep.query("nova", "SELECT host FROM instances WHERE id = 3")[0]["host"]
    dep.execute("nova", "UPDATE instances SET host = 'cmp-01,cmp-02' WHERE id = 3")
    targets = resolve(ConnectionOptions(urls={"nova": dep.url("nova").render(with_password=True)}), env={})
    try:
        with open_session(targets.get("nova"), targets) as session:
            if short:
                session.execute_raw("SET SESSION group_concat_max_len = 200")
                session._bulk_ready = True
            hosts = keyed_values(session, "instances", "id", "host", chunk=7, text=True)
            uuids = keyed_values(session, "instances", "uuid", "uuid", chunk=7, text=True)
            plain = session.query_tuples("SELECT host, uuid FROM instances ORDER BY id")
    finally:
        dep.execute("nova", "UPDATE instances SET host = %s WHERE id = 3", (before,))
    assert hosts == [r[0] for r in plain] and len(plain) > 100
    assert None in hosts and "cmp-01,cmp-02" in hosts and HOSTILE_HOST in hosts
    assert sorted(uuids) == sorted(r[1] for r in plain)
