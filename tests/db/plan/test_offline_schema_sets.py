"""Releases that share a schema set get the same offline SQL, so one execution proves them all.

The catalog's 11 releases have 8 distinct schema sets (nova cell, nova_api, placement and
cinder fingerprints together). The database proofs of offline bundles
(tests/db/plan/test_vm_offline.py, tests/db/plan/test_volume_offline.py) run one release per schema set;
this test (no database) shows that every other release of the set renders byte-identical SQL
once the release name in banners is set aside — so if a release ever gains a behaviour that
is not a schema change, this test fails and that release needs its own execution proof.
"""

from __future__ import annotations

import re

import pytest

from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.plan.volume_common import VolumeOptions
from generator.plan.volume_offline import plan_volume_offline
from generator.render.sql import render_sql
from tests.conftest import ALL_RELEASES, SCHEMA_SETS

UUID = "3f0c2a5e-7d1b-4c8e-9a4f-2b6d8e1c0a57"
SHARED = [group for group in SCHEMA_SETS if len(group) > 1]


def _plan(kind: str, op: str, release: str):
    if kind == "vm":
        return plan_vm_offline(UUID, VmOptions(op=op, to_host="cmp-02", to_node="cmp-02.example"), release)
    return plan_volume_offline(UUID, VolumeOptions(op=op), release)


def _sql(kind: str, op: str, release: str) -> dict[str, str]:
    files, _guards = render_sql(_plan(kind, op, release))
    pattern = re.compile(rf"\b{re.escape(release)}\b")
    # a capture prints long text as CONCAT('…', '…') pieces: join them so a release name split
    # between two pieces is found too (done alike on both sides of the comparison)
    joined = re.compile(r"',\n\s*'")
    return {f.path: pattern.sub("<release>", joined.sub("", f.text)) for f in files}


def test_schema_sets_cover_every_release_once() -> None:
    flat = [release for group in SCHEMA_SETS for release in group]
    assert sorted(flat) == sorted(ALL_RELEASES) and len(flat) == len(set(flat))
    assert SHARED, "the catalog has no releases sharing a schema set: this test would prove nothing"


@pytest.mark.parametrize(
    ("kind", "op"),
    [("vm", "soft-delete"), ("vm", "purge"), ("vm", "rehost"), ("volume", "reset-detached"),
     ("volume", "soft-delete")],
)  # fmt: skip
@pytest.mark.parametrize("group", SHARED, ids=lambda g: "+".join(g))
def test_releases_of_one_schema_set_render_the_same_offline_sql(group, kind: str, op: str) -> None:
    first = _sql(kind, op, group[0])
    assert first and any("UPDATE" in text or "DELETE" in text for text in first.values())
    for other in group[1:]:
        assert _sql(kind, op, other) == first, f"{other} renders different SQL from {group[0]}"
