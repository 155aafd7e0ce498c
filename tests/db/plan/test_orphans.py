"""`fixpack allocation CONSUMER --op delete` and `fixpack mapping UUID --op delete`, proven by running
the bundles on real servers: apply, postconditions, nothing else changed, re-run, rollback, every
table identical; the refusals; and the scan -> suggested command -> scan loop."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from pathlib import Path

import pytest

from generator.errors import FixpackError, TargetProblem
from generator.jobs_orphans import generate_allocation_delete, generate_mapping_delete
from generator.pipeline import OutputOptions
from generator.plan.allocation_delete import OrphanOptions
from generator.plan.overrides import Overrides
from generator.scratch.deployment import CELL0_UUID as CELL0
from generator.seed import Seeder
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
    targets_for,
)
from tests.conftest import ALL_RELEASES
from tests.review_fixtures import run_cli
from tests.scan_world import HOSTILE_HOST, OLD, build_scan_world, clone_row, new_uuid

pytestmark = pytest.mark.db
RELEASES = (ALL_RELEASES[0], ALL_RELEASES[-1])


def prove(dep, result) -> None:
    """precheck, apply (only planned rows change), verify, re-run (no-op), rollback (identical)."""
    assert result.lint.passed, [f.describe() for f in result.lint.findings]
    before = all_states(dep)
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("precheck"))
    assert_all_ok(run.run("apply"))
    after = all_states(dep)
    assert assert_only_planned_rows_changed(before, after, allowed_changes(result.plan, dep, run)) > 0
    assert_all_ok(run.run("verify"))
    reruns = run.run("apply")
    assert_all_ok(reruns)
    assert all("already done; nothing changed" in r.stdout for r in reruns)
    assert_identical(after, all_states(dep))
    return before, run


def plant_orphan_consumer(dep):
    """An instance Nova deleted whose allocations Placement kept, on two providers."""
    s = Seeder(dep, seed=11)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    victim = s.instance(host=h1)
    bystander = s.instance(host=h2)
    s.flush()
    s.close()
    dep.execute("nova", "UPDATE instances SET deleted = id, deleted_at = %s, vm_state = 'deleted', "
                "task_state = NULL WHERE uuid = %s", (OLD, victim.uuid))  # fmt: skip
    rp2 = dep.query("placement", "SELECT id FROM resource_providers WHERE uuid = %s", (h2.provider_uuid,))[0][
        "id"
    ]
    one = dep.query("placement", "SELECT id FROM allocations WHERE consumer_id = %s LIMIT 1", (victim.uuid,))
    clone_row(dep, "placement", "allocations", "id = %s", (one[0]["id"],), {"resource_provider_id": rp2})
    return victim, bystander, (h1.provider_uuid, h2.provider_uuid)


def generations(dep, providers) -> dict[str, int]:
    rows = dep.query("placement", "SELECT uuid, generation FROM resource_providers")
    return {r["uuid"]: r["generation"] for r in rows if r["uuid"] in providers}


@pytest.mark.parametrize("release", RELEASES)
def test_allocation_delete_bundle(make_deployment, tmp_path: Path, release: str) -> None:
    dep = make_deployment(release)
    victim, bystander, providers = plant_orphan_consumer(dep)
    # a hostile provider name reaches the runbook's findings: escaped, never raw
    dep.execute(
        "placement", "UPDATE resource_providers SET name = %s WHERE uuid = %s", (HOSTILE_HOST, providers[1])
    )
    gens = generations(dep, providers)
    kept = dep.query(
        "placement", "SELECT COUNT(*) AS n FROM allocations WHERE consumer_id = %s", (bystander.uuid,)
    )
    result = generate_allocation_delete(
        [victim.uuid], OrphanOptions(), targets_for(dep), OutputOptions(out_dir=tmp_path)
    )
    assert result.plan.target_kind == "allocation" and result.plan.mode == "live"
    runbook = (result.path / "README.md").read_text(encoding="utf-8")
    assert "\x1b" not in runbook and "$(touch" not in runbook.replace("\\$(touch", "")
    assert not any(line.startswith("red") for line in runbook.splitlines())
    before, run = prove(dep, result)
    assert dep.query("placement", "SELECT * FROM allocations WHERE consumer_id = %s", (victim.uuid,)) == []
    assert dep.query("placement", "SELECT * FROM consumers WHERE uuid = %s", (victim.uuid,)) == []
    assert generations(dep, providers) == {u: g + 1 for u, g in gens.items()}
    assert dep.query("placement", "SELECT COUNT(*) AS n FROM allocations WHERE consumer_id = %s",
                     (bystander.uuid,)) == kept  # fmt: skip
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def test_allocation_delete_stops_on_a_concurrent_claim(make_deployment, tmp_path: Path) -> None:
    dep = make_deployment(ALL_RELEASES[-1])
    victim, _, providers = plant_orphan_consumer(dep)
    result = generate_allocation_delete(
        [victim.uuid], OrphanOptions(), targets_for(dep), OutputOptions(out_dir=tmp_path)
    )
    dep.execute("placement", "UPDATE resource_providers SET generation = generation + 1 WHERE uuid = %s",
                (providers[1],))  # fmt: skip
    drifted = all_states(dep)
    runs = BundleRun(dep, result.path).run("apply")
    assert runs and not runs[-1].ok
    assert_identical(drifted, all_states(dep))


def plant_stale_build(dep, *, cell: bool = True, host_name: str = "cmp-01"):
    """A build abandoned long ago: mapping, build request and request spec, no instance anywhere."""
    s = Seeder(dep, seed=12)
    host = s.compute_host(host_name)
    template = s.instance(host=host)
    other = s.instance(host=host)
    s.flush()
    s.close()
    ghost = new_uuid()
    clone_row(dep, "nova_api", "instance_mappings", "instance_uuid = %s", (template.uuid,),
              {"instance_uuid": ghost, "created_at": OLD, **({} if cell else {"cell_id": None})})  # fmt: skip
    clone_row(
        dep, "nova_api", "request_specs", "instance_uuid = %s", (template.uuid,), {"instance_uuid": ghost}
    )
    spec = dep.query("nova_api", "SELECT id FROM request_specs WHERE instance_uuid = %s", (ghost,))[0]["id"]
    add_build_request(dep, ghost, spec)
    return ghost, template, other


def add_build_request(dep, uuid: str, spec: int) -> None:
    """A build request row as the API writes it (request_spec_id only where the release has it)."""
    project = dep.query("nova_api", "SELECT project_id FROM instance_mappings WHERE instance_uuid = %s",
                        (uuid,))[0]["project_id"]  # fmt: skip
    columns = {r["COLUMN_NAME"] for r in dep.query("nova_api",
               "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
               "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'build_requests'")}  # fmt: skip
    row = {"created_at": OLD, "project_id": project, "instance_uuid": uuid}
    if "request_spec_id" in columns:
        row["request_spec_id"] = spec
    names = ", ".join(row)
    dep.execute("nova_api", f"INSERT INTO build_requests ({names}) VALUES ({', '.join(['%s'] * len(row))})",
                tuple(row.values()))  # fmt: skip


@pytest.mark.parametrize("release", RELEASES)
def test_mapping_delete_bundle(make_deployment, tmp_path: Path, release: str) -> None:
    dep = make_deployment(release)
    ghost, template, _ = plant_stale_build(dep)
    result = generate_mapping_delete(
        [ghost], OrphanOptions(), targets_for(dep), OutputOptions(out_dir=tmp_path)
    )
    assert {op.table for op in result.plan.operations} == {
        "instance_mappings",
        "request_specs",
        "build_requests",
    }
    before, run = prove(dep, result)
    for table in ("instance_mappings", "request_specs", "build_requests"):
        assert dep.query("nova_api", f"SELECT * FROM {table} WHERE instance_uuid = %s", (ghost,)) == []
    assert dep.query("nova_api", "SELECT * FROM instance_mappings WHERE instance_uuid = %s", (template.uuid,))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def test_allocation_refusals(make_deployment, tmp_path: Path) -> None:
    dep = make_deployment(ALL_RELEASES[-1])
    victim, bystander, _ = plant_orphan_consumer(dep)
    out = OutputOptions(out_dir=tmp_path)
    with pytest.raises(TargetProblem, match=r"live instance in .*--allow-live-consumer"):
        generate_allocation_delete([bystander.uuid], OrphanOptions(), targets_for(dep), out)
    stranger = new_uuid()
    clone_row(dep, "placement", "consumers", "uuid = %s", (bystander.uuid,), {"uuid": stranger})
    with pytest.raises(TargetProblem, match=r"Nova does not know .*--allow-foreign-consumer"):
        generate_allocation_delete([stranger], OrphanOptions(), targets_for(dep), out)
    fresh = new_uuid()
    clone_row(dep, "nova_api", "instance_mappings", "instance_uuid = %s", (bystander.uuid,),
              {"instance_uuid": fresh, "cell_id": None, "created_at": dt.datetime.utcnow()})  # fmt: skip
    clone_row(dep, "placement", "consumers", "uuid = %s", (bystander.uuid,), {"uuid": fresh})
    with pytest.raises(
        TargetProblem, match=r"build may be in flight.*--allow-recent-transition; accepted without"
    ):
        generate_allocation_delete([fresh], OrphanOptions(), targets_for(dep), out)
    with pytest.raises(TargetProblem, match="nothing to delete"):
        generate_allocation_delete([new_uuid()], OrphanOptions(), targets_for(dep), out)
    with pytest.raises(FixpackError, match="--nova-api-url"):
        generate_allocation_delete([victim.uuid], OrphanOptions(), targets_for(dep, api=False), out)
    forced = generate_allocation_delete(
        [bystander.uuid], OrphanOptions(allow=Overrides.of("live-consumer")), targets_for(dep), out
    )
    assert any(w.startswith("--allow-live-consumer: ") for w in forced.plan.warnings)


def test_mapping_refusals_and_partial_cleanup(make_deployment, tmp_path: Path, capsys) -> None:
    dep = make_deployment(ALL_RELEASES[-1])
    _, template, _ = plant_stale_build(dep)
    out = OutputOptions(out_dir=tmp_path)
    with pytest.raises(
        TargetProblem, match=r"exists in .*the cell its mapping points to.*--allow-instance-exists"
    ):
        generate_mapping_delete([template.uuid], OrphanOptions(), targets_for(dep), out)
    # a deleted instance with a leftover build request: only the build request goes
    dep.execute(
        "nova", "UPDATE instances SET deleted = id, vm_state = 'deleted' WHERE uuid = %s", (template.uuid,)
    )
    spec = dep.query("nova_api", "SELECT id FROM request_specs WHERE instance_uuid = %s", (template.uuid,))[
        0
    ]["id"]
    add_build_request(dep, template.uuid, spec)
    result = generate_mapping_delete([template.uuid], OrphanOptions(), targets_for(dep), out)
    assert [op.table for op in result.plan.operations] == ["build_requests"]
    prove(dep, result)
    # a build in flight: refused on the command line with one line, exit 5
    fresh = new_uuid()
    clone_row(dep, "nova_api", "instance_mappings", "instance_uuid = %s", (template.uuid,),
              {"instance_uuid": fresh, "cell_id": None, "created_at": dt.datetime.utcnow()})  # fmt: skip
    api_url = dep.url("nova_api").render(with_password=True)
    code, _out, err = run_cli(["mapping", fresh, "--op", "delete", "-o", str(tmp_path),
                               "--nova-api-url", api_url], capsys)  # fmt: skip
    assert code == 5 and err.count("\n") == 1 and "--allow-recent-transition" in err
    code, _out, err = run_cli(["mapping", fresh, "--op", "delete", "-o", str(tmp_path)], capsys)
    assert code != 0 and err.count("\n") == 1 and "Traceback" not in err


def _urls(dep, command: str) -> list[str]:
    roles = ("nova_api", "placement") if command == "allocation" else ("nova_api",)
    out = []
    for role in roles:
        out += [f"--{role.replace('_', '-')}-url", dep.url(role).render(with_password=True)]
    return out


def test_scan_suggestions_repair_what_scan_found(make_deployment, tmp_path: Path, capsys) -> None:
    dep = make_deployment(ALL_RELEASES[-1])
    build_scan_world(dep, healthy=30)
    scan = ["scan", "--format", "json", *_urls(dep, "allocation"), "--cinder-url",
            dep.url("cinder").render(with_password=True)]  # fmt: skip
    ours = ("allocation-orphaned", "mapping-without-instance", "build-request-stale")
    _code, out, _err = run_cli(scan, capsys)
    findings = [f for f in json.loads(out)["findings"] if f["check"] in ours]
    assert {f["check"] for f in findings} == set(ours)
    others = {(f["check"], f["uuid"]) for f in json.loads(out)["findings"] if f["check"] not in ours}
    for n, finding in enumerate(findings):
        words = shlex.split(finding["suggested"])
        assert words[0] == "fixpack"
        target = tmp_path / str(n)
        code, _printed, err = run_cli([*words[1:], *_urls(dep, words[1]), "-o", str(target)], capsys)
        assert code == 0, (finding, err)
        (bundle,) = target.iterdir()
        run = BundleRun(dep, bundle)
        assert_all_ok(run.run("precheck"))
        assert_all_ok(run.run("apply"))
        assert_all_ok(run.run("verify"))
    _code, out, _err = run_cli(scan, capsys)
    after = json.loads(out)["findings"]
    assert not [f for f in after if f["check"] in ours], after
    assert {(f["check"], f["uuid"]) for f in after} == others


def test_review_commands_on_both_bundles(make_deployment, tmp_path: Path, capsys) -> None:
    """lint, verify (checksums, then live: applies / already applied) and a local rehearsal."""
    dep = make_deployment(ALL_RELEASES[-1])
    victim, _, _ = plant_orphan_consumer(dep)
    ghost, _, _ = plant_stale_build(dep, host_name="cmp-09")
    out = OutputOptions(out_dir=tmp_path)
    bundles = {
        "allocation": generate_allocation_delete([victim.uuid], OrphanOptions(), targets_for(dep), out),
        "mapping": generate_mapping_delete([ghost], OrphanOptions(), targets_for(dep), out),
    }
    for command, result in bundles.items():
        bundle = str(result.path)
        assert run_cli(["lint", bundle], capsys)[0] == 0
        code, text, err = run_cli(["verify", bundle, *_urls(dep, command)], capsys)
        assert code == 0 and "APPLIES" in text, (text, err)
        code, text, err = run_cli(["rehearse", bundle, "--backend", "local"], capsys)
        assert code == 0, (text, err)
        assert_all_ok(BundleRun(dep, result.path).run("apply"))
        code, text, err = run_cli(["verify", bundle, *_urls(dep, command)], capsys)
        assert code == 0 and "ALREADY APPLIED" in text, (text, err)


def test_wrong_cell_mapping_goes_and_request_spec_stays(make_deployment, tmp_path: Path) -> None:
    """instance-without-mapping's first step: the mapping into the wrong cell is deleted; the live
    instance keeps its request spec (nova-manage cell_v2 map_instances maps it again)."""
    dep = make_deployment(ALL_RELEASES[0])
    _, template, _ = plant_stale_build(dep)
    cell0 = dep.query("nova_api", "SELECT id FROM cell_mappings WHERE uuid = %s", (CELL0,))[0]["id"]
    dep.execute("nova_api", "UPDATE instance_mappings SET cell_id = %s WHERE instance_uuid = %s",
                (cell0, template.uuid))  # fmt: skip
    result = generate_mapping_delete(
        [template.uuid], OrphanOptions(), targets_for(dep), OutputOptions(out_dir=tmp_path)
    )
    assert [op.table for op in result.plan.operations] == ["instance_mappings"]
    assert any("map_instances" in w for w in result.plan.warnings)
    before, run = prove(dep, result)
    assert dep.query("nova_api", "SELECT id FROM request_specs WHERE instance_uuid = %s", (template.uuid,))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def test_many_consumers_in_one_bundle(make_deployment, tmp_path: Path, capsys) -> None:
    """--from-file: two orphaned consumers on one provider, one bundle; the provider's generation is
    bumped once and its other consumers keep their allocations."""
    dep = make_deployment(ALL_RELEASES[-1])
    victim, bystander, providers = plant_orphan_consumer(dep)
    twin = new_uuid()
    clone_row(dep, "nova", "instances", "uuid = %s", (victim.uuid,), {"uuid": twin})
    clone_row(dep, "placement", "consumers", "uuid = %s", (victim.uuid,), {"uuid": twin})
    one = dep.query("placement", "SELECT id FROM allocations WHERE consumer_id = %s LIMIT 1", (victim.uuid,))
    clone_row(dep, "placement", "allocations", "id = %s", (one[0]["id"],), {"consumer_id": twin})
    listing = tmp_path / "consumers.txt"
    listing.write_text(f"{victim.uuid}\n{twin}\n")
    gens = generations(dep, providers)
    code, _out, err = run_cli(["allocation", "--from-file", str(listing), "--op", "delete",
                               *_urls(dep, "allocation"), "-o", str(tmp_path / "out")], capsys)  # fmt: skip
    assert code == 0, err
    (bundle,) = (tmp_path / "out").iterdir()
    run = BundleRun(dep, bundle)
    before = all_states(dep)
    assert_all_ok(run.run("apply"))
    assert generations(dep, providers) == {u: g + 1 for u, g in gens.items()}
    for consumer in (victim.uuid, twin):
        assert dep.query("placement", "SELECT id FROM allocations WHERE consumer_id = %s", (consumer,)) == []
    assert dep.query("placement", "SELECT id FROM allocations WHERE consumer_id = %s", (bystander.uuid,))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
