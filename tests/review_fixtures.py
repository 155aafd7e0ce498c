"""Bundles for the review tests (lint, verify, rehearse), generated once per session.

`good_bundles` generates one bundle per operation (VM, volume, quota sync)
for the oldest and the newest catalog release against seeded deployments
(dropped right after: review works from the bundle alone). Tests that alter a bundle copy it first
with `copy_bundle`; `reseal` fixes a hand-edited file's manifest sha256, so a
test can prove that something other than the checksum catches the edit.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.cli import main
from generator.jobs_volume import generate_quota_sync, generate_volume
from generator.pipeline import BundleResult, OutputOptions
from generator.plan.volume_common import VolumeOptions
from generator.scratch.deployment import create_deployment
from generator.scratch.provider import ProvidedServer
from tests.db.plan.test_quota import seed_drifted_usage
from tests.db.plan.test_vm_bundles import generate, seed_world

from .bundles import targets_for
from .conftest import ALL_RELEASES
from .volume_world import seed_world as seed_volume_world

VM_OPS = ("soft-delete", "purge", "rehost")
VOLUME_OPS = ("volume reset-detached", "volume detach-from-nova", "volume soft-delete", "volume purge")
ALL_OPS = (*VM_OPS, *VOLUME_OPS, "quota sync")
_GENERATED: dict[tuple[str, str], Path] = {}
REVIEW_RELEASES = (ALL_RELEASES[0], ALL_RELEASES[-1])


@pytest.fixture(scope="session")
def good_bundles(
    db_server: ProvidedServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Path]:
    """(release, op) -> a freshly generated, untouched bundle directory.

    Each test module imports this fixture, which makes pytest register it once
    per module; the module-level cache makes the whole session generate once.
    """
    if _GENERATED:
        return _GENERATED
    out = tmp_path_factory.mktemp("review-bundles")
    bundles = {}
    for release in REVIEW_RELEASES:
        for op in ALL_OPS:
            dep = create_deployment(db_server.url, release)
            try:
                result = _generate(dep, op, out)
                assert result.lint.passed, [f.describe() for f in result.lint.findings]
                bundles[(release, op)] = result.path
            finally:
                dep.drop()
    _GENERATED.update(bundles)
    return bundles


def _generate(dep, op: str, out: Path) -> BundleResult:
    if op in VM_OPS:
        return generate(dep, seed_world(dep, op=op).uuid, op, out)
    if op in VOLUME_OPS:
        volume_op = op.split()[1]
        scenario = seed_volume_world(dep, volume_op)
        options = VolumeOptions(op=volume_op, **scenario.options)
        return generate_volume(
            scenario.volume.id, options, targets_for(dep), "auto", OutputOptions(out_dir=out)
        )
    wrong, _, _ = seed_drifted_usage(dep)
    return generate_quota_sync([wrong], targets_for(dep), "auto", OutputOptions(out_dir=out))


@pytest.fixture
def soft_delete_bundle(good_bundles: dict[tuple[str, str], Path], tmp_path: Path) -> Path:
    """A private copy of the newest release's soft-delete bundle, free to alter."""
    return copy_bundle(good_bundles[(REVIEW_RELEASES[-1], "soft-delete")], tmp_path)


def copy_bundle(path: Path, into: Path) -> Path:
    target = into / path.name
    shutil.copytree(path, target)
    return target


def reseal(bundle: Path, rel: str) -> None:
    """Record a hand-edited file's new sha256 in the manifest."""
    manifest_path = bundle / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][rel] = "sha256:" + hashlib.sha256((bundle / rel).read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def edit(bundle: Path, rel: str, old: str, new: str, *, count: int = 1) -> None:
    path = bundle / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, count))


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`fixpack ARGV` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(argv)
    sys.stdout.flush()
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def steps_by_phase(manifest: dict, phase: str) -> list[dict]:
    return [s for s in manifest["steps"] if s["phase"] == phase]


@pytest.fixture
def no_lint_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty lint cache for this test only."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("FIXPACK_CACHE_DIR", str(cache))
    yield cache
