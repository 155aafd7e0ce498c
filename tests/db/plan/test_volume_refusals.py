"""Bad input and refusals: each a one-line reason, the override named, nothing generated.

One deployment (the newest release) seeded with a volume in every state a refusal is
about; planning only, so these run in a fraction of a bundle test. The CLI is driven
in-process: one line on stderr, a non-zero exit.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuidlib
from pathlib import Path

import pytest

from generator.cli import main
from generator.errors import TargetProblem
from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions
from generator.plan.overrides import Overrides
from generator.plan.volume_common import VolumeOptions
from generator.scratch.deployment import create_deployment
from generator.seed import Seeder
from tests.bundles import targets_for
from tests.conftest import ALL_RELEASES

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def world(db_server):
    dep = create_deployment(db_server.url, ALL_RELEASES[-1])
    s = Seeder(dep, seed=23)
    h1 = s.compute_host("cmp-01")
    active = s.instance(host=h1)
    gone = s.instance(host=h1, vm_state="error", power_state=4)
    vols = {
        "attached_active": s.volume(attach_to=active),
        "attached_gone": s.volume(attach_to=gone),
        "snapshots": s.volume(snapshots=2),
        "deleted": s.volume(),
        "creating": s.volume(status="creating"),
        "backing_up": s.volume(status="backing-up"),
        "migrating": s.volume(),
        "deleting_now": s.volume(status="deleting"),
        "deleting_stale": s.volume(status="deleting"),
        "plain": s.volume(),
    }
    s.flush()
    now = dep.query("cinder", "SELECT UTC_TIMESTAMP() AS now")[0]["now"]
    dep.execute("cinder", "UPDATE volumes SET deleted = 1, status = 'deleted', deleted_at = %s WHERE id = %s",
                (now, vols["deleted"].id))  # fmt: skip
    dep.execute(
        "cinder", "UPDATE volumes SET migration_status = 'migrating' WHERE id = %s", (vols["migrating"].id,)
    )
    dep.execute("cinder", "UPDATE volumes SET updated_at = %s WHERE id IN (%s, %s, %s)",
                (now - dt.timedelta(minutes=5), vols["deleting_now"].id, vols["creating"].id,
                 vols["backing_up"].id))  # fmt: skip
    yield dep, vols, active, gone
    dep.drop()


def gen(dep, volume_id: str, out: Path, **options):
    return generate_volume(
        volume_id, VolumeOptions(**options), targets_for(dep), "auto", OutputOptions(out_dir=out)
    )


@pytest.mark.parametrize(
    ("key", "op", "options", "needle"),
    [
        (None, "soft-delete", {}, "not found in the Cinder database"),
        ("deleted", "soft-delete", {}, "already deleted"),
        ("deleted", "reset-detached", {}, "already deleted"),
        ("creating", "soft-delete", {}, "status 'creating' (last updated"),
        ("backing_up", "reset-detached", {}, "status 'backing-up'"),
        ("migrating", "purge", {}, "migration_status 'migrating'"),
        ("deleting_now", "soft-delete", {}, "5 min ago): cinder-volume may still be deleting it"),
        ("snapshots", "soft-delete", {}, "2 live snapshot(s)"),
        ("snapshots", "purge", {}, "pass --cascade"),
        ("attached_active", "reset-detached", {}, "the guest may be using the disk"),
        ("attached_active", "soft-delete", {}, "it is attached"),
        ("attached_gone", "detach-from-nova", {}, "nothing to detach from Nova"),
        ("plain", "reset-detached", {}, "nothing to reset"),
    ],
)
def test_refused_with_a_reason(world, tmp_path: Path, key, op, options, needle) -> None:
    dep, vols, _, _ = world
    volume_id = vols[key].id if key else str(uuidlib.uuid4())
    with pytest.raises(TargetProblem) as err:
        gen(dep, volume_id, tmp_path, op=op, **options)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)
    assert not any(tmp_path.iterdir()), "nothing is written for a refusal"


def test_detach_from_nova_refuses_an_instance_cinder_still_attaches(world, tmp_path: Path) -> None:
    dep, vols, _, gone = world
    with pytest.raises(TargetProblem, match="reset-detached closes both sides"):
        gen(dep, vols["attached_gone"].id, tmp_path, op="detach-from-nova", instances=(gone.uuid,))


@pytest.mark.parametrize(
    ("key", "op", "options", "warning"),
    [
        ("creating", "soft-delete", {"allow": Overrides.of("recent-transition")},
         "--allow-recent-transition: status 'creating'"),
        ("attached_active", "reset-detached", {"allow": Overrides.of("active-user"), "detach_nova": True},
         "--allow-active-user: instance"),
        ("deleting_stale", "soft-delete", {}, "status 'deleting' (last updated"),
        ("snapshots", "soft-delete", {"cascade": True}, None),
    ],
)  # fmt: skip
def test_overrides_generate_and_say_so(world, tmp_path: Path, key, op, options, warning) -> None:
    dep, vols, _, _ = world
    result = gen(dep, vols[key].id, tmp_path, op=op, **options)
    assert result.lint.passed
    if warning:
        assert any(warning in w for w in result.plan.warnings), result.plan.warnings


def test_cli_bad_input_is_one_line(capsys, tmp_path: Path) -> None:
    cases = [
        (["volume", "not-a-uuid", "--op", "purge", "--release", "2024.1"], "not a volume UUID"),
        (["volume", str(uuidlib.uuid4()), "--op", "purge"], "no database given"),
        (["volume", str(uuidlib.uuid4()), "--op", "soft-delete", "--detach-nova", "--release", "2024.1"],
         "--detach-nova is a reset-detached option"),
        (["volume", str(uuidlib.uuid4()), "--op", "soft-delete", "--instance", str(uuidlib.uuid4()),
          "--release", "2024.1"], "--instance narrows"),
        (["quota", "sync"], "give --project ID"),
        (["quota", "sync", "--project", "a b"], "not a project id"),
    ]  # fmt: skip
    for argv, needle in cases:
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, "-o", str(tmp_path)])
        assert exit_info.value.code != 0
        err = capsys.readouterr().err
        assert needle in err and err.count("\n") == 1, err


def test_cli_live_volume_and_quota(world, capsys, tmp_path: Path) -> None:
    dep, vols, _, _ = world
    urls = ["--cinder-url", dep.url("cinder").render(with_password=True),
            "--nova-api-url", dep.url("nova_api").render(with_password=True)]  # fmt: skip
    with pytest.raises(SystemExit) as exit_info:
        main(["volume", vols["plain"].id, "--op", "soft-delete", *urls, "-o", str(tmp_path)])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "volume-soft-delete" in out and "lint: passed" in out
    password = dep.url("cinder").password
    assert not password or password not in out
    with pytest.raises(SystemExit) as exit_info:
        main(["quota", "sync", "--all-projects", urls[0], urls[1], "-o", str(tmp_path)])
    assert exit_info.value.code == 0, capsys.readouterr().err
    assert "quota-sync" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "volume",
                vols["plain"].id,
                "--op",
                "soft-delete",
                "--cinder-url",
                "mysql+pymysql://x@127.0.0.1:1/x",
            ]
        )
    assert exit_info.value.code == 3  # a connection problem, one line
    assert capsys.readouterr().err.count("\n") == 1
