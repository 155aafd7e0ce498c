"""Long non-ASCII text keys and long values: correct, lint-clean bundles, not false refusals."""

from __future__ import annotations

import pytest

from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical
from tests.db.plan.test_vm_bundles import generate

pytestmark = pytest.mark.db


@pytest.mark.parametrize("tag", ["é" * 40, "漢" * 27, "x" * 60])
@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_long_non_ascii_tag_keys(make_deployment, tmp_path, tag: str, op: str) -> None:
    dep = make_deployment("2026.2")
    s = Seeder(dep, seed=3)
    host = s.compute_host("cmp-01")
    target = s.instance(host=host, vm_state="error", task_state="deleting", power_state=4, tags=(tag, "web"))
    s.flush()
    result = generate(dep, target.uuid, op, tmp_path)
    assert result.lint.passed
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run.run("precheck"))
    assert_all_ok(run.run("apply"))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_a_64_kib_value_round_trips_without_a_false_lint_refusal(make_deployment, tmp_path, op: str) -> None:
    dep = make_deployment("2026.2")
    s = Seeder(dep, seed=4)
    target = s.instance(host=s.compute_host("cmp-01"), vm_state="error", task_state="deleting", power_state=4)
    s.flush()
    big = ("ünïcode-" * 8192)[: 64 * 1024]
    sql = "UPDATE instance_faults SET details = %s WHERE instance_uuid = %s"
    assert dep.execute("nova", sql, (big, target.uuid))
    result = generate(dep, target.uuid, op, tmp_path)
    assert result.lint.passed
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run.run("precheck"))
    assert_all_ok(run.run("apply"))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
