"""Messages that cannot be mistaken (issue 10): each misleading text, shown replaced by its new one.

Bundles are run with the real client on a real MariaDB; CLI texts are driven in-process.
"""

from __future__ import annotations

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.render.messages import NOTHING_TO_ROLL_BACK

from .bundles import BundleRun, all_states, assert_all_ok, assert_identical, run_offline
from .conftest import ALL_RELEASES
from .test_vm_bundles import generate
from .test_vm_bundles import seed_world as seed_vm_world

NO_DATABASE = resolve(ConnectionOptions(), env={})


@pytest.mark.db
def test_rollback_before_any_apply_says_it_was_not_applied_live_and_offline(
    make_deployment, tmp_path
) -> None:
    """Not `rollback finished: every guard held`: the same words from a live and an offline bundle."""
    assert NOTHING_TO_ROLL_BACK.startswith("nothing to roll back: this bundle has not been applied")
    release = ALL_RELEASES[-1]
    dep = make_deployment(release)
    target = seed_vm_world(dep, op="soft-delete")
    before = all_states(dep)

    live = BundleRun(dep, generate(dep, target.uuid, "soft-delete", tmp_path / "live").path)
    runs = live.run("rollback")
    assert_all_ok(runs)
    assert [r.last_line for r in runs] == [NOTHING_TO_ROLL_BACK] * len(runs)
    assert not any("every guard held" in r.stdout for r in runs)

    result = generate_vm(
        target.uuid,
        VmOptions(op="soft-delete"),
        NO_DATABASE,
        release,
        OutputOptions(out_dir=tmp_path / "off"),
    )
    offline = BundleRun(dep, result.path)
    assert_all_ok(run_offline(offline, "precheck"))  # the capture steps write the rollback files
    runs = offline.run("rollback")
    assert_all_ok(runs)
    captured_rows = [r for r in runs if "nothing to restore" not in r.stdout]
    assert captured_rows, "the capture found the instance's rows"
    assert all(r.last_line == NOTHING_TO_ROLL_BACK for r in captured_rows), [r.stdout[-300:] for r in runs]
    assert not any("every guard held" in r.stdout for r in runs)
    assert_identical(before, all_states(dep))
