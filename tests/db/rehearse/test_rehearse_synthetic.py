"""`fixpack rehearse` of offline VM bundles runs them against a synthetic stuck instance."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.db
UUID = "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57"


@pytest.mark.parametrize(
    ("op", "extra", "release"),
    [
        ("soft-delete", [], "xena"),
        ("purge", [], "2024.1"),
        ("rehost", ["--to-host", "cmp-09", "--to-node", "cmp-09.example.org"], "2026.2"),
    ],
)
def test_offline_bundle_rehearses_on_synthetic_rows(db_server, tmp_path, op, extra, release) -> None:
    out = tmp_path / "out"
    gen = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "vm",
            UUID,
            "--op",
            op,
            *extra,
            "--release",
            release,
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert gen.returncode == 0, gen.stderr
    (bundle,) = list(out.iterdir())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "rehearse",
            str(bundle),
            "--backend",
            f"url:{db_server.url.render(with_password=True)}",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    report = json.loads(done.stdout)["bundles"][0]
    assert any("synthetic rows" in note for note in report["notes"])
    steps = report["steps"]
    assert any(s["phase"] == "apply" and s["status"] == "passed" for s in steps)
    restored = [
        s for s in steps if "rollback restored identical tables" in s.get("name", "") + s.get("detail", "")
    ]
    assert restored and all(s["status"] == "passed" for s in restored)


def test_no_synthetic_rehearsal_says_there_are_no_rows(db_server, tmp_path) -> None:
    out = tmp_path / "out"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "vm",
            UUID,
            "--op",
            "soft-delete",
            "--release",
            "2025.1",
            "-o",
            str(out),
        ],
        capture_output=True,
        check=True,
    )
    (bundle,) = list(out.iterdir())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "rehearse",
            str(bundle),
            "--no-synthetic",
            "--backend",
            f"url:{db_server.url.render(with_password=True)}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 1 and "no recorded rows" in done.stdout
