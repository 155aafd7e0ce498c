"""Partial live applies are always recoverable (issue 13, item 1), proven on a real server.

Another session changes one row of a chunk the apply has not reached yet. The
apply commits the chunks before it and stops there. Then, whatever mix of
chunks is applied: the rollback restores exactly the applied chunks and says
"not applied, nothing to undo" for the others; `fixpack verify` names the
applied and pending chunks and the row that really drifted; and the apply is
settled by putting the row back and re-running it.
"""

from __future__ import annotations

import json

import pytest

from generator.continuation import generate_continuation
from generator.pipeline import OutputOptions
from generator.rehearse.tables import diff_states
from generator.review.drift import condition_keys
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical, targets_for
from tests.db.plan.test_vm_bundles import check_semantics
from tests.db.review.test_verify import _urls, verify_json
from tests.partial_world import (
    apply_until,
    drift_row,
    generate,
    nova_chunks,
    nova_guards,
    put_back,
    seed_many_sysmeta,
)
from tests.review_fixtures import run_cli

pytestmark = pytest.mark.db
RELEASE = "2025.2"


def assert_only_row_differs(before, after, table: str, key: int | tuple) -> None:
    """Every table identical to `before` except the one row the other writer changed."""
    wanted = key if isinstance(key, tuple) else (key,)
    for role in before:
        diffs = diff_states(before[role], after[role])
        if role == "nova" and table in diffs:
            assert diffs[table].keys == {wanted}, f"{table}: {sorted(diffs[table].keys)[:5]}"
            del diffs[table]
        assert not diffs, f"{role}: tables differ: {sorted(diffs)}"


def stopped_at(runs, chunk: int, total: int) -> None:
    assert runs and not runs[-1].ok and "ERROR 1242" in runs[-1].stderr, runs[-1].stderr if runs else runs
    assert runs[-1].file.endswith("-apply-nova.sql")
    out = runs[-1].stdout
    for n in range(1, chunk):
        assert f"apply chunk {n}/{total}\t" in out
    assert f"apply chunk {chunk}/{total}\t" not in out


def rollback_restores_applied(run: BundleRun, applied: int, total: int, drifted: int | None = -1) -> None:
    """The rollback runs to its end: applied chunks restored, the others 'not applied, nothing to undo'."""
    runs = run.run("rollback")
    assert_all_ok(runs)
    nova = next(r for r in runs if r.file.endswith("-rollback-nova.sql")).stdout
    for k in range(1, total + 1):
        apply_chunk = total + 1 - k
        line = f"rollback chunk {k}/{total}\t"
        assert line in nova, nova[-2000:]
        result = nova.split(line, 1)[1].splitlines()[0]
        if apply_chunk <= applied:
            assert result == "applied", (k, result)
        else:
            assert result.startswith("not applied, nothing to undo") or result.startswith("already done"), (
                k,
                result,
            )
    last = nova.strip().splitlines()[-1]
    if drifted is None:  # no row changed by another writer: the unapplied chunks are simply as before
        assert "not applied" not in nova
        assert last == "rollback finished: every guard held", last
        return
    drifted = total - applied  # rollback chunk 1 undoes the last apply chunk
    assert f"rollback chunk {drifted}/{total}\tnot applied, nothing to undo" in nova
    if applied:
        assert last.startswith(f"rollback finished: {applied} chunk(s) restored"), last
        assert "never applied" in last
    else:
        assert last.startswith("nothing to roll back"), last


def test_1014_rows_writer_changes_chunk_11(make_deployment, tmp_path, capsys) -> None:
    dep = make_deployment(RELEASE)
    target = seed_many_sysmeta(dep, 1014)
    result = generate(dep, target.uuid, tmp_path / "bundle", 100)
    total = nova_chunks(result.path)
    run = BundleRun(dep, result.path)
    before = all_states(dep)

    readme = (result.path / "README.md").read_text()
    assert "`fixpack continue . --cnf … -o DIR`" in readme
    assert "`not applied, nothing to undo`" in readme and "(a) put those rows back" in readme

    assert apply_until(run, 10, tmp_path).ok  # chunks 1-10 commit
    row = drift_row(dep, result.path, 11)  # then another session changes a row of chunk 11
    stopped_at(run.run("apply"), 11, total)
    stopped_at(run.run("apply"), 11, total)  # re-apply stops at the same place, changes nothing more

    # verify names applied and pending chunks and the row that really drifted, not the applied rows
    code, report = verify_json([str(result.path), *_urls(dep)], capsys)
    assert code == 1
    nova = next(d for d in report["live"] if d["role"] == "nova")
    assert nova["chunks"]["applied"] == list(range(1, 11))
    assert nova["chunks"]["drift"] == [11]
    assert nova["chunks"]["pending"] == list(range(11, total + 1))
    assert nova["drift"] == [
        f"instance_system_metadata id={row.id}: value: {row.original!r} -> 'changed by another writer'"
    ]

    assert report["verdict"].startswith("PARTIALLY APPLIED, STOPPED at nova chunk 11")
    code, out, _ = run_cli(["verify", str(result.path), *_urls(dep)], capsys)
    assert code == 1
    assert f"chunks: applied 1-10; pending 11-{total} (the apply stops at chunk 11)" in out
    assert (
        f"instance_system_metadata id={row.id}: value: {row.original!r} -> 'changed by another writer'" in out
    )
    assert "deleted: 0 ->" not in out  # the applied rows are not drift

    rollback_restores_applied(run, 10, total)
    assert_only_row_differs(before, all_states(dep), "instance_system_metadata", row.id)
    again = run.run("rollback")  # a second rollback changes nothing and says so
    assert_all_ok(again)
    last = again[-1].stdout.strip().splitlines()[-1]
    assert last.startswith("nothing to roll back: every chunk is as before the apply or was never"), last
    assert "(1 chunk(s) never applied" in last
    assert_only_row_differs(before, all_states(dep), "instance_system_metadata", row.id)

    # settle (a): the row is put back as the bundle expects; the apply continues to the end
    stopped_at(run.run("apply"), 11, total)
    put_back(dep, row)
    assert_all_ok(run.run("apply"))
    check_semantics(dep, "soft-delete", target.uuid)
    assert_all_ok(run.run("verify"))
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


def test_writer_races_the_apply_at_every_chunk_boundary(make_deployment, tmp_path) -> None:
    """5 chunks of 20 rows; for every boundary k the writer changes a row of chunk k+1.

    After each: the rollback restores exactly the applied chunks; settling by putting the row
    back completes; and (k >= 1) a continuation bundle completes and both roll back.
    """
    boundaries = None
    k = 0
    while boundaries is None or k < boundaries:
        dep = make_deployment(RELEASE)
        target = seed_many_sysmeta(dep, 60)
        result = generate(dep, target.uuid, tmp_path / f"b{k}", 20)
        total = nova_chunks(result.path)
        boundaries = total
        assert total == 5
        run = BundleRun(dep, result.path)
        before = all_states(dep)
        if k:
            assert apply_until(run, k, tmp_path).ok
        row = drift_row(dep, result.path, k + 1)
        stopped_at(run.run("apply"), k + 1, total)
        rollback_restores_applied(run, k, total)
        assert_only_row_differs(before, all_states(dep), row.table, row.id)
        stopped_at(run.run("apply"), k + 1, total)
        put_back(dep, row)
        assert_all_ok(run.run("apply"))
        check_semantics(dep, "soft-delete", target.uuid)
        assert_all_ok(run.run("rollback"))
        assert_identical(before, all_states(dep))
        if k:  # settle (b) at this boundary too: a continuation bundle, then both rollbacks
            assert apply_until(run, k, tmp_path).ok
            row = drift_row(dep, result.path, k + 1)
            stopped_at(run.run("apply"), k + 1, total)
            cont, _ = generate_continuation(
                result.path, targets_for(dep), OutputOptions(out_dir=tmp_path / f"c{k}", chunk_rows=20)
            )
            second = BundleRun(dep, cont.path)
            assert_all_ok(second.run("precheck"))
            assert_all_ok(second.run("apply"))
            check_semantics(dep, "soft-delete", target.uuid)
            assert_all_ok(second.run("verify"))
            assert_all_ok(second.run("rollback"))
            rollback_restores_applied(run, k, total)
            assert_only_row_differs(before, all_states(dep), row.table, row.id)
        k += 1


def test_continuation_bundle_finishes_and_both_roll_back(make_deployment, tmp_path, capsys) -> None:
    """Settle (b): `fixpack continue` plans what remains against the rows as they are now."""
    dep = make_deployment(RELEASE)
    target = seed_many_sysmeta(dep, 1014)
    result = generate(dep, target.uuid, tmp_path / "bundle", 100)
    total = nova_chunks(result.path)
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    urls = _urls(dep)
    cont_dir = tmp_path / "continuation"

    code, out, err = run_cli(["continue", str(result.path), *urls, "-o", str(cont_dir)], capsys)
    assert code != 0 and not out and "no chunk of it is applied: nothing to continue" in err
    assert len(err.strip().splitlines()) == 1 and not cont_dir.exists()

    assert apply_until(run, 10, tmp_path).ok
    row = drift_row(dep, result.path, 11)
    stopped_at(run.run("apply"), 11, total)

    code, out, err = run_cli(["continue", str(result.path), *urls, "-o", str(cont_dir)], capsys)
    assert code == 0, err
    assert f"continuation of bundle {result.manifest['bundle_id']}" in out
    assert "nova: applied [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], pending [11, 12]" in out
    (cont,) = cont_dir.iterdir()
    manifest = json.loads((cont / "manifest.json").read_text())
    assert manifest["options"]["continues"] == result.manifest["bundle_id"]
    preimages = json.loads((cont / "data/preimages.json").read_text())["nova"]["instance_system_metadata"]
    assert len(preimages["rows"]) == 1014 - 900  # chunks 2-10 applied 900; the rest, as they are now
    by_id = {r[preimages["columns"].index("id")]: r for r in preimages["rows"]}
    assert by_id[row.id][preimages["columns"].index("value")] == "changed by another writer"

    second = BundleRun(dep, cont)
    assert_all_ok(second.run("precheck"))
    assert_all_ok(second.run("apply"))
    check_semantics(dep, "soft-delete", target.uuid)
    assert_all_ok(second.run("verify"))
    again = second.run("apply")
    assert_all_ok(again)
    assert "applied" not in "".join(r.stdout for r in again).replace("apply finished", "")

    rollback = second.run("rollback")
    assert_all_ok(rollback)
    rollback_restores_applied(run, 10, total)
    assert_only_row_differs(before, all_states(dep), "instance_system_metadata", row.id)


def test_client_dies_mid_chunk_whole_chunks_only(make_deployment, tmp_path, capsys) -> None:
    """The session ends inside chunk 3 (its changes made, no COMMIT): chunks 1-2 stay, 3 is rolled back."""
    dep = make_deployment(RELEASE)
    target = seed_many_sysmeta(dep, 60)
    result = generate(dep, target.uuid, tmp_path / "bundle", 20)
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    assert apply_until(run, 2, tmp_path, mid_next=True).ok
    code, report = verify_json([str(result.path), *_urls(dep)], capsys)
    nova = next(d for d in report["live"] if d["role"] == "nova")
    assert code == 0 and nova["chunks"] == {"applied": [1, 2], "pending": [3, 4, 5], "drift": []}
    assert report["verdict"].startswith("PARTIALLY APPLIED")
    rollback_restores_applied(run, 2, 5, drifted=None)
    assert_identical(before, all_states(dep))
    assert apply_until(run, 2, tmp_path, mid_next=True).ok
    assert_all_ok(run.run("apply"))  # resumes at chunk 3
    check_semantics(dep, "soft-delete", target.uuid)
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))


@pytest.mark.parametrize(
    ("condition", "key", "expected"),
    [
        ("`id` IN (\n  1,\n  2\n)", ("id",), {("1",), ("2",)}),
        (
            "(`a` = 1 AND `b` = 'x') OR (`a` = 2 AND `b` = _utf8mb4 x'C3A9')",
            ("a", "b"),
            {("1", "x"), ("2", "é")},
        ),
        ("`resource_id` = 'u' AND `tag` = _utf8mb4 x'69742773'", ("resource_id", "tag"), {("u", "it's")}),
        ("`id` > 3", ("id",), None),  # another shape: verify compares every recorded row instead
        ("`a` = 1", ("a", "b"), None),
    ],
)
def test_verify_reads_the_keys_of_a_guard(condition: str, key: tuple[str, ...], expected) -> None:
    assert condition_keys(condition, key) == expected


def test_writer_deletes_a_row_of_a_chunk_not_yet_applied(make_deployment, tmp_path) -> None:
    """Nova's own delete racing the repair removes a tag of the last chunk: a missing row is no
    evidence that the chunk was applied; the rollback says it was not and restores the rest."""
    dep = make_deployment(RELEASE)
    target = seed_many_sysmeta(dep, 60)
    result = generate(dep, target.uuid, tmp_path / "bundle", 20)
    run = BundleRun(dep, result.path)
    before = all_states(dep)
    (tag,) = (g for g in nova_guards(result.path) if g["table"] == "tags")
    assert tag["chunk"] == 5
    assert apply_until(run, 4, tmp_path).ok
    row = dep.query("nova", "SELECT * FROM tags WHERE resource_id = %s LIMIT 1", (target.uuid,))[0]
    key = (row["resource_id"], row["tag"])
    dep.execute("nova", "DELETE FROM tags WHERE resource_id = %s AND tag = %s", key)
    stopped_at(run.run("apply"), 5, 5)
    rollback_restores_applied(run, 4, 5)
    assert_only_row_differs(before, all_states(dep), "tags", key)
    dep.execute("nova", "INSERT INTO tags (resource_id, tag) VALUES (%s, %s)", key)
    assert_all_ok(run.run("apply"))  # put back: the apply runs to the end
    check_semantics(dep, "soft-delete", target.uuid)
    assert_all_ok(run.run("rollback"))
    assert_identical(before, all_states(dep))
