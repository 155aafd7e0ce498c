"""No password in any message; secrets masked for people, kept for the rollback; private bundle files.

Issue 8, problems 8 and 9: a URL that failed to parse was echoed whole
(`--nova-api-url`, `FIXPACK_*_URL`, `--cell NAME=URL`, a cell mapping's
`database_connection`); bundles held iSCSI CHAP `auth_password` and Cinder
`provider_auth` in clear, in files 640/644 and directories that followed the umask.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from generator.connect.urls import parse_url, redact_url
from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions
from generator.plan.volume_common import VolumeOptions
from generator.secrets import mask_text, mask_value
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.db.plan.test_vm_bundles import seed_world as seed_vm_world
from tests.review_fixtures import run_cli
from tests.volume_world import seed_world as seed_volume_world

PW = "Pa55-w0rd/x@y:z"  # holds the characters that break naive redaction
BAD_URLS = [
    f"nova:{PW}@db/nova_api",  # no scheme
    f"mysql+pymysql://nova:{PW}@[fd00::1/nova_api",  # '[' without ']': urlsplit raises
    f"mysql+pymysql://nova:{PW}@db:33o6/nova_api",  # port not a number
    f"mysql+pymysql://nova:{PW}@db:99999/nova_api",  # port out of range
    "mysql+pymysql://nova:Pa55w0rd",  # password taken for a port (host forgotten)
    f"postgresql://nova:{PW}@db/nova_api",  # unknown scheme
]
SECRET_PARTS = ("Pa55-w0rd", "Pa55w0rd", "x@y:z")


def _assert_no_password(text: str) -> None:
    for part in SECRET_PARTS:
        assert part not in text, f"password leaked: {text!r}"


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_url_option_never_echoes_the_password(url: str, tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(["verify", str(tmp_path), "--nova-api-url", url], capsys)
    assert code != 0
    assert _one_line(err).startswith("fixpack: error: --nova-api-url")
    _assert_no_password(out + err)


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_url_in_the_environment_never_echoes_the_password(url: str, tmp_path: Path) -> None:
    """Through a real `fixpack` process: the environment variable is read as an operator sets it."""
    env = {**os.environ, "FIXPACK_PLACEMENT_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "generator", "verify", str(tmp_path), "--nova-api-url", "mysql://u@h/db"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode != 0
    assert "FIXPACK_PLACEMENT_URL" in _one_line(done.stderr)
    _assert_no_password(done.stdout + done.stderr)


@pytest.mark.parametrize(
    "value", [f"nova:{PW}@db/nova_cell1", f"cell1:mysql://nova:{PW}@db/x", *(f"cell1={u}" for u in BAD_URLS)]
)
def test_bad_cell_override_never_echoes_the_password(value: str, tmp_path: Path, capsys) -> None:
    code, out, err = run_cli(
        ["verify", str(tmp_path), "--cell", value, "--nova-api-url", "mysql://u@h/d"], capsys
    )
    assert code != 0 and "--cell" in _one_line(err)
    _assert_no_password(out + err)


def test_redaction_rule() -> None:
    for url in [*BAD_URLS, f"mysql+pymysql://nova:{PW}@db/nova?charset=utf8&password={PW}"]:
        _assert_no_password(redact_url(url))
    assert redact_url("mysql+pymysql://nova:s@db:3306/nova") == "mysql+pymysql://nova:***@db:3306/nova"
    assert redact_url("mysql://db/nova") == "mysql://db/nova"
    rabbit = "rabbit://a:one@h1:5672,b:two@h2:5672/"
    assert "one" not in redact_url(rabbit) and "two" not in redact_url(rabbit)
    parsed = parse_url(f"mysql+pymysql://nova:{PW.replace('/', '%2F').replace('@', '%40')}@db/nova")
    assert parsed.password == PW
    _assert_no_password(parsed.redacted() + str(parsed) + repr(parsed))


@pytest.mark.db
def test_bad_cell_mapping_never_echoes_the_password(make_deployment, tmp_path: Path, capsys) -> None:
    dep = make_deployment("2025.1")
    target = seed_vm_world(dep, op="soft-delete")
    for bad in (f"nova:{PW}@[db/nova_cell1", f"nova:{PW}@db/nova_cell1", f"mysql+pymysql://nova:{PW}@db:x/c"):
        dep.execute(
            "nova_api", "UPDATE cell_mappings SET database_connection = %s WHERE name = 'cell1'", (bad,)
        )
        code, out, err = run_cli(
            [
                "vm",
                target.uuid,
                "--op",
                "soft-delete",
                "--nova-api-url",
                dep.url("nova_api").render(with_password=True),
                "-o",
                str(tmp_path),
            ],
            capsys,
        )
        assert code != 0 and "cell cell1" in _one_line(err), err
        _assert_no_password(out + err)


def test_masking_rules() -> None:
    info = json.dumps({"driver_volume_type": "iscsi", "data": {"auth_password": 'a"b\\c', "target_lun": 1}})
    assert 'a\\"b' not in mask_text(info) and '"auth_password": "***"' in mask_text(info)
    nested = json.dumps({"connection_info": info})
    assert "b\\\\" not in mask_text(nested) and "target_lun" in mask_text(nested)
    assert mask_value("provider_auth", "CHAP alice s3cret") == "CHAP ***"
    assert mask_value("database_connection", "mysql://nova:s3cret@db/nova") == "mysql://nova:***@db/nova"
    assert mask_value("vm_state", "error") == "error"


@pytest.mark.db
def test_live_iscsi_bundle_masks_secrets_and_rollback_restores_them(
    make_deployment, tmp_path: Path, capsys
) -> None:
    dep = make_deployment("2025.1")
    scenario = seed_volume_world(dep, "reset-detached")
    vol = scenario.volume.id
    provider_auth = dep.query("cinder", "SELECT provider_auth FROM volumes WHERE id = %s", (vol,))[0][
        "provider_auth"
    ]
    chap_password = provider_auth.split()[2]
    bdm = dep.query(
        "nova",
        "SELECT id, connection_info FROM block_device_mapping WHERE volume_id = %s AND deleted = 0",
        (vol,),
    )
    auth_passwords = [json.loads(r["connection_info"])["data"]["auth_password"] for r in bdm]
    secrets = [chap_password, *auth_passwords]
    assert all(len(s) >= 8 for s in secrets)
    before = all_states(dep)

    result = generate_volume(
        vol,
        VolumeOptions(op="reset-detached", **scenario.options),
        targets_for(dep),
        "auto",
        OutputOptions(out_dir=tmp_path / "out"),
    )
    bundle = result.path
    preimages = (bundle / "data" / "preimages.json").read_text()
    assert chap_password in preimages  # kept: the rollback restores it exactly
    readme = (bundle / "README.md").read_text()
    assert "This bundle holds secrets" in readme.split("## 1.")[0]
    for secret in secrets:
        assert secret not in readme

    # a drift on the secret columns: verify explains it, masked
    dep.execute("cinder", "UPDATE volumes SET provider_auth = %s WHERE id = %s", (provider_auth + "x", vol))
    changed = bdm[0]["connection_info"].replace('"auth_password": "', '"auth_password": "X', 1)
    dep.execute(
        "nova", "UPDATE block_device_mapping SET connection_info = %s WHERE id = %s", (changed, bdm[0]["id"])
    )
    urls = ["--nova-api-url", dep.url("nova_api").render(with_password=True)]
    urls += ["--cinder-url", dep.url("cinder").render(with_password=True)]
    code, out, err = run_cli(["verify", str(bundle), *urls], capsys)
    assert code == 1 and "provider_auth: 'CHAP ***' -> 'CHAP ***'" in out, out
    code, json_out, _ = run_cli(["verify", str(bundle), *urls, "--format", "json"], capsys)
    for secret in secrets:
        assert secret not in out + err + json_out
    dep.execute("cinder", "UPDATE volumes SET provider_auth = %s WHERE id = %s", (provider_auth, vol))
    dep.execute(
        "nova",
        "UPDATE block_device_mapping SET connection_info = %s WHERE id = %s",
        (bdm[0]["connection_info"], bdm[0]["id"]),
    )

    run = BundleRun(dep, bundle)
    assert_all_ok(run.run("apply"))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
    restored = dep.query("cinder", "SELECT provider_auth FROM volumes WHERE id = %s", (vol,))[0][
        "provider_auth"
    ]
    assert restored == provider_auth
    again = dep.query(
        "nova", "SELECT connection_info FROM block_device_mapping WHERE id = %s", (bdm[0]["id"],)
    )
    assert again[0]["connection_info"] == bdm[0]["connection_info"]


def test_bundle_is_private_whatever_the_umask(tmp_path: Path) -> None:
    """A real `fixpack` process under umask 002: directories 0700, files 0600, scripts 0700."""
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "generator", "vm", "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57", "--op", "purge",
         "--release", "2025.1", "-o", str(out)],
        capture_output=True, text=True, check=False, preexec_fn=lambda: os.umask(0o002),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bundle = next(out.iterdir())
    modes = {
        p.relative_to(bundle).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [bundle, *bundle.rglob("*")]
    }
    assert modes.pop(".") == 0o700
    assert any(rel.endswith(".sh") for rel in modes)
    for rel, mode in modes.items():
        path = bundle / rel
        want = 0o700 if path.is_dir() or rel.endswith(".sh") else 0o600
        assert mode == want, f"{rel}: {oct(mode)}"
