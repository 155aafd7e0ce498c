"""plan/vm_offline_cinder.py: an offline VM soft-delete/purge with --with-cinder ends the instance's
Cinder attachments at run time; without it the bundle only lists what to finish."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from generator.cli.vm_cmd import vm
from generator.errors import FixpackError
from generator.ops.operations import FromQuery, SetValue, UpdateRows
from generator.plan.vm_common import VmOptions
from generator.plan.vm_offline import CINDER_OFFLINE, plan_vm_offline
from generator.plan.vm_offline_cinder import WITH_CINDER_WARNING
from tests.unit import world as w

U = w.INSTANCE


def _plan(op: str = "soft-delete", release: str = w.RELEASE, **options):
    return plan_vm_offline(U, VmOptions(op=op, **options), release)


def test_without_the_flag_the_bundle_leaves_cinder_alone_and_lists_what_to_finish():
    plan = _plan()
    assert "cinder" not in [d.role for d in plan.databases]
    assert not [o for o in plan.operations if o.database == "cinder"]
    assert CINDER_OFFLINE in plan.warnings and WITH_CINDER_WARNING not in plan.warnings


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_with_cinder_adds_the_cinder_group_last_in_the_order_its_scopes_need(op: str):
    plan = _plan(op, with_cinder=True)
    assert [d.role for d in plan.databases] == ["nova", "nova_api", "placement", "cinder"]
    cinder = [o for o in plan.operations if o.database == "cinder"]
    # the steps that find the volumes through the live attachments run before the close
    assert [o.table for o in cinder] == [
        "volumes",
        "volume_admin_metadata",
        "volume_attachment",
        "attachment_specs",
    ]
    assert all(isinstance(o, UpdateRows) and o.row_count is None for o in cinder)
    assert WITH_CINDER_WARNING in plan.warnings and CINDER_OFFLINE not in plan.warnings
    assert plan.options["with_cinder"] is True


def test_with_cinder_closes_the_instances_live_attachments_and_migrates_their_specs():
    plan = _plan(with_cinder=True)
    close = w.one_op(plan, "volume_attachment", "cinder")
    assert w.sql_of(close.scope.condition) == f"instance_uuid = '{U}' AND deleted = 0"
    changes = dict(close.assignments)
    assert changes["attach_status"] == SetValue("detached") and changes["deleted"] == SetValue(True)
    assert isinstance(changes["connector"], FromQuery) and "GROUP_CONCAT" in w.sql_of(
        changes["connector"].query
    )
    specs = w.sql_of(w.one_op(plan, "attachment_specs", "cinder").scope.condition)
    assert f"instance_uuid = '{U}'" in specs and "NOT connector IS NULL" in specs
    mode = w.sql_of(w.one_op(plan, "volume_admin_metadata", "cinder").scope.condition)
    assert "`key` = 'attached_mode' AND deleted = 0" in mode
    assert (
        f"volume_id IN (SELECT volume_id FROM volume_attachment WHERE instance_uuid = '{U}' AND deleted = 0)"
        in mode
    )


def test_with_cinder_recomputes_the_status_from_the_other_instances_attachments():
    op = w.one_op(_plan(with_cinder=True), "volumes", "cinder")
    status = dict(op.assignments)["status"]
    assert isinstance(status, FromQuery)
    text = w.sql_of(status.query)
    assert "volume_attachment.volume_id = volumes.id" in text  # correlated with the volume updated
    assert f"NOT volume_attachment.instance_uuid IN ('{U}')" in text  # what stays: other instances
    assert "volumes.status = 'uploading'" in text  # detached_volume_statuses keeps a busy status
    scope = w.sql_of(op.scope.condition)
    assert (
        f"id IN (SELECT volume_id FROM volume_attachment WHERE instance_uuid = '{U}' AND deleted = 0)"
        in scope
    )
    assert "NOT status <=> (SELECT" in scope  # unless it already is what stays says


def test_with_cinder_checks_at_run_time_what_the_sql_connector_needs_and_verifies_the_close():
    plan = _plan(with_cinder=True)
    pre = [p for p in w.post_texts(plan.preconditions) if p.startswith("cinder: ")]
    assert len(pre) == 3 and any("printable ASCII" in p for p in pre)
    assert any(
        p.startswith("cinder: the instance has no live Cinder attachment")
        for p in w.post_texts(plan.postconditions)
    )


def test_cinder_release_is_the_cinder_targets_own():
    plan = _plan(release="2025.1", with_cinder=True, cinder_release="2023.1")
    cinder = plan.database("cinder")
    assert plan.release == "2025.1" and plan.database("nova").release == "2025.1"
    assert cinder.release == "2023.1" and "--cinder-release 2023.1" in (cinder.detection or "")
    assert (
        cinder.schema_fingerprint
        != _plan(release="2025.1", with_cinder=True).database("cinder").schema_fingerprint
    )


@pytest.mark.parametrize(
    ("op", "options", "message"),
    [
        (
            "rehost",
            {"with_cinder": True, "to_host": "cmp-02", "to_node": "cmp-02.example"},
            "soft-delete and purge",
        ),
        ("soft-delete", {"cinder_release": "2023.1"}, "--cinder-release names"),
    ],
)
def test_options_that_mean_nothing_are_refused(op: str, options: dict, message: str):
    with pytest.raises(FixpackError, match=message):
        _plan(op, **options)


def test_cli_refuses_with_cinder_for_a_live_bundle(tmp_path):
    result = CliRunner().invoke(
        vm,
        [U, "--op", "soft-delete", "--with-cinder", "--cinder-url", "mysql+pymysql://u@127.0.0.1:1/cinder"],
        obj={},
    )
    assert result.exit_code != 0 and "for offline bundles" in str(result.exception or result.output)
