"""Templates and the catalog load the same from a source checkout, an editable install and a wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
UUID = "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57"

PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1]) if sys.argv[1] != '-' else None
import generator
from generator.render.templates import templates_dir
from generator.catalog import release_names
from generator.cli import main
info = {"package": generator.__file__, "templates": str(templates_dir())}
print(json.dumps({**info, "releases": release_names()}))
sys.argv = ["fixpack", "vm", sys.argv[2], "--op", "purge", "--release", "2024.1", "-o", sys.argv[3]]
main()
"""


def _probe(site: str, out: Path, cwd: Path) -> tuple[dict, subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, site, UUID, str(out)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    info = json.loads(done.stdout.splitlines()[0])
    return info, done


def _assert_bundle(out: Path) -> None:
    (bundle,) = list(out.iterdir())
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["lint"]["passed"] and (bundle / "README.md").read_text().startswith("# fixpack bundle")


def test_source_checkout(tmp_path) -> None:
    info, _ = _probe(str(REPO), tmp_path / "out", tmp_path)
    assert info["package"].startswith(str(REPO))
    assert info["templates"] == str(REPO / "templates")
    assert "2026.2" in info["releases"]
    _assert_bundle(tmp_path / "out")


def test_editable_install(tmp_path) -> None:
    info, _ = _probe("-", tmp_path / "out", tmp_path)  # whatever `import generator` finds in this venv
    assert info["templates"].endswith("templates")
    _assert_bundle(tmp_path / "out")


@pytest.mark.slow
def test_installed_wheel(tmp_path) -> None:
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = list(wheels.glob("fixpack-*.whl"))
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    info, _ = _probe(str(site), tmp_path / "out", tmp_path)
    assert info["package"].startswith(str(site)), "the probe must use the installed wheel"
    assert info["templates"] == str(site / "generator" / "templates")
    assert (site / "generator" / "catalog" / "data" / "2026.2" / "nova.sql").is_file()
    assert (site / "generator" / "lint" / "data" / "verdicts.json").is_file()  # shipped lint verdicts
    _assert_bundle(tmp_path / "out")
