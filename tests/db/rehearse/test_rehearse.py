"""`fixpack rehearse`: good bundles pass end to end; a stale guard and a broken rollback fail clearly.

Runs with `--backend local` (a private server from the installed binaries,
started by the command itself) and `--backend url:` (the test session's
server); the docker backend has its own module.
"""

# ruff: noqa: F401, F811  (pytest fixtures are imported by name and requested by parameter)

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.rehearse.loading import ScratchDatabases
from generator.rehearse.report import FAILED, NOT_RUN, PASSED, SKIPPED
from generator.rehearse.runner import Rehearsal
from generator.review.bundle import Bundle
from generator.scratch.deployment import admin_connection
from generator.scratch.provider import ProvidedServer
from tests.db.plan.test_vm_bundles import seed_world
from tests.review_fixtures import (
    ALL_OPS,
    REVIEW_RELEASES,
    copy_bundle,
    edit,
    good_bundles,
    reseal,
    run_cli,
    soft_delete_bundle,
    steps_by_phase,
)

pytestmark = pytest.mark.db
NO_DATABASE = resolve(ConnectionOptions(), env={})


def rehearse_json(argv: list[str], capsys) -> tuple[int, dict]:
    code, out, err = run_cli(["rehearse", *argv, "--format", "json"], capsys)
    assert not err, err
    return code, json.loads(out)


def by_phase(report: dict, phase: str) -> list[dict]:
    return [s for s in report["steps"] if s["phase"] == phase]


def test_good_bundles_of_every_operation_pass_locally(good_bundles, tmp_path: Path, capsys) -> None:
    paths = [good_bundles[(release, op)] for release in REVIEW_RELEASES for op in ALL_OPS]
    junit = tmp_path / "rehearse.xml"
    code, result = rehearse_json([*map(str, paths), "--backend", "local", "--junit", str(junit)], capsys)
    assert code == 0, [r["steps"] for r in result["bundles"] if not r["passed"]]
    assert result["passed"] and result["backend"] == "local"
    for report, path in zip(result["bundles"], paths, strict=True):
        manifest = json.loads((path / "manifest.json").read_text())
        assert report["passed"] and report["counts"][FAILED] == 0 and report["counts"][NOT_RUN] == 0
        sql_applies = [s["file"] for s in steps_by_phase(manifest, "apply") if s["kind"] == "sql"]
        assert [s["name"] for s in by_phase(report, "apply") if s["status"] == PASSED] == sql_applies
        assert [s["name"] for s in by_phase(report, "re-apply")] == sql_applies
        assert all("already done; nothing changed" in s["detail"] for s in by_phase(report, "re-apply"))
        assert all(s["status"] == SKIPPED for s in report["steps"] if s["name"].startswith("shell/"))
        checks = {s["name"]: s["status"] for s in by_phase(report, "check")}
        assert checks == {
            "precheck changed nothing": PASSED,
            "apply changed only recorded rows": PASSED,
            "re-apply changed nothing": PASSED,
            "rollback restored identical tables": PASSED,
            "second rollback changed nothing": PASSED,
        }
        for phase in ("precheck", "verify", "rollback", "re-rollback"):
            assert [s["name"] for s in by_phase(report, phase)] == [
                s["file"] for s in steps_by_phase(manifest, "rollback" if phase == "re-rollback" else phase)
            ]
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and len(suites) == len(paths)
    assert sum(len(suite.findall("testcase")) for suite in suites) == sum(
        len(r["steps"]) for r in result["bundles"]
    )
    assert suites.get("failures") == "0"


def test_guard_that_no_longer_holds_fails_at_precheck(
    soft_delete_bundle: Path, tmp_path: Path, capsys
) -> None:
    # The recorded pre-image of the instance no longer matches what the guards were computed from:
    # the rows a rehearsal (or production) holds are not the rows the bundle was made for.
    preimages = json.loads((soft_delete_bundle / "data/preimages.json").read_text())
    instances = preimages["nova"]["instances"]
    instances["rows"][0][instances["columns"].index("vm_state")] = "active"
    (soft_delete_bundle / "data/preimages.json").write_text(json.dumps(preimages, indent=1) + "\n")
    reseal(soft_delete_bundle, "data/preimages.json")  # so the checksum is not what catches it

    junit = tmp_path / "stale.xml"
    code, result = rehearse_json(
        [str(soft_delete_bundle), "--backend", "local", "--junit", str(junit)], capsys
    )
    report = result["bundles"][0]
    assert code == 1 and not report["passed"]
    failed = [s for s in report["steps"] if s["status"] == FAILED]
    assert [s["phase"] for s in failed] == ["precheck"]
    assert failed[0]["target"] == "db:nova"
    assert "guard failed at line" in failed[0]["detail"]
    assert "instances: still as at generation" in failed[0]["detail"]
    assert "instances was drift" in failed[0]["detail"]
    assert "ERROR 1242" in failed[0]["output"]
    assert all(s["status"] == NOT_RUN for s in by_phase(report, "apply") + by_phase(report, "rollback"))
    assert all(s["status"] == PASSED for s in by_phase(report, "precheck") if s["target"] != "db:nova")
    case = next(c for c in ET.parse(junit).getroot().iter("testcase") if c.find("failure") is not None)
    assert case.get("name") == failed[0]["name"] and "instances" in case.find("failure").get("message")

    code, out, _ = run_cli(["rehearse", str(soft_delete_bundle), "--backend", "local"], capsys)
    assert code == 1 and f"FAILED at precheck: {failed[0]['name']}" in out


def test_broken_rollback_fails_naming_the_table(soft_delete_bundle: Path, capsys) -> None:
    manifest = json.loads((soft_delete_bundle / "manifest.json").read_text())
    rel = next(s["file"] for s in steps_by_phase(manifest, "rollback") if s["target"] == "db:nova")
    # restore a wrong vm_state: 'error' (hex 6572726F72) becomes 'erros'
    edit(
        soft_delete_bundle,
        rel,
        "`vm_state` = _utf8mb4 x'6572726F72'",
        "`vm_state` = _utf8mb4 x'6572726F73'",
    )
    reseal(soft_delete_bundle, rel)

    code, result = rehearse_json([str(soft_delete_bundle), "--backend", "local"], capsys)
    report = result["bundles"][0]
    assert code == 1
    failed = {s["name"]: s for s in report["steps"] if s["status"] == FAILED}
    assert list(failed) == [rel, "rollback restored identical tables"]
    detail = failed[rel]["detail"]
    assert "step 1: instances: " in detail and "rows now match the planned result" in detail
    assert "nova.instances" in failed["rollback restored identical tables"]["detail"]
    assert all(s["status"] == PASSED for s in by_phase(report, "apply") if s["name"].startswith("sql/"))
    assert all(s["status"] == NOT_RUN for s in by_phase(report, "re-rollback"))


def test_tampered_bundle_is_not_rehearsed(soft_delete_bundle: Path, capsys) -> None:
    edit(soft_delete_bundle, "README.md", "#", "# edited")
    code, result = rehearse_json([str(soft_delete_bundle), "--backend", "local"], capsys)
    steps = result["bundles"][0]["steps"]
    assert code == 1 and steps[0]["phase"] == "checksums" and steps[0]["status"] == FAILED
    assert "README.md: MODIFIED" in steps[0]["detail"]
    assert {s["status"] for s in steps[1:]} == {NOT_RUN}


def test_url_backend_leaves_no_database_behind(good_bundles, db_server, tmp_path: Path, capsys) -> None:
    bundle = copy_bundle(good_bundles[(REVIEW_RELEASES[0], "purge")], tmp_path)

    def scratch_databases() -> set[str]:
        conn = admin_connection(db_server.url, None)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW DATABASES LIKE 'fxr%'")
                return {r[0] for r in cur.fetchall()}
        finally:
            conn.close()

    before = scratch_databases()
    url = db_server.url.render(with_password=True)
    code, result = rehearse_json([str(bundle), "--backend", f"url:{url}"], capsys)
    assert code == 0, result
    assert result["backend"] == "url" and (db_server.url.password or "@@") not in json.dumps(result)
    assert scratch_databases() == before


def test_bad_backend_is_one_line(soft_delete_bundle: Path, capsys) -> None:
    code, out, err = run_cli(["rehearse", str(soft_delete_bundle), "--backend", "podman"], capsys)
    assert code == 2 and out == ""
    assert err.strip().startswith("fixpack: error: unknown backend 'podman'")


def test_docker_backend_without_engine_says_why(soft_delete_bundle: Path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(
        "generator.rehearse.backends.docker_engine_available",
        lambda: (False, "no Docker engine answers (Cannot connect to the Docker daemon)"),
    )
    code, out, err = run_cli(["rehearse", str(soft_delete_bundle), "--backend", "docker"], capsys)
    assert code == 2 and out == ""
    why = "no Docker engine answers (Cannot connect to the Docker daemon)"
    assert err == f"fixpack: error: docker backend unavailable: {why}\n"


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_offline_bundle_capture_becomes_its_rollback(
    make_deployment, db_server, tmp_path: Path, op: str
) -> None:
    """An offline bundle recorded no rows: given a copy of the real rows, the rehearsal runs its
    capture steps (their output is the rollback) and proves apply, re-run and rollback."""
    dep = make_deployment("2025.1")
    target = seed_world(dep, op=op)
    result = generate_vm(
        target.uuid, VmOptions(op=op), NO_DATABASE, "2025.1", OutputOptions(out_dir=tmp_path)
    )
    bundle = Bundle.open(result.path)
    assert bundle.mode == "offline" and bundle.produced_at_run_time

    def copy_rows(scratch: ScratchDatabases) -> None:
        for role, name in scratch.names.items():
            conn = admin_connection(db_server.url, name)
            try:
                with conn.cursor() as cur:
                    cur.execute("SET SESSION foreign_key_checks = 0")
                    cur.execute("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'")
                    for table in scratch.schemas[role].table_names:
                        cur.execute(f"DELETE FROM `{table}`")
                        cur.execute(f"INSERT INTO `{table}` SELECT * FROM `{dep.names[role]}`.`{table}`")
            finally:
                conn.close()

    server = ProvidedServer(db_server.url, "url", "the test session's server")
    report = Rehearsal(bundle, server, prepare=copy_rows).run()
    assert report.passed, report.to_text()
    captures = [s for s in report.steps if s.phase == "capture"]
    assert captures and all(s.status == PASSED and s.detail.startswith("wrote captured/") for s in captures)
    rollbacks = [s for s in report.steps if s.phase == "rollback"]
    assert rollbacks and all(s.name.startswith("captured/") and s.status == PASSED for s in rollbacks)
    assert not (result.path / "captured").exists(), "the reviewed bundle is never written into"
