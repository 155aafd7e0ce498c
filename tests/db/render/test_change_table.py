"""The change table, proven against a real apply: every row the apply changes is listed, and
nothing else; `fixpack vm --format json` prints the same rows; `verify --expect` holds the
bundle reviewed to its bytes.

The rows changed are measured, not assumed: every table of every database is read before
and after the apply (tests/bundles.py `all_states`) and diffed by primary key.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm_common import VmOptions
from generator.quoting import md_code, md_text
from generator.rehearse.tables import diff_states
from generator.render import change_table as ct
from generator.seed import Seeder
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, run_offline, targets_for
from tests.db.cli.test_cli import fixpack
from tests.db.plan.test_vm_offline import NO_DATABASE

pytestmark = pytest.mark.db
RELEASE = "2025.1"


def _world(dep):
    s = Seeder(dep, seed=23)
    h1, h2 = s.compute_host("cmp-01"), s.compute_host("cmp-02")
    for i in range(4):  # bystanders: none of their rows may appear in the table
        s.instance(host=h1 if i % 2 else h2, volumes=i % 2, metadata={"role": "app"})
    target = s.instance(
        host=h1,
        vm_state="error",
        task_state="deleting",
        power_state=4,
        vif_types=("ovs", "ovs_hybrid"),
        volumes=1,
        faults=2,
        actions=2,
        metadata={"role": "db|`x`\n<b>", "owner": "ops"},
        display_name="web-1 | `rm -rf` <i>",
    )
    s.flush()
    return target


def _changed(dep, before, after) -> set[tuple[str, str, tuple]]:
    out = set()
    for role in before:
        for table, diff in diff_states(before[role], after[role]).items():
            out |= {(role, table, key) for key in diff.keys}
    return out


def _key_text(key_columns: tuple[str, ...], key: tuple) -> str:
    pairs = zip(key_columns, key, strict=True)
    return ", ".join(f"{md_text(c)}={md_code(ct.shown(c, v), in_table=True)}" for c, v in pairs)


def _row_lines(readme: str) -> list[str]:
    table = readme.split("| before → after (update) / row (delete, insert) |")[1].split("\n\n")[0]
    return [ln for ln in table.splitlines() if ln.startswith("| `db:")]


def test_the_change_table_lists_exactly_the_rows_a_live_soft_delete_changes(make_deployment, tmp_path):
    dep = make_deployment(RELEASE)
    target = _world(dep)
    before = all_states(dep)
    result = generate_vm(
        target.uuid, VmOptions(op="soft-delete"), targets_for(dep), "auto", OutputOptions(out_dir=tmp_path)
    )
    run = BundleRun(dep, result.path)
    assert_all_ok(run.run("apply"))
    changed = _changed(dep, before, all_states(dep))
    assert len(changed) >= 15  # ports, metadata, faults, actions, a volume's BDM, allocations, mapping ...

    readme = (result.path / "README.md").read_text()
    assert readme.index("## Change table (sign this)") < readme.index("## 1. What was found")
    lines = _row_lines(readme)
    assert len(lines) == len(changed)  # one line per changed row, no line for a row left alone
    steps = {(s.database, s.table): s for s in ct.build(result.plan).steps}
    keys = {(op.database, op.table): op.key for op in result.plan.operations}
    for role, table, key in sorted(changed, key=repr):
        step = steps[(role, table)]  # single cell: deployment role = plan role
        prefix = f"| `db:{role}` | {step.number} | {md_text(table)} | {_key_text(keys[(role, table)], key)} |"
        assert sum(ln.startswith(prefix) for ln in lines) == 1, prefix
    tables = {t for _, t, _ in changed}
    assert {
        "instances",
        "instance_metadata",
        "instance_faults",
        "virtual_interfaces",
        "allocations",
    } <= tables
    assert {"block_device_mapping", "instance_mappings"} <= tables
    assert target.uuid in readme and "web-1 | `rm" not in readme  # hostile values only escaped
    print(f"change table: {len(changed)} changed rows; {_table_lines(readme)} README lines")


def _table_lines(readme: str) -> int:
    start = readme.index("## Change table (sign this)")
    end = readme.index("\n> ", start)  # the next block (the secrets note)
    return readme[start:end].count("\n")


def test_format_json_prints_the_same_plan_and_verify_expect_holds_the_bundle(make_deployment, tmp_path):
    dep = make_deployment(RELEASE)
    target = _world(dep)
    urls = [f"--{r.replace('_', '-')}-url={dep.url(r).render(with_password=True)}" for r in ("nova_api",)]
    urls += [f"--placement-url={dep.url('placement').render(with_password=True)}"]
    urls += [f"--cinder-url={dep.url('cinder').render(with_password=True)}"]
    done = fixpack("vm", target.uuid, "--op", "soft-delete", "-o", str(tmp_path), "--format", "json", *urls)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    (bundle,) = data["bundles"]
    path = Path(bundle["bundle"])
    readme = (path / "README.md").read_text()
    digest = bundle["digest"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest) and readme.count(digest) == 2
    assert json.loads((path / "manifest.json").read_text())["digest"] == digest
    rows = [c for s in bundle["steps"] for c in s.get("changes", [])]
    assert len(rows) == bundle["changed_rows"] == len(_row_lines(readme))
    inst = next(s for s in bundle["steps"] if s["table"] == "instances")
    assert inst["changes"][0]["columns"]["vm_state"] == {"before": "error", "after": "deleted"}

    ok = fixpack("verify", str(path), "--expect", digest)
    assert ok.returncode == 0 and "is the one expected" in ok.stdout, ok.stdout + ok.stderr

    tampered = tmp_path / "tampered"
    shutil.copytree(path, tampered)
    apply = next(tampered.glob("sql/2*-apply-nova.sql"))
    apply.write_text(apply.read_text().replace("deleted", "deleted ", 1))
    bad = fixpack("verify", str(tampered), "--expect", digest)
    assert bad.returncode == 1 and bad.stdout.count("\n") == 1, bad.stdout
    assert f"sql/{apply.name} changed" in bad.stdout and "Traceback" not in bad.stderr

    added = tmp_path / "added"
    shutil.copytree(path, added)
    (added / "sql" / "25-extra.sql").write_text("SELECT 1;\n")
    bad = fixpack("verify", str(added), "--expect", digest)
    assert bad.returncode == 1 and "sql/25-extra.sql added" in bad.stdout

    readme_edit = tmp_path / "readme"
    shutil.copytree(path, readme_edit)
    (readme_edit / "README.md").write_text(readme.replace("| instances |", "| instance |", 1))
    bad = fixpack("verify", str(readme_edit), "--expect", digest)
    assert bad.returncode == 1 and "README.md changed" in bad.stdout
    plain = fixpack("verify", str(readme_edit))  # the plain checksum check sees it too
    assert plain.returncode == 1 and "README.md: MODIFIED" in plain.stdout


def test_offline_table_counts_are_what_the_precheck_prints_and_the_apply_changes(make_deployment, tmp_path):
    dep = make_deployment(RELEASE)
    target = _world(dep)
    result = generate_vm(
        target.uuid, VmOptions(op="soft-delete"), NO_DATABASE, RELEASE, OutputOptions(out_dir=tmp_path)
    )
    assert result.plan.mode == "offline"
    readme = (result.path / "README.md").read_text()
    steps = ct.build(result.plan).steps
    for s in steps:
        assert f"{md_code(f'step {s.number}: {s.table}', in_table=True)} `rows_to_change`" in readme
        assert md_code(s.scope_sql, in_table=True) in readme
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    prechecks = run_offline(run, "precheck")
    assert_all_ok(prechecks)
    assert_identical(before, all_states(dep))
    printed = {}
    for r in prechecks:
        name = Path(r.file).name
        role = name.split("-precheck-")[1].removesuffix(".sql") if "-precheck-" in name else None
        for number, table, count in re.findall(r"step (\d+): (\w+)\t(\d+)", r.stdout):
            printed[(role, int(number), table)] = int(count)
    assert {(s.database, s.number, s.table) for s in steps} <= set(printed)
    assert_all_ok(run_offline(run, "apply"))
    diff = {}
    after = all_states(dep)
    for role in before:
        for table, d in diff_states(before[role], after[role]).items():
            diff[(role, table)] = len(d.keys)
    for s in steps:  # the count the precheck printed is the number of rows the apply changed
        assert printed[(s.database, s.number, s.table)] == diff.get((s.database, s.table), 0), s
