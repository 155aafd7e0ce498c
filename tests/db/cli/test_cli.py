"""The command line: help everywhere, one clear line for bad input, offline generation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from generator import __version__

UUID = "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57"


def fixpack(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FIXPACK_")}
    full_env["FIXPACK_CACHE_DIR"] = os.environ.get("FIXPACK_CACHE_DIR", "")  # keep the lint cache
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
        timeout=300,
    )


def test_version() -> None:
    done = fixpack("--version")
    assert done.returncode == 0 and __version__ in done.stdout


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["vm"],
        ["schema"],
        ["schema", "detect"],
        ["schema", "diff"],
        ["schema", "show"],
        ["schema", "releases"],
    ],
)
def test_help_everywhere(command: list[str]) -> None:
    done = fixpack(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vm", "not-a-uuid", "--op", "soft-delete", "--release", "2025.1"], "not a UUID"),
        (["vm", UUID, "--op", "soft-delete"], "no database given"),
        (["vm", UUID, "--op", "explode", "--release", "2025.1"], "Invalid value for '--op'"),
        (["vm", UUID, "--op", "rehost", "--release", "2025.1"], "--to-host"),
        (["vm", UUID, "--op", "soft-delete", "--release", "folsom"], "unknown release 'folsom'"),
        (
            ["vm", UUID, "--op", "soft-delete", "--nova-api-url", "postgresql://u:pw@h/db"],
            "unsupported scheme",
        ),
        (
            [
                "vm",
                UUID,
                "--op",
                "soft-delete",
                "--nova-api-url",
                "mysql+pymysql://root:hunter2@127.0.0.1:1/nova_api",
            ],
            "cannot reach the server",
        ),
        (["vm", UUID, "--op", "soft-delete", "--nova-conf", "/nonexistent/nova.conf"], "not found"),
        (["schema", "show", "--release", "2025.1", "--table", "nope"], "no table 'nope'"),
        (["schema", "detect"], "no database given"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(args: list[str], message: str) -> None:
    done = fixpack(*args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("fixpack: error:") and message in lines[0]
    assert "Traceback" not in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_offline_generation_writes_a_complete_bundle(tmp_path) -> None:
    done = fixpack("vm", UUID, "--op", "soft-delete", "--release", "2025.1", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    bundles = list(tmp_path.iterdir())
    assert len(bundles) == 1 and bundles[0].name.endswith(f"-vm-soft-delete-{UUID[:8]}")
    manifest = json.loads((bundles[0] / "manifest.json").read_text())
    assert manifest["mode"] == "offline" and manifest["release"] == "2025.1"
    assert manifest["lint"]["passed"]
    for path in manifest["files"]:
        assert (bundles[0] / path).is_file()
    phases = {s["phase"] for s in manifest["steps"]}
    assert phases == {"precheck", "apply", "verify", "rollback"}
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")], "no temporary directory left"


def test_from_file_writes_one_bundle_per_uuid(tmp_path) -> None:
    listing = tmp_path / "uuids.txt"
    other = "0b0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a58"
    listing.write_text(f"# stuck since the outage\n{UUID}\n\n{other}\n")
    out = tmp_path / "out"
    done = fixpack("vm", "--from-file", str(listing), "--op", "purge", "--release", "zed", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert len(list(out.iterdir())) == 2
    listing.write_text(f"{UUID}\nnot-a-uuid\n")
    done = fixpack("vm", "--from-file", str(listing), "--op", "purge", "--release", "zed", "-o", str(out))
    assert done.returncode != 0 and f"{listing}:2: not a UUID" in done.stderr


def test_batch_flag_writes_one_bundle(tmp_path) -> None:
    listing = tmp_path / "uuids.txt"
    listing.write_text(f"{UUID}\n0b0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a58\n")
    out = tmp_path / "out"
    done = fixpack(
        "vm",
        "--from-file",
        str(listing),
        "--batch",
        "--op",
        "soft-delete",
        "--release",
        "2024.2",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    (bundle,) = list(out.iterdir())
    assert bundle.name.endswith("-vm-soft-delete-batch2")
    assert json.loads((bundle / "manifest.json").read_text())["target"]["ids"] == [
        UUID,
        "0b0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a58",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe3f0c2a5e\n", "1: not UTF-8 text (byte 0xff)"),
        (UUID.encode() + b"\n\xc3(\n", "2: not UTF-8 text (byte 0xc3)"),
    ],
)
def test_from_file_that_is_not_utf8_is_one_line(tmp_path, content: bytes, message: str) -> None:
    path = tmp_path / "ids"
    path.write_bytes(content)
    done = fixpack("vm", "--from-file", str(path), "--op", "soft-delete", "--release", "2025.1",
                   "-o", str(tmp_path / "out"))  # fmt: skip
    assert done.returncode != 0 and done.stderr.count("\n") == 1 and message in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_from_file_that_never_ends_is_refused_not_read_forever(tmp_path) -> None:
    done = fixpack("volume", "--from-file", "/dev/zero", "--op", "reset-detached", "--release", "2025.1",
                   "-o", str(tmp_path / "out"))  # fmt: skip
    assert done.returncode != 0 and done.stderr.count("\n") == 1
    assert "larger than 64 MiB: not a UUID list" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("template", ["inst-%q", "inst-%(id", "inst-%d-%d"])
def test_an_instance_name_template_nova_could_not_apply_is_one_line(tmp_path, template: str) -> None:
    done = fixpack("vm", UUID, "--op", "soft-delete", "--release", "2025.1",
                   "--instance-name-template", template, "-o", str(tmp_path / "out"))  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "--instance-name-template" in done.stderr and "Traceback" not in done.stderr


def test_instance_names_follow_nova_for_named_templates() -> None:
    from generator.domain.nova import domain_name

    row = {"id": 26, "uuid": UUID, "hostname": "web-1"}
    assert domain_name(row) == "instance-0000001a"
    assert domain_name(row, "%(hostname)s-%(id)d") == "web-1-26"
    assert domain_name(row, "vm-%(no_such_field)s") == UUID  # Nova falls back to the uuid


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("FILE", "exists and is not a directory"),
        ("FILE/sub", "cannot create the output directory"),
        ("/proc", "cannot write a bundle there"),
        ("/sys/kernel", "cannot write a bundle there"),
    ],
)
def test_output_that_is_not_a_writable_directory_is_one_line(tmp_path, out: str, message: str) -> None:
    (tmp_path / "FILE").write_text("not a directory")
    target = out.replace("FILE", str(tmp_path / "FILE"))
    done = fixpack("vm", UUID, "--op", "soft-delete", "--release", "2025.1", "-o", target)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("steps", 5, "'steps' is a JSON int, expected an array"),
        ("files", [], "'files' is a JSON list, expected an object"),
        ("steps", [{"file": 1, "kind": "sql", "phase": "apply"}], "malformed step"),
        ("files", {"sql/x.sql": 7}, "'files' must map each path to its sha256 text"),
    ],
)
@pytest.mark.parametrize("command", ["verify", "lint", "rehearse"])
def test_a_hand_edited_manifest_is_one_line(tmp_path, command: str, field: str, value, message: str) -> None:
    done = fixpack("vm", UUID, "--op", "soft-delete", "--release", "2025.1", "-o", str(tmp_path))
    assert done.returncode == 0, done.stderr
    (bundle,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest[field] = value
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    done = fixpack(command, str(bundle))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert message in done.stderr and "Traceback" not in done.stderr
