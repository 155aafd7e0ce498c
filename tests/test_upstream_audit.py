"""Cross-service repairs audited against upstream Nova and Cinder, proven on real databases.

Each test seeds the case upstream code treats specially and either checks the refusal
(one line, exit 5, nothing written) or executes the bundle: apply, the postconditions,
nothing else changed, re-run, rollback, every table identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.seed import Seeder

from .bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    targets_for,
)
from .conftest import ALL_RELEASES
from .volume_world import close_cinder_attachment

pytestmark = pytest.mark.db
NEWEST = ALL_RELEASES[-1]


def prove(dep, result) -> None:
    """Execute a generated bundle: apply, only planned rows, verify, re-run, rollback identical."""
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert_all_ok(run.run("precheck"))
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run)) > 0
    assert_all_ok(run.run("verify"))
    assert all("already done; nothing changed" in r.stdout for r in run.run("apply"))
    assert_identical(after, all_states(dep))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def one(dep, role: str, sql: str, *params) -> dict:
    rows = dep.query(role, sql, params)
    assert len(rows) == 1, rows
    return rows[0]


def urls(dep) -> list[str]:
    return [
        "--cinder-url",
        dep.url("cinder").render(with_password=True),
        "--nova-api-url",
        dep.url("nova_api").render(with_password=True),
    ]


# 1. the root BDM of a boot-from-volume instance ---------------------------------------------


def test_detach_from_nova_refuses_the_root_volume_of_a_live_instance(make_deployment, capsys, tmp_path):
    dep = make_deployment(NEWEST)
    s = Seeder(dep, seed=41)
    inst = s.instance(host="cmp-01", vm_state="stopped", power_state=4, volumes=1)
    s.flush()
    (vol,) = inst.volumes
    close_cinder_attachment(dep, vol)
    dep.execute("nova", "UPDATE block_device_mapping SET boot_index = 0 WHERE volume_id = %s", (vol,))
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(["volume", vol, "--op", "detach-from-nova", *urls(dep), "-o", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 5, err
    assert err.count("\n") == 1 and "Cannot detach a root device volume" in err, err
    assert not out.exists() or not any(out.iterdir())
    # a second disk of the same instance still goes
    dep.execute("nova", "UPDATE block_device_mapping SET boot_index = 1 WHERE volume_id = %s", (vol,))
    with pytest.raises(SystemExit) as exit_info:
        main(["volume", vol, "--op", "detach-from-nova", *urls(dep), "-o", str(out)])
    assert exit_info.value.code == 0, capsys.readouterr().err
