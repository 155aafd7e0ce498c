"""Named overrides and the one staleness rule (issue 10, item 5).

Each protection has its own `--allow-…` flag; a refusal names exactly that flag
(and, for the time rule, when it would be accepted without it); `--force` is gone
and says which flags replaced it. Every transitional state is judged by the same
threshold (`--stale-after`, domain/staleness.py). Planning runs against a real
MariaDB seeded with the states each rule is about.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from generator.cli import main
from generator.domain.staleness import format_duration, judge, parse_duration
from generator.errors import TargetProblem
from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.overrides import OVERRIDES, Overrides, flags_for
from generator.plan.vm_common import VmOptions
from generator.plan.volume_common import VolumeOptions
from generator.scratch.deployment import create_deployment
from generator.seed import Seeder
from tests.bundles import targets_for
from tests.conftest import ALL_RELEASES

ALLOW = re.compile(r"--allow-[a-z-]+")


# -- the staleness rule, pure ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "seconds"), [("1h", 3600), ("90m", 5400), ("2h30m", 9000), ("45s", 45), ("1d", 86400)]
)
def test_durations_read_and_print_back(text: str, seconds: int) -> None:
    value = parse_duration(text)
    assert value == dt.timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize("text", ["", "1", "h", "0m", "1 hour", "-1h", "1h;rm"])
def test_bad_durations_are_one_line(text: str) -> None:
    with pytest.raises(ValueError, match="duration") as err:
        parse_duration(text)
    assert "\n" not in str(err.value)


def test_judge_says_when_a_recent_state_becomes_stale() -> None:
    now = dt.datetime(2026, 12, 5, 2, 12)
    recent = judge("detaching", now - dt.timedelta(minutes=10), now, dt.timedelta(hours=1))
    assert not recent.stale
    assert recent.accepted_without("--allow-recent-transition") == (
        "accepted without --allow-recent-transition after 2026-12-05 03:02 UTC (--stale-after 1h)"
    )
    assert judge("attaching", now - dt.timedelta(hours=6), now, dt.timedelta(hours=1)).stale
    assert judge("attaching", None, now, dt.timedelta(hours=1)).stale  # never touched: nobody's work
    assert judge("attaching", now - dt.timedelta(minutes=20), now, dt.timedelta(minutes=15)).stale


# -- refusals against real rows ---------------------------------------------------------------
@pytest.fixture(scope="module")
def world(db_server):
    dep = create_deployment(db_server.url, ALL_RELEASES[-1])
    s = Seeder(dep, seed=31)
    h1 = s.compute_host("cmp-01")
    active = s.instance(host=h1)
    gone = s.instance(host=h1, vm_state="error", power_state=4)
    busy = s.instance(host=h1, vm_state="error", task_state="deleting", power_state=4)
    vols = {
        "attaching_6h": s.volume(attach_to=gone),
        "detaching_10m": s.volume(attach_to=gone),
        "detaching_30m": s.volume(attach_to=gone),
        "used_by_active": s.volume(attach_to=active),
        "attached": s.volume(attach_to=gone),
        "grouped": s.volume(),
    }
    s.flush()
    now = dep.query("cinder", "SELECT UTC_TIMESTAMP() AS now")[0]["now"]
    for key, status, age in (
        ("attaching_6h", "attaching", dt.timedelta(hours=6)),
        ("detaching_10m", "detaching", dt.timedelta(minutes=10)),
        ("detaching_30m", "detaching", dt.timedelta(minutes=30)),
    ):
        dep.execute(
            "cinder",
            "UPDATE volumes SET status = %s, updated_at = %s WHERE id = %s",
            (status, now - age, vols[key].id),
        )
    dep.execute("cinder", "SET SESSION foreign_key_checks = 0")  # a group row is not what this is about
    dep.execute("cinder", "UPDATE volumes SET group_id = 'g-1' WHERE id = %s", (vols["grouped"].id,))
    dep.execute("cinder", "SET SESSION foreign_key_checks = 1")
    dep.execute(
        "nova",
        "UPDATE instances SET updated_at = %s WHERE uuid = %s",
        (now - dt.timedelta(minutes=3), busy.uuid),
    )
    yield dep, vols, {"active": active, "gone": gone, "busy": busy}, now
    dep.drop()


def volume(dep, key_id: str, out: Path, **options):
    return generate_volume(
        key_id, VolumeOptions(**options), targets_for(dep), "auto", OutputOptions(out_dir=out)
    )


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(TargetProblem) as err:
        call(*args, **kwargs)
    text = str(err.value)
    assert "\n" not in text
    return text


def only_flag(message: str) -> str:
    named = set(ALLOW.findall(message))
    assert len(named) == 1, message
    assert "--force" not in message
    return named.pop()


pytestmark_db = pytest.mark.db


@pytestmark_db
def test_a_volume_stuck_attaching_for_6_hours_is_accepted(world, tmp_path: Path) -> None:
    dep, vols, _, _ = world
    result = volume(dep, vols["attaching_6h"].id, tmp_path, op="reset-detached")
    assert any("status 'attaching'" in w and "older than --stale-after 1h" in w for w in result.plan.warnings)
    assert result.plan.options["stale_after"] == "1h" and result.plan.options["overrides"] == []


@pytestmark_db
def test_a_recent_detaching_says_when_it_would_be_accepted(world, tmp_path: Path) -> None:
    dep, vols, _, _ = world
    text = refused(volume, dep, vols["detaching_10m"].id, tmp_path, op="reset-detached")
    assert only_flag(text) == "--allow-recent-transition"
    updated = dep.query("cinder", "SELECT updated_at FROM volumes WHERE id = %s", (vols["detaching_10m"].id,))
    when = (updated[0]["updated_at"] + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M UTC")
    assert f"accepted without --allow-recent-transition after {when} (--stale-after 1h)" in text
    assert not any(tmp_path.iterdir())
    # the same flag lets it through, and the runbook says so
    result = volume(
        dep, vols["detaching_10m"].id, tmp_path, op="reset-detached", allow=Overrides.of("recent-transition")
    )
    assert any(w.startswith("--allow-recent-transition: status 'detaching'") for w in result.plan.warnings)
    assert result.plan.options["overrides"] == ["--allow-recent-transition"]


@pytestmark_db
def test_the_threshold_is_settable(world, tmp_path: Path) -> None:
    dep, vols, _, _ = world
    refused(volume, dep, vols["detaching_30m"].id, tmp_path, op="reset-detached")
    result = volume(
        dep, vols["detaching_30m"].id, tmp_path, op="reset-detached", stale_after=parse_duration("15m")
    )
    assert any("older than --stale-after 15m" in w for w in result.plan.warnings)


@pytestmark_db
def test_reset_detached_of_a_volume_an_active_instance_uses_needs_its_flag(world, tmp_path: Path) -> None:
    dep, vols, inst, _ = world
    vid = vols["used_by_active"].id
    text = refused(volume, dep, vid, tmp_path, op="reset-detached", detach_nova=True)
    assert only_flag(text) == "--allow-active-user"
    assert f"instance {inst['active'].uuid} is active" in text
    # another protection's flag does not lift this one
    text = refused(
        volume, dep, vid, tmp_path, op="reset-detached", detach_nova=True, allow=Overrides.of("attached")
    )
    assert only_flag(text) == "--allow-active-user"
    result = volume(
        dep, vid, tmp_path, op="reset-detached", detach_nova=True, allow=Overrides.of("active-user")
    )
    assert any(w.startswith("--allow-active-user: instance") for w in result.plan.warnings)


@pytestmark_db
@pytest.mark.parametrize(
    ("key", "op", "flag"),
    [("attached", "soft-delete", "--allow-attached"), ("grouped", "soft-delete", "--allow-group-member")],
)
def test_each_refusal_names_exactly_its_flag(world, tmp_path: Path, key: str, op: str, flag: str) -> None:
    dep, vols, _, _ = world
    assert only_flag(refused(volume, dep, vols[key].id, tmp_path, op=op)) == flag
    allowed = Overrides.of(flag.removeprefix("--allow-"))
    result = volume(dep, vols[key].id, tmp_path, op=op, allow=allowed)
    assert any(w.startswith(f"{flag}: ") for w in result.plan.warnings)


@pytestmark_db
def test_instance_task_states_follow_the_same_rule(world, tmp_path: Path) -> None:
    dep, _, inst, _ = world
    targets, out = targets_for(dep), OutputOptions(out_dir=tmp_path)
    text = refused(generate_vm, inst["busy"].uuid, VmOptions(op="soft-delete"), targets, "auto", out)
    assert only_flag(text) == "--allow-recent-transition"
    assert "task_state 'deleting'" in text and "accepted without --allow-recent-transition after" in text
    result = generate_vm(
        inst["busy"].uuid, VmOptions(op="soft-delete", stale_after=parse_duration("1m")), targets, "auto", out
    )
    assert any(
        "task_state 'deleting'" in w and "older than --stale-after 1m" in w for w in result.plan.warnings
    )
    text = refused(generate_vm, inst["active"].uuid, VmOptions(op="soft-delete"), targets, "auto", out)
    assert only_flag(text) == "--allow-healthy-instance"


@pytestmark_db
def test_offline_files_apply_the_same_rule_when_they_run(world, tmp_path: Path) -> None:
    """Offline bundles carry the threshold into their precheck: judged by the database clock."""
    from generator.connect.sources import ConnectionOptions, resolve
    from tests.bundles import BundleRun, run_offline

    dep, vols, inst, _ = world
    release = ALL_RELEASES[-1]
    none = resolve(ConnectionOptions(), env={})

    def precheck(kind: str, uuid: str, out: Path, **options) -> list:
        if kind == "vm":
            result = generate_vm(uuid, VmOptions(**options), none, release, OutputOptions(out_dir=out))
        else:
            result = generate_volume(
                uuid, VolumeOptions(**options), none, release, OutputOptions(out_dir=out)
            )
        return run_offline(BundleRun(dep, result.path), "precheck")

    def failed_check(run) -> str:
        """The `-- precondition:` comment above the statement the client stopped at (ERROR 1242)."""
        line = int(re.search(r"ERROR 1242 \(21000\) at line (\d+)", run.stderr).group(1))
        text = Path(run.file).read_text().splitlines()[:line]
        return next(x for x in reversed(text) if x.startswith("-- precondition:"))

    runs = precheck("volume", vols["detaching_10m"].id, tmp_path / "a", op="reset-detached")
    assert "no transitional status changed less than 1h ago" in failed_check(runs[-1])
    assert all(r.ok for r in precheck("volume", vols["attaching_6h"].id, tmp_path / "b", op="reset-detached"))
    runs = precheck("vm", inst["busy"].uuid, tmp_path / "c", op="soft-delete")
    assert "no task_state changed less than 1h ago" in failed_check(runs[-1])
    assert all(
        r.ok
        for r in precheck(
            "vm", inst["busy"].uuid, tmp_path / "d", op="soft-delete", stale_after=dt.timedelta(minutes=1)
        )
    )


# -- the command line -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("command", "op"),
    [("vm", "soft-delete"), ("volume", "soft-delete"), ("allocation", "delete"), ("mapping", "delete")],
)
def test_force_is_gone_and_names_its_replacements(capsys, tmp_path: Path, command: str, op: str) -> None:
    argv = [command, "6b8e0c86-1c4f-4b7e-9a6c-000000000001", "--op", op, "--release", "2024.1"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--force", "-o", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    for name in flags_for(command):
        assert name in err
    assert not any(tmp_path.iterdir())


def test_help_lists_one_flag_per_protection(capsys) -> None:
    for command in ("vm", "volume", "allocation", "mapping"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "--force" not in out and "--stale-after" in out
        for name, (users, _) in OVERRIDES.items():
            assert (f"--allow-{name}" in out) == (command in users), (command, name)


def test_bad_stale_after_is_one_usage_line(capsys, tmp_path: Path) -> None:
    argv = ["volume", "6b8e0c86-1c4f-4b7e-9a6c-000000000001", "--op", "soft-delete", "--release", "2024.1"]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--stale-after", "soon", "-o", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "not a duration: 'soon'" in err and err.count("\n") == 1


def test_overrides_reject_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown override"):
        Overrides.of("everything")
