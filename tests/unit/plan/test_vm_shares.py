"""plan/vm_shares.py: share_mapping rows on an instance delete, per release (none, kept, deleted)."""

from __future__ import annotations

import hashlib

import pytest

from generator.ops.operations import DeleteRows
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import plan_vm_offline
from generator.plan.vm_shares import offline_shares, release_shares
from generator.plan.vm_soft_delete import plan_soft_delete
from tests.unit import world as w

EXPORT = "192.0.2.5:/shares/share-1"


def share(release: str, id: int = 1, proto: str = "NFS"):
    return w.row(
        "nova", "share_mapping", release, id=id, uuid="5a5a5a5a-0000-4000-8000-000000000001",
        instance_uuid=w.INSTANCE, share_id="7b7b7b7b-0000-4000-8000-000000000002", status="active",
        tag="data", export_location=EXPORT, share_proto=proto,
    )  # fmt: skip


def cell(release: str, rows=()):
    tables = {"instances": [w.instance_row()], "share_mapping": list(rows)} if rows else {}
    return w.database("nova", "nova", tables, w.cell_scopes(w.INSTANCE, release), release=release)


def test_before_2024_1_there_is_no_share_mapping_table():
    assert release_shares(cell("2023.2"), w.INSTANCE, "cmp-01") == ([], [], [], [])
    assert offline_shares(w.schema("nova", "2023.2"), "2023.2", w.INSTANCE) == ([], [], [])


@pytest.mark.parametrize("release", ["2024.1", "2024.2"])
def test_2024_keeps_the_rows_as_nova_does_and_says_what_stays(release):
    ops, posts, _, warnings = release_shares(cell(release, [share(release)]), w.INSTANCE, "cmp-01")
    assert ops == [] and posts == []
    (text,) = warnings
    assert f"as Nova {release} keeps them on delete" in text and "from 2025.1 its delete removes them" in text
    assert offline_shares(w.schema("nova", release), release, w.INSTANCE)[0] == []


@pytest.mark.parametrize("release", ["2025.1", "2026.2"])
def test_from_2025_1_the_rows_are_deleted_and_the_runbook_names_the_access_rule_and_the_mount(release):
    ops, posts, findings, warnings = release_shares(cell(release, [share(release)]), w.INSTANCE, "cmp-01")
    (op,) = ops
    assert isinstance(op, DeleteRows) and [r["id"] for r in op.rows] == [1]
    assert w.sql_of(op.scope.condition) == f"instance_uuid = '{w.INSTANCE}'"
    assert "no share_mapping row" in posts[0].description and findings == [
        "share_mapping: 1 row(s) to delete"
    ]
    (text,) = warnings
    mount = "/var/lib/nova/mnt/" + hashlib.md5(EXPORT.encode()).hexdigest()
    assert mount in text and "host cmp-01" in text
    assert (
        "access_type ip" in text
        and "openstack share access list 7b7b7b7b-0000-4000-8000-000000000002" in text
    )
    (off,), (post,), _ = offline_shares(w.schema("nova", release), release, w.INSTANCE)
    assert off.table == "share_mapping" and w.sql_of(off.scope.condition) == f"instance_uuid = '{w.INSTANCE}'"
    assert "no share_mapping row" in post.description


def test_cephfs_access_rule_is_cephx_nova():
    (text,) = release_shares(cell("2025.1", [share("2025.1", proto="CEPHFS")]), w.INSTANCE, "cmp-01")[3]
    assert "access_type cephx, access_to nova" in text


def test_soft_delete_plans_carry_it():
    facts = w.vm(cell_rows={"share_mapping": [share(w.RELEASE)]})
    plan = plan_soft_delete(facts, VmOptions(op="soft-delete"))
    assert w.one_op(plan, "share_mapping").rows[0]["id"] == 1
    offline = plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete"), "2025.1")
    assert w.one_op(offline, "share_mapping").scope is not None
    assert not w.ops_on(plan_vm_offline(w.INSTANCE, VmOptions(op="soft-delete"), "2024.2"), "share_mapping")
