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


@pytest.mark.db
def test_verify_of_an_offline_bundle_tells_will_apply_partial_applied_drifted(
    make_deployment, tmp_path
) -> None:
    """Not `PASSED: APPLIES` whatever the rows: the offline bundle's own questions, asked now."""
    from generator.review.bundle import Bundle
    from generator.review.verify import verify_bundle

    from .bundles import targets_for

    release = ALL_RELEASES[-1]
    dep = make_deployment(release)
    target = seed_vm_world(dep, op="soft-delete")
    result = generate_vm(
        target.uuid, VmOptions(op="soft-delete"), NO_DATABASE, release, OutputOptions(out_dir=tmp_path)
    )
    bundle, targets = Bundle.open(result.path), targets_for(dep)

    def verdict() -> tuple[str, bool, list]:
        report = verify_bundle(bundle, targets)
        assert report.live is not None and all(d.problem is None for d in report.live), report.as_dict()
        return report.verdict, report.passed, [d.offline for d in report.live]

    text, passed, states = verdict()
    assert text.startswith("WILL APPLY") and passed, (text, states)
    assert "APPLIES: every guard holds" not in text
    run = BundleRun(dep, result.path)
    assert_all_ok(run_offline(run, "precheck"))
    first = next(s for s in run.manifest["steps"] if s["phase"] == "apply" and s["kind"] == "sql")
    from generator.rehearse.client import run_sql_file

    assert run_sql_file(run.url_for(first["target"]), run.path / first["file"]).ok  # the cell file only
    text, passed, states = verdict()
    assert text.startswith("PARTIALLY APPLIED") and passed, (text, states)
    assert_all_ok(run_offline(run, "apply"))
    text, passed, states = verdict()
    assert text.startswith("ALREADY APPLIED") and passed, (text, states)
    assert_all_ok(run.run("rollback"))
    assert verdict()[0].startswith("WILL APPLY")
    # a precondition that fails now (the instance looks healthy again): the apply would stop
    dep.execute(
        "nova",
        "UPDATE instances SET vm_state = 'active', power_state = 1, task_state = NULL WHERE uuid = %s",
        (target.uuid,),
    )
    text, passed, states = verdict()
    assert text.startswith("DRIFTED") and not passed, (text, states)
    assert any("not a healthy running server" in f for s in states for f in s.failed), states
