"""`fixpack volume --op detach-from-nova --from-file F --batch`: one bundle for several volumes of
one cell, executed (apply, verify, rollback back to identical tables); a refused volume stops the
batch before anything is written."""

from __future__ import annotations

import json

import pytest

from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical
from tests.conftest import SCHEMA_SET_RELEASES
from tests.review_fixtures import run_cli
from tests.scan_world import OLD

pytestmark = pytest.mark.db


def _deleted_in_cinder(dep, volume_id: str) -> None:
    dep.execute("cinder", "UPDATE volumes SET deleted = 1, deleted_at = %s, status = 'deleted', "
                "attach_status = 'detached' WHERE id = %s", (OLD, volume_id))  # fmt: skip
    dep.execute("cinder", "UPDATE volume_attachment SET deleted = 1, deleted_at = %s, "
                "attach_status = 'detached' WHERE volume_id = %s", (OLD, volume_id))  # fmt: skip


def test_volume_batch_bundle(make_deployment, tmp_path, capsys):
    dep = make_deployment(SCHEMA_SET_RELEASES[-1])
    s = Seeder(dep, seed=5)
    host = s.compute_host("cmp-01")
    stopped = [s.instance(host=host, volumes=1, vm_state="stopped", power_state=4) for _ in range(2)]
    active = s.instance(host=host, volumes=1)
    s.flush()
    s.close()
    volumes = [i.volumes[0] for i in stopped]
    for v in [*volumes, active.volumes[0]]:
        _deleted_in_cinder(dep, v)
    urls = []
    for role in ("nova_api", "cinder"):
        urls += [f"--{role.replace('_', '-')}-url", dep.url(role).render(with_password=True)]
    ids = tmp_path / "ids"
    out = tmp_path / "out"

    # the active instance's volume is refused: nothing at all is written
    ids.write_text("\n".join([*volumes, active.volumes[0]]) + "\n")
    argv = ["volume", "--op", "detach-from-nova", "--from-file", str(ids), "--batch", "-o", str(out), *urls]
    code, _out, err = run_cli(argv, capsys)
    assert code == 5 and err.count("\n") == 1 and "--allow-active-user" in err and "nothing written" in err
    assert not out.exists() or list(out.iterdir()) == []

    ids.write_text("\n".join(volumes) + "\n")
    code, stdout, err = run_cli(argv, capsys)
    assert code == 0, err
    (bundle,) = list(out.iterdir())
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["target"]["ids"] == volumes and manifest["target"]["op"] == "detach-from-nova"
    assert stdout.startswith("bundle: ")
    before = all_states(dep)
    run = BundleRun(dep, bundle)
    for phase in ("precheck", "apply", "verify"):
        assert_all_ok(run.run(phase))
    count = "SELECT COUNT(*) AS n FROM block_device_mapping WHERE deleted = 0 AND volume_id = %s"
    assert [dep.query("nova", count, (v,))[0]["n"] for v in volumes] == [0, 0]
    assert dep.query("nova", count, (active.volumes[0],))[0]["n"] == 1
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
