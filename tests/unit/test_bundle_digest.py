"""bundle/digest.py and review/expect.py: the digest the change table carries, and `verify --expect`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from generator.bundle import digest as d
from generator.bundle.manifest import manifest_text, sha256_text
from generator.bundle.writer import write_atomically
from generator.review.expect import check_expected

FILES = {
    "README.md": f"# bundle\n\nBundle digest: `{d.PLACEHOLDER}`.\n"
    f"Run `fixpack verify B --expect {d.PLACEHOLDER}`.\n",
    "sql/20-apply-nova.sql": "UPDATE instances SET deleted = id WHERE id = 7;\n",
    "shell/controller.sh": "#!/bin/bash\necho ok\n",
    "data/guards.json": "{}\n",
}


def _sealed(tmp_path: Path) -> tuple[Path, str]:
    manifest = {
        "bundle_id": "b",
        "files": {rel: sha256_text(text) for rel, text in FILES.items()},
        "digest": d.PLACEHOLDER,
    }
    digest, files, text = d.seal(dict(FILES), manifest_text(manifest))
    return write_atomically(tmp_path, "b", files, text), digest


def test_seal_writes_the_digest_where_the_placeholder_was_and_hashes_the_placeholder_form(tmp_path):
    root, digest = _sealed(tmp_path)
    readme = (root / "README.md").read_text()
    assert readme.count(digest) == 2 and "\0" not in readme
    assert json.loads((root / "manifest.json").read_text())["digest"] == digest
    on_disk = {
        p.relative_to(root).as_posix(): d.normalized(p.relative_to(root).as_posix(), p.read_bytes(), digest)
        for p in root.rglob("*")
        if p.is_file()
    }
    assert on_disk["README.md"] == FILES["README.md"].encode()
    assert d.digest_of(on_disk) == digest
    listing = "".join(f"{hashlib.sha256(on_disk[r]).hexdigest()}  {r}\n" for r in sorted(on_disk))
    assert digest == "sha256:" + hashlib.sha256(listing.encode()).hexdigest()  # the documented formula


def test_the_reviewed_bundle_matches_its_digest(tmp_path):
    root, digest = _sealed(tmp_path)
    result = check_expected(root, digest)
    assert result.matches and result.found == digest


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (
            lambda r: (r / "sql/20-apply-nova.sql").write_text("DELETE FROM instances;\n"),
            "sql/20-apply-nova.sql changed",
        ),
        (lambda r: (r / "sql/21-apply-more.sql").write_text("SELECT 1;\n"), "sql/21-apply-more.sql added"),
        (lambda r: (r / "notes.txt").write_text("operator notes\n"), "notes.txt added"),
        (lambda r: (r / "shell/controller.sh").unlink(), "shell/controller.sh removed"),
        (
            lambda r: (r / "README.md").write_text(
                (r / "README.md").read_text().replace("deleted", "x") + " "
            ),
            "README.md changed",
        ),
    ],
)
def test_any_changed_added_or_removed_file_fails_naming_it(tmp_path, tamper, named):
    root, digest = _sealed(tmp_path)
    tamper(root)
    result = check_expected(root, digest)
    assert not result.matches and named in (result.problem or "")
    assert result.problem and "\n" not in result.problem and digest in result.problem


def test_a_manifest_rewritten_to_agree_with_a_tampered_file_still_fails(tmp_path):
    root, digest = _sealed(tmp_path)
    (root / "sql/20-apply-nova.sql").write_text("DELETE FROM instances;\n")
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["files"]["sql/20-apply-nova.sql"] = sha256_text("DELETE FROM instances;\n")
    (root / "manifest.json").write_text(manifest_text(manifest))
    result = check_expected(root, digest)
    assert not result.matches and "manifest.json changed" in (result.problem or "")


def test_the_digest_shown_in_the_readme_cannot_be_swapped_for_the_placeholder(tmp_path):
    root, digest = _sealed(tmp_path)
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace(digest, d.PLACEHOLDER, 1))
    result = check_expected(root, digest)
    assert not result.matches and "NUL" in (result.problem or "")
    manifest = root / "manifest.json"
    readme.write_text(readme.read_text().replace(d.PLACEHOLDER, digest))
    assert check_expected(root, digest).matches
    manifest.write_text(manifest.read_text().replace(digest, json.dumps(d.PLACEHOLDER)[1:-1]))
    result = check_expected(root, digest)
    assert not result.matches and "does not record this digest" in (result.problem or "")


def test_files_a_capture_writes_at_run_time_are_not_part_of_the_digest(tmp_path):
    root, digest = _sealed(tmp_path)
    (root / "captured").mkdir()
    (root / "captured/90-rollback-nova.sql").write_text("-- captured\n")
    assert check_expected(root, digest).matches


def test_another_digest_fails(tmp_path):
    root, _ = _sealed(tmp_path)
    result = check_expected(root, "sha256:" + "0" * 64)
    assert not result.matches
