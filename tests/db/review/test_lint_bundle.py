"""`fixpack lint BUNDLE`: generation's lint, run again on real bundles as they are on disk."""

# ruff: noqa: F401, F811  (pytest fixtures are imported by name and requested by parameter)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.review_fixtures import (
    ALL_OPS,
    REVIEW_RELEASES,
    edit,
    good_bundles,
    run_cli,
    soft_delete_bundle,
    steps_by_phase,
)

pytestmark = pytest.mark.db


@pytest.mark.parametrize("op", ALL_OPS)
@pytest.mark.parametrize("release", REVIEW_RELEASES)
def test_generated_bundles_lint_clean(good_bundles, capsys, release: str, op: str) -> None:
    path = good_bundles[(release, op)]
    code, out, _ = run_cli(["lint", str(path), "--format", "json"], capsys)
    report = json.loads(out)
    assert code == 0, report["findings"]
    assert report["passed"] and report["findings"] == []
    manifest = json.loads((path / "manifest.json").read_text())
    assert set(report["files"]) == {s["file"] for s in manifest["steps"]}
    if any(s["kind"] == "shell" for s in manifest["steps"]):
        assert report["tools"]["shellcheck"] not in ("missing", "not needed")
        assert report["shellcheck_scripts"] == sum(s["kind"] == "shell" for s in manifest["steps"])


def test_hand_edits_are_findings(soft_delete_bundle: Path, capsys) -> None:
    manifest = json.loads((soft_delete_bundle / "manifest.json").read_text())
    apply_file = next(s["file"] for s in steps_by_phase(manifest, "apply") if s["target"] == "db:nova")
    # an operator "simplifies" a keyed UPDATE into a state predicate, and adds a DDL statement
    text = (soft_delete_bundle / apply_file).read_text()
    start = text.index("UPDATE `instances`")
    where = text.index("WHERE", start)
    end = text.index(";", where)
    # the whole statement: its WHERE alone (`id` IN (11)) can read the same as another table's
    edit(soft_delete_bundle, apply_file, text[start:end], text[start:where] + "WHERE\n  `vm_state` = 'error'")
    edit(
        soft_delete_bundle, apply_file, "COMMIT;", "COMMIT;\nALTER TABLE `instances` DROP COLUMN `vm_state`;"
    )
    edit(soft_delete_bundle, "shell/controller.sh", "set -Eeuo pipefail\n", "set -Eeuo pipefail\necho $1\n")
    code, out, _ = run_cli(["lint", str(soft_delete_bundle)], capsys)
    assert code == 1
    assert f"{apply_file}:" in out and "FX001" in out and "UPDATE of instances is not keyed" in out
    assert "FX002" in out and "ALTER" in out
    assert "shell/controller.sh:" in out and "SC2086" in out
    assert out.strip().splitlines()[-1].startswith("FAILED:")


def test_not_a_bundle_is_one_line(tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(["lint", str(tmp_path / "nope")], capsys)
    assert code == 2 and out == ""
    assert err.strip() == f"fixpack: error: not a bundle directory: {tmp_path / 'nope'}"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text(
        '{"bundle_id": "x", "target": {}, "mode": "live", '
        '"databases": {}, "files": {}, "steps": '
        '[{"file": "../../etc/passwd", "kind": "sql", "phase": "apply"}]}'
    )
    code, _, err = run_cli(["lint", str(tmp_path / "b")], capsys)
    assert code == 2 and "outside the bundle" in err and len(err.strip().splitlines()) == 1
