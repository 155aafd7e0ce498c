"""plan/overrides.py: one flag per protection; a refusal names exactly its flag; an override warns."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.errors import TargetProblem
from generator.plan.overrides import OVERRIDES, Overrides, flag, flags_for, force_replaced, override_record


def test_every_protection_has_one_flag_and_a_help_text():
    assert len({flag(n) for n in OVERRIDES}) == len(OVERRIDES)
    assert all(users and text.endswith(".") for users, text in OVERRIDES.values())
    assert flags_for("vm") == (
        "--allow-healthy-instance",
        "--allow-recent-transition",
        "--allow-unknown-outcome",
        "--allow-over-capacity",
    )
    assert "--allow-active-user" in flags_for("volume") and "--allow-healthy-instance" not in flags_for(
        "volume"
    )


def test_a_refusal_names_exactly_its_flag_and_when_it_would_be_accepted():
    warnings: list[str] = []
    with pytest.raises(TargetProblem) as err:
        Overrides().refuse(
            "recent-transition", "volume v1", "status 'detaching' (12 min ago)", "reset-detached", warnings,
            when="accepted without --allow-recent-transition after 2026-12-05 03:12 UTC (--stale-after 1h)",
        )  # fmt: skip
    assert str(err.value) == (
        "volume v1: status 'detaching' (12 min ago); refusing to reset-detached it without "
        "--allow-recent-transition; accepted without --allow-recent-transition after 2026-12-05 03:12 UTC "
        "(--stale-after 1h)"
    )
    assert warnings == []


def test_only_its_own_flag_lifts_a_protection_and_says_so():
    warnings: list[str] = []
    with pytest.raises(TargetProblem, match="without --allow-attached"):
        Overrides.of("group-member").refuse("attached", "volume v1", "it is attached", "purge", warnings)
    Overrides.of("attached").refuse("attached", "volume v1", "it is attached", "purge", warnings)
    assert warnings == ["--allow-attached: it is attached"]


def test_force_names_the_replacements_and_the_manifest_records_the_flags():
    assert all(f in force_replaced("volume") for f in flags_for("volume"))

    class Options:
        allow = Overrides.of("attached", "active-user")
        stale_after = dt.timedelta(minutes=90)

    assert override_record(Options()) == {
        "overrides": ["--allow-active-user", "--allow-attached"],
        "stale_after": "1h30m",
    }
    with pytest.raises(ValueError, match="unknown override"):
        Overrides.of("force")


def test_a_recorded_manifest_gives_back_its_overrides_and_threshold():
    from generator.plan.overrides import from_record

    allow, stale = from_record({"overrides": ["--allow-healthy-instance"], "stale_after": "2h"}, "vm")
    assert allow == Overrides.of("healthy-instance") and stale == dt.timedelta(hours=2)
    legacy, _ = from_record({"force": True}, "vm")  # a bundle generated with the old --force
    assert legacy == Overrides.of("healthy-instance", "recent-transition", "unknown-outcome", "over-capacity")
