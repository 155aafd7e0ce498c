"""`fixpack scan` without a database: durations, repair commands with hostile values, and the
table/JSON renderers (every database value inert on a terminal, no password in a reason)."""

from __future__ import annotations

import datetime as dt
import json
import shlex

import pytest

from generator.domain.staleness import parse_duration
from generator.scan import suggest
from generator.scan.model import EXIT_CLEAN, EXIT_FOUND, EXIT_PARTIAL, Finding, ScanReport
from generator.scan.output import render_json, render_table
from generator.scan.registry import CHECK_IDS, all_checks

HOSTILE = "vol-`id`-$(touch /tmp/pwn);\x1b]0;title\x07\u202e\nx"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h", 3600),
        ("90s", 90),
        ("45m", 2700),
        ("2d", 172800),
        ("1h30m", 5400),
        (" 1W ", 604800),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "1x", "h", "-1h", "1h 30m", "99999999999d", "1.5h", "600"])
def test_bad_durations(text: str) -> None:
    """A bare number is refused: `--stale-after` and `--older-than` read one rule, and a unit-less
    value (seconds? hours?) is the operator's guess, not ours."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_registry_has_exactly_the_issue_checks() -> None:
    checks = all_checks()
    assert tuple(c.id for c in checks) == CHECK_IDS and len(CHECK_IDS) == 11
    assert all(set(c.needs) <= {"nova_api", "nova", "placement", "cinder"} for c in checks)


def test_suggested_commands_quote_values() -> None:
    cmd = suggest.detach_from_nova("a'b $(x)", "`y`")
    assert shlex.split(cmd) == [
        "fixpack",
        "volume",
        "a'b $(x)",
        "--op",
        "detach-from-nova",
        "--instance",
        "`y`",
    ]
    assert shlex.split(suggest.quota_sync("p;rm -rf /")) == ["cinder-manage", "quota", "sync", "--project-id",
                                                            "p;rm -rf /"]  # fmt: skip


def test_fixpack_suggestions_carry_the_scan_threshold_below_the_default() -> None:
    """A scan with --older-than 10m reports a 30-minute-old build: the suggested command must accept it."""
    uuid = "7b2e5d2f-1c80-4e63-8d1b-6c4f3e2e1d02"
    short = suggest.fixpack("mapping", uuid, "delete", *suggest.stale_after(dt.timedelta(minutes=10)))
    assert shlex.split(short) == ["fixpack", "mapping", uuid, "--op", "delete", "--stale-after", "10m"]
    assert parse_duration(shlex.split(short)[-1]) == dt.timedelta(minutes=10)
    assert suggest.stale_after(dt.timedelta(hours=3)) == ()
    assert suggest.fixpack("allocation", uuid, "delete") == f"fixpack allocation {uuid} --op delete"


def test_value_with_control_characters_gives_no_command() -> None:
    cmd = suggest.delete_allocations("abc\nrm -rf /")
    assert cmd.startswith("# no command: ") and "\n" not in cmd


def _report(findings=(), skipped=None) -> ScanReport:
    return ScanReport(tuple(findings), {c: 10 for c in CHECK_IDS if c not in (skipped or {})}, skipped or {})


def test_exit_codes() -> None:
    finding = Finding("volume-stuck", "v", "cinder", {}, "x")
    assert _report().exit_code == EXIT_CLEAN == 0
    assert _report([finding]).exit_code == EXIT_FOUND == 1
    assert _report(skipped={"volume-stuck": "no Cinder"}).exit_code == EXIT_PARTIAL == 3
    assert _report([finding], skipped={"volume-stuck": "no Cinder"}).exit_code == EXIT_PARTIAL


def test_table_keeps_hostile_values_inert() -> None:
    finding = Finding(
        "volume-stuck", HOSTILE, "cinder", {"status": HOSTILE, "nested": {"k": HOSTILE}},
        suggest.reset_volume(HOSTILE, "error"),
    )  # fmt: skip
    reason = "cinder (mysql+pymysql://nova:s3cret@db/cinder): cannot reach the server"
    out = render_table(_report([finding], skipped={"cinder-quota-drift": reason}))
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "s3cret" not in out
    lines = out.splitlines()
    assert lines[0] == "volume-stuck (1)"
    assert lines[1].startswith("  vol-`id`-$(touch /tmp/pwn);\\x1b]0;title\\x07\\u202e\\x0ax")
    assert lines[3].startswith("      fix: # no command: ")  # a pasted command would not be what was shown
    assert lines[-1].endswith("1 check(s) could NOT run: this scan is incomplete")
    assert any(line.startswith("SKIPPED cinder-quota-drift: ") for line in lines)


def test_json_is_ascii_and_has_the_issue_shape() -> None:
    finding = Finding("volume-stuck", HOSTILE, "cinder", {"status": "creating"}, "cinder reset-state x")
    text = render_json(_report([finding], skipped={"volume-stuck": "mysql://u:pw@h/d unreachable"}))
    assert text.isascii() and "pw@" not in text
    data = json.loads(text)
    assert set(data) == {"findings", "checked", "skipped"}
    assert data["findings"] == [
        {"check": "volume-stuck", "uuid": HOSTILE, "service": "cinder", "details": {"status": "creating"},
         "suggested": "cinder reset-state x"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("vm_state", "power_state", "task_state", "flag"),
    [("active", 1, None, True), ("active", 4, None, False), ("error", 1, None, False),
     ("active", 1, "rebooting", False), ("stopped", 4, None, False)],
)  # fmt: skip
def test_missing_host_rehost_carries_the_healthy_override_only_when_it_looks_running(
    vm_state, power_state, task_state, flag
):
    """An instance Nova believes running is refused by the rehost without --allow-healthy-instance
    (tests/db/emit/test_scan_emit.py ran the suggestion: refused before the flag); the soft-delete
    alternative keeps the protection."""
    from generator.scan.checks.nova_instances import _missing_host

    row = {"uuid": "u-1", "host": "gone", "node": "n", "vm_state": vm_state, "power_state": power_state,
           "task_state": task_state}  # fmt: skip
    finding = _missing_host(row, "cell")
    words = shlex.split(finding.suggested)
    assert words[:5] == ["fixpack", "vm", "u-1", "--op", "rehost"] and "HOST" in words
    assert ("--allow-healthy-instance" in words) is flag
    assert "--allow" not in finding.details["alternative"]
