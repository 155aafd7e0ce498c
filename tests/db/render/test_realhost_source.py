"""The rehost's source-host script, run on a real compute node (tests/realhost.py).

A resize from cmp-01 to cmp-02 failed and the guest runs on cmp-02; the bundle of
`fixpack vm UUID --op rehost --to-host cmp-02` carries `shell/source-cmp-01.sh`. On cmp-01 the
instance left its domain, its `<uuid>_resize` directory, its hybrid-plugged port (qbr/qvb/qvo/tap
on br-int) and the open-iscsi node record of its volume on a real tgtd target, next to a live
neighbour that shares br-int and the portal. While the domain still runs there the script
refuses and changes nothing; once it is shut off, a dry run changes nothing, --execute removes
exactly the leftovers (the domain definition and the instance's own directory are kept and
reported), and a second run finds nothing to do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.seed import Seeder
from tests.bundles import targets_for
from tests.db.render.test_realhost_compute import RELEASE, run_script, seeded
from tests.realhost import make_node, realhost_packages  # noqa: F401 (fixtures)
from tests.realhost_layout import INSTANCES, lay_out, leave_domain, neighbour_intact, state

pytestmark = [pytest.mark.realhost, pytest.mark.db]
HOST = "cmp-01"


def test_source_script_on_a_real_host(make_deployment, make_node, tmp_path: Path) -> None:  # noqa: F811
    dep = make_deployment(RELEASE)
    s = Seeder(dep, seed=17)
    h1, h2 = s.compute_host(HOST), s.compute_host("cmp-02")
    target = s.instance(
        host=h1, vm_state="error", power_state=4, migration="resize", migration_status="error",
        flavor="m1.small", new_flavor="m1.medium", volumes=1,
    )  # fmt: skip
    other = s.instance(host=h1, volumes=1)
    s.instance(host=h2)
    s.flush()
    gone, kept = seeded(dep, target), seeded(dep, other)
    assert gone.ports and gone.volumes and kept.ports and kept.volumes
    result = generate_vm(target.uuid, VmOptions(op="rehost", to_host="cmp-02"), targets_for(dep), "auto",
                         OutputOptions(out_dir=tmp_path))  # fmt: skip
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    script = result.path / "shell" / f"source-{HOST}.sh"
    bundle_id = json.loads((result.path / "manifest.json").read_text())["bundle_id"]

    node = make_node(HOST)
    lay_out(node, gone, extra_dirs=("_resize",))
    lay_out(node, kept)
    before = state(node)

    refused = run_script(node, script, "--execute")  # the guest still runs here
    assert refused.returncode == 3, refused.output
    assert "the guest still runs here" in refused.stdout
    assert state(node) == before

    leave_domain(node, gone, "shut off")
    before = state(node)
    for _ in range(2):
        dry = run_script(node, script)
        assert dry.returncode == 0, dry.output
        assert "nothing was changed. Run with --execute to act." in dry.stdout, dry.stdout
    assert state(node) == before, "a dry run changed the host"

    first = run_script(node, script, "--execute")
    assert first.returncode == 0, first.output
    assert "DONE: " in first.stdout, first.stdout
    after = state(node)
    assert not gone.devices & set(after["links"]), sorted(gone.devices & set(after["links"]))
    assert not {port.devices[3] for port in gone.ports} & set(after["ovs"]), after["ovs"]
    assert not [rec for rec in after["iscsi_nodes"] if any(p.iqn in rec for p in gone.volumes)]
    assert f"{INSTANCES}/{gone.uuid}_resize" not in after["instances"]
    assert f"{INSTANCES}/.fixpack-quarantine/{bundle_id}/{gone.uuid}_resize/disk" in after["instances"]
    # kept and reported: the definition (shut off) and the instance's own directory
    assert after["domains"].get(gone.uuid) == "shut off", after["domains"]
    assert f"{INSTANCES}/{gone.uuid}/disk" in after["instances"]
    assert "HINT: once the guest is confirmed on the rehost target: virsh undefine" in first.stdout
    neighbour_intact(before, after, kept)

    second = run_script(node, script, "--execute")
    assert second.returncode == 0, second.output
    assert "Nothing to do: everything is already clean." in second.stdout, second.stdout
    assert not re.search(r"^\S+ (RUN|DRY-RUN): ", second.stdout, re.MULTILINE), second.stdout
    assert state(node) == after
