"""Tables in latin1 (old deployments created before utf8 defaults): no false drift, exact rollback."""

from __future__ import annotations

import pytest

from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical
from tests.db.plan.test_vm_bundles import generate

pytestmark = pytest.mark.db


@pytest.mark.parametrize("op", ["soft-delete", "purge"])
def test_latin1_columns_fingerprint_like_the_generator_read_them(make_deployment, tmp_path, op: str) -> None:
    dep = make_deployment("2026.2")
    s = Seeder(dep, seed=5)
    target = s.instance(
        host=s.compute_host("cmp-01"), vm_state="error", task_state="deleting", power_state=4,
        metadata={"owner": "café ÿ ñ"}, tags=("naïve",),
    )  # fmt: skip
    s.flush()
    dep.execute("nova", "ALTER TABLE instance_metadata MODIFY value varchar(255) CHARACTER SET latin1")
    dep.execute("nova", "ALTER TABLE tags MODIFY tag varchar(80) CHARACTER SET latin1 NOT NULL")
    result = generate(dep, target.uuid, op, tmp_path)
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run.run("precheck"))  # a fresh precheck: nothing drifted
    assert_all_ok(run.run("apply"))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
    row = dep.query("nova", "SELECT value FROM instance_metadata WHERE instance_uuid = %s", (target.uuid,))
    assert row[0]["value"] == "café ÿ ñ"
