"""SQL a reviewer can read: every line of every generated SQL file fits 120 characters.

The issue's size target (a live soft-delete of one stuck instance, ~30 changed rows, in at most
1,000 SQL lines) is not reached yet and so not asserted here (a skipped or xfailed DB test fails
the CI gate); bench/bundle_size.py prints the figures per op. What is asserted is a ratchet: the
lines per changed row of that soft-delete stay at or below what the renderer reaches today
(85 per row, 2,859 lines for 34 rows on 2026-12-05; 157 per row the day before), so a change
that makes bundles longer fails here and has to say why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.connect.sources import ConnectionOptions, resolve
from generator.jobs_volume import generate_volume
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.plan.volume_common import VolumeOptions
from generator.seed import Seeder
from tests.bundles import targets_for
from tests.db.plan.test_vm_bundles import seed_world as seed_vm_world
from tests.volume_world import seed_world as seed_volume_world

pytestmark = pytest.mark.db

RELEASE = "2025.1"
LIMIT = 120
NO_DATABASE = resolve(ConnectionOptions(), env={})


def sql_lines(bundle: Path) -> list[tuple[str, int, str]]:
    """(file, line number, text) of every line of every SQL file of a bundle."""
    return [
        (str(f.relative_to(bundle)), n, line)
        for f in sorted(bundle.rglob("*.sql"))
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
    ]


def assert_lines_fit(bundle: Path) -> None:
    lines = sql_lines(bundle)
    assert lines, "no SQL in the bundle"
    long = [f"{f}:{n}: {len(t)} chars" for f, n, t in lines if len(t) > LIMIT]
    assert not long, f"{len(long)} SQL line(s) over {LIMIT} characters: {long[:5]}"


def stuck_instance(dep) -> str:
    s = Seeder(dep, seed=11)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(4):
        s.instance(host=h1 if i % 2 else h2, volumes=i % 2)
    target = s.instance(
        host=h1, vm_state="error", task_state="deleting", power_state=4, volumes=1,
        vif_types=("ovs_hybrid", "ovs"), metadata={"role": "db"}, faults=1, actions=2,
    )  # fmt: skip
    s.flush()
    return target.uuid


def test_every_line_of_a_live_soft_delete_fits_120_characters(make_deployment, tmp_path) -> None:
    dep = make_deployment(RELEASE)
    uuid = stuck_instance(dep)
    result = generate_vm(uuid, VmOptions(op="soft-delete"), targets_for(dep), "auto", OutputOptions(tmp_path))
    assert result.lint.passed
    assert_lines_fit(result.path)


LINES_PER_ROW_CEILING = 90


def test_a_live_soft_delete_stays_under_the_lines_per_changed_row_ratchet(make_deployment, tmp_path) -> None:
    from bench.bundle_size import changed_rows, seed_vm_world  # the bench's world: ~30 changed rows

    dep = make_deployment(RELEASE)
    uuid = seed_vm_world(dep, "soft-delete")
    result = generate_vm(uuid, VmOptions(op="soft-delete"), targets_for(dep), "auto", OutputOptions(tmp_path))
    rows = changed_rows(result.plan)
    lines = len(sql_lines(result.path))
    assert rows >= 30, f"the world changed: {rows} rows"
    assert lines / rows <= LINES_PER_ROW_CEILING, f"{lines} SQL lines for {rows} changed rows"


@pytest.mark.parametrize("op", ["soft-delete", "purge", "rehost"])
def test_every_vm_bundle_live_and_offline_has_lines_of_at_most_120(
    make_deployment, tmp_path, op: str
) -> None:
    dep = make_deployment(RELEASE)
    target = seed_vm_world(dep, op=op)  # the world of test_vm_bundles: hostile tags and metadata
    to_host = "cmp-02" if op == "rehost" else None
    live = generate_vm(target.uuid, VmOptions(op=op, to_host=to_host), targets_for(dep), "auto",
                       OutputOptions(tmp_path / "live"))  # fmt: skip
    assert_lines_fit(live.path)
    node = dep.query("nova", "SELECT hypervisor_hostname FROM compute_nodes WHERE host = 'cmp-02'")[0]
    options = (
        VmOptions(op=op, to_host="cmp-02", to_node=node["hypervisor_hostname"])
        if to_host
        else VmOptions(op=op)
    )
    offline = generate_vm(target.uuid, options, NO_DATABASE, RELEASE, OutputOptions(tmp_path / "offline"))
    assert_lines_fit(offline.path)


@pytest.mark.parametrize("op", ["reset-detached", "detach-from-nova", "soft-delete", "purge"])
def test_every_volume_bundle_has_lines_of_at_most_120(make_deployment, tmp_path, op: str) -> None:
    dep = make_deployment(RELEASE)
    sc = seed_volume_world(dep, op)
    options = VolumeOptions(op=op, **sc.options)
    live = generate_volume(sc.volume.id, options, targets_for(dep), "auto", OutputOptions(tmp_path / "live"))
    assert_lines_fit(live.path)
    if op in ("reset-detached", "soft-delete"):  # the ops with an offline form
        offline = generate_volume(
            sc.volume.id, options, NO_DATABASE, RELEASE, OutputOptions(tmp_path / "off")
        )
        assert_lines_fit(offline.path)
