"""`fixpack verify`: checksums by file offline; schema, guards and row-by-row drift live, read-only."""

# ruff: noqa: F401, F811  (pytest fixtures are imported by name and requested by parameter)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.errors import FixpackError
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.review.drift import read_only_select
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.db.plan.test_vm_bundles import generate, seed_world
from tests.review_fixtures import (
    edit,
    good_bundles,
    run_cli,
    soft_delete_bundle,
    steps_by_phase,
)

pytestmark = pytest.mark.db


def verify_json(argv: list[str], capsys) -> tuple[int, dict]:
    code, out, err = run_cli(["verify", *argv, "--format", "json"], capsys)
    assert not err, err
    return code, json.loads(out)


def test_untouched_bundle_passes(soft_delete_bundle: Path, capsys) -> None:
    code, out, _ = run_cli(["verify", str(soft_delete_bundle)], capsys)
    assert code == 0
    assert "all match the manifest" in out
    assert out.strip().splitlines()[-1].startswith("PASSED: INTACT")


def test_one_byte_changed_fails_naming_the_file(soft_delete_bundle: Path, capsys) -> None:
    manifest = json.loads((soft_delete_bundle / "manifest.json").read_text())
    rel = steps_by_phase(manifest, "apply")[1]["file"]
    path = soft_delete_bundle / rel
    data = bytearray(path.read_bytes())
    at = data.index(b"x'") + 2
    data[at] = ord("A") if data[at] != ord("A") else ord("B")  # one byte of one hex literal
    path.write_bytes(bytes(data))
    code, report = verify_json([str(soft_delete_bundle)], capsys)
    assert code == 1 and not report["passed"]
    bad = [f for f in report["files"] if f["status"] != "ok"]
    assert [(f["path"], f["status"]) for f in bad] == [(rel, "modified")]
    code, out, _ = run_cli(["verify", str(soft_delete_bundle)], capsys)
    assert code == 1 and f"{rel}: MODIFIED since generation" in out and "TAMPERED" in out


def test_missing_added_and_harmless_files(soft_delete_bundle: Path, capsys) -> None:
    (soft_delete_bundle / "README.md").unlink()
    (soft_delete_bundle / "sql" / "25-extra.sql").write_text("DELETE FROM instances;\n")
    (soft_delete_bundle / "precheck-output.log").write_text("saved output\n")
    code, report = verify_json([str(soft_delete_bundle)], capsys)
    statuses = {f["path"]: f["status"] for f in report["files"] if f["status"] != "ok"}
    assert code == 1
    assert statuses == {
        "README.md": "missing",
        "sql/25-extra.sql": "unlisted",
        "precheck-output.log": "extra",
    }


def test_guard_queries_must_be_plain_selects() -> None:
    assert read_only_select("SELECT COUNT(*) FROM `tags` WHERE `tags`.`resource_id` = 'x'")
    for sql in (
        "DELETE FROM tags",
        "SELECT 1; DROP TABLE tags",
        "SELECT COUNT(*) FROM tags FOR UPDATE",
        "SELECT 1 INTO @x",
    ):
        with pytest.raises(FixpackError):
            read_only_select(sql)


def _urls(dep) -> list[str]:
    """nova_api, placement and cinder (the instances have volumes): the cell database is found
    from cell_mappings."""
    return [
        "--nova-api-url",
        dep.url("nova_api").render(with_password=True),
        "--placement-url",
        dep.url("placement").render(with_password=True),
        "--cinder-url",
        dep.url("cinder").render(with_password=True),
    ]


def test_live_applies_then_drift_row_by_row_then_applied(make_deployment, tmp_path: Path, capsys) -> None:
    dep = make_deployment("2025.1")
    target = seed_world(dep, op="purge")
    result = generate(dep, target.uuid, "purge", tmp_path)
    bundle = str(result.path)
    before = all_states(dep)

    code, report = verify_json([bundle, *_urls(dep)], capsys)
    assert code == 0, report
    assert report["verdict"].startswith("APPLIES")
    assert {d["role"] for d in report["live"]} == {"nova", "nova_api", "placement", "cinder"}
    assert all(d["schema_ok"] and all(g["state"] == "pending" for g in d["guards"]) for d in report["live"])
    assert_identical(before, all_states(dep))  # verify wrote nothing

    # drift: a changed column, a row that left the scope, a row that joined it
    dep.execute("nova", "UPDATE instances SET vm_state = 'active' WHERE uuid = %s", (target.uuid,))
    bdm = dep.query(
        "nova", "SELECT id FROM block_device_mapping WHERE instance_uuid = %s ORDER BY id", (target.uuid,)
    )
    dep.execute("nova", "UPDATE block_device_mapping SET deleted = id WHERE id = %s", (bdm[0]["id"],))
    dep.execute("nova", "INSERT INTO tags (resource_id, tag) VALUES (%s, 'late-tag')", (target.uuid,))
    code, out, _ = run_cli(["verify", bundle, *_urls(dep)], capsys)
    assert code == 1
    assert "instances id=" in out and "vm_state: 'error' -> 'active'" in out
    assert f"block_device_mapping id={bdm[0]['id']}: deleted: 0 -> {bdm[0]['id']}" in out
    assert "tags: 3 row(s) in the step's scope now, 2 at generation" in out
    assert "tag='late-tag': in the scope now, not recorded by the bundle" in out
    assert "FAILED: DRIFTED" in out
    code, report = verify_json([bundle, *_urls(dep)], capsys)
    nova = next(d for d in report["live"] if d["role"] == "nova")
    assert {g["table"] for g in nova["guards"] if g["state"] == "drift"} == {
        "instances",
        "block_device_mapping",
        "tags",
    }

    dep.execute("nova", "UPDATE instances SET vm_state = 'error' WHERE uuid = %s", (target.uuid,))
    dep.execute("nova", "UPDATE block_device_mapping SET deleted = 0 WHERE id = %s", (bdm[0]["id"],))
    dep.execute("nova", "DELETE FROM tags WHERE tag = 'late-tag'")
    assert_all_ok(BundleRun(dep, result.path).run("apply"))
    code, report = verify_json([bundle, *_urls(dep)], capsys)
    assert code == 0 and report["verdict"].startswith("ALREADY APPLIED")

    dep.execute("nova", "ALTER TABLE instances ADD COLUMN fixpack_probe INT NULL")
    code, report = verify_json([bundle, *_urls(dep)], capsys)
    nova = next(d for d in report["live"] if d["role"] == "nova")
    assert code == 1 and report["verdict"].startswith("SCHEMA CHANGED")
    assert any("extra column: instances.fixpack_probe" in x for x in nova["schema_differences"])


def test_live_checks_refused_on_a_tampered_bundle(make_deployment, tmp_path: Path, capsys) -> None:
    dep = make_deployment("2025.1")
    target = seed_world(dep, op="soft-delete")
    result = generate(dep, target.uuid, "soft-delete", tmp_path)
    edit(result.path, "data/guards.json", '"pending_query": "SELECT', '"pending_query": "SELECT  ')
    code, report = verify_json([str(result.path), *_urls(dep)], capsys)
    assert code == 1 and report["live"] is None
    assert report["notes"] == ["live checks not run: the bundle's files differ from its manifest"]


def test_missing_database_is_reported(soft_delete_bundle: Path, make_deployment, capsys) -> None:
    dep = make_deployment("2025.1")
    code, report = verify_json(
        [str(soft_delete_bundle), "--nova-api-url", dep.url("nova_api").render(with_password=True)], capsys
    )
    assert code == 1 and report["verdict"].startswith("INCOMPLETE")
    placement = next(d for d in report["live"] if d["role"] == "placement")
    assert placement["problem"] == "not checked: no placement database given (--placement-url)"


def test_live_partially_applied_chunks(make_deployment, tmp_path: Path, capsys) -> None:
    """An apply stopped inside a step split over chunks: its done pieces left the step's scope.

    guards.json records each piece's scope count before anything ran; verify must
    judge the pending pieces as the apply does (initial count minus the rows of
    the pieces already done), not call that drift.
    """
    dep = make_deployment("2025.1")
    target = seed_world(dep, op="purge")
    output = OutputOptions(out_dir=tmp_path, chunk_rows=3)
    result = generate_vm(target.uuid, VmOptions(op="purge"), targets_for(dep), "auto", output)
    guards = json.loads((result.path / "data/guards.json").read_text())["databases"]["nova"]["apply"]
    scopes: dict[str, list[dict]] = {}
    for g in guards:
        if g["scope_query"]:
            scopes.setdefault(g["scope_query"], []).append(g)
    split = next(
        pieces for pieces in scopes.values() if len(pieces) > 1 and pieces[0]["chunk"] != pieces[1]["chunk"]
    )
    second = split[1]
    key = int(second["key_condition"].split("IN (", 1)[1].split(",")[0].rstrip(")"))
    table = second["table"]
    # one row of the second piece changes: its chunk stops the client, the chunks before it commit
    row = dep.query("nova", f"SELECT created_at FROM `{table}` WHERE id = %s", (key,))[0]
    dep.execute(
        "nova", f"UPDATE `{table}` SET created_at = created_at + INTERVAL 1 SECOND WHERE id = %s", (key,)
    )
    run = BundleRun(dep, result.path)
    nova_runs = [r for r in run.run("apply") if r.file.endswith("-apply-nova.sql")]
    assert not nova_runs[0].ok and "applied" in nova_runs[0].stdout
    dep.execute("nova", f"UPDATE `{table}` SET created_at = %s WHERE id = %s", (row["created_at"], key))

    code, report = verify_json([str(result.path), *_urls(dep)], capsys)
    assert code == 0, report
    assert report["verdict"].startswith("PARTIALLY APPLIED")
    nova = next(d for d in report["live"] if d["role"] == "nova")
    by_step = {g["step"]: g for g in nova["guards"]}
    assert by_step[split[0]["step"]]["state"] == "done"
    assert by_step[second["step"]]["state"] == "pending"
    assert by_step[second["step"]]["scope_now"] < second["scope_expect"]
    assert_all_ok(run.run("apply"))  # and the apply indeed resumes from there
