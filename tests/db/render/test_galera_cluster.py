"""A bundle on a real three-node Galera cluster (galera-4, rsync SST, loopback ports only).

Behind a load balancer the apply, the checks and the rollback may each land on a
different node. Proved here: the cluster forms (wsrep_cluster_size 3 everywhere);
with wsrep_max_ws_rows=500 on every node, live generation against node 1 sizes the
chunks below the limit; the apply on node 1 replicates, node 3 passes the
postconditions and holds exactly the planned changes, a re-run changes nothing, and
the rollback run on node 2 restores every table on every node.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from generator.rehearse.tables import State
from generator.scratch.deployment import Deployment
from generator.scratch.galera import GaleraNode
from tests.bundles import (
    BundleRun,
    all_states,
    allowed_changes,
    assert_all_ok,
    assert_identical,
    assert_only_planned_rows_changed,
)
from tests.db.render.test_galera import LIMIT, _generate, _world, old_chunk_rows
from tests.galera_node import running_galera_cluster, set_limits

pytestmark = pytest.mark.db

SYNC_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def cluster():
    with running_galera_cluster(3) as nodes:
        yield nodes


def wait_replicated(nodes: list[GaleraNode]) -> None:
    """Every node has applied the same last write set (replication is synchronous at commit,
    the appliers on the other nodes are not)."""
    deadline = time.monotonic() + SYNC_TIMEOUT
    while time.monotonic() < deadline:
        seen = {(n.status("wsrep_last_committed"), n.status("wsrep_local_recv_queue")) for n in nodes}
        if len(seen) == 1 and next(iter(seen))[1] == "0":
            return
        time.sleep(0.1)
    pytest.fail(f"the nodes did not converge within {SYNC_TIMEOUT:.0f}s: {seen}")


def on_node(dep: Deployment, node: GaleraNode) -> Deployment:
    """The same databases, reached through another node."""
    return replace(dep, server=node.url, _conns={})


def states_everywhere(nodes: list[GaleraNode], deps: list[Deployment]) -> dict[str, State]:
    """Every table of every node; asserts the nodes hold the same rows and returns them."""
    wait_replicated(nodes)
    states = [all_states(dep) for dep in deps]
    for number, other in enumerate(states[1:], start=2):
        try:
            assert_identical(states[0], other)
        except AssertionError as exc:
            raise AssertionError(f"node {number} differs from node 1: {exc}") from None
    return states[0]


def test_the_three_nodes_form_one_cluster(cluster) -> None:
    for node in cluster:
        assert node.status("wsrep_cluster_size") == "3"
        assert node.status("wsrep_cluster_status") == "Primary"
        assert node.status("wsrep_local_state_comment") == "Synced"
    assert len({node.status("wsrep_cluster_state_uuid") for node in cluster}) == 1


def test_apply_on_one_node_checks_on_another_rollback_on_a_third(cluster, tmp_path) -> None:
    node1, node2, node3 = cluster
    for node in cluster:
        set_limits(node, rows=0)
    dep1, target = _world(node1)
    dep2, dep3 = on_node(dep1, node2), on_node(dep1, node3)
    deps = [dep1, dep2, dep3]
    try:
        for node in cluster:
            set_limits(node, rows=LIMIT)
        result = _generate(dep1, target.uuid, tmp_path)
        assert result.lint.passed
        assert any("--chunk-rows 1000 lowered to 500" in w for w in result.plan.warnings)
        apply_sql = next((result.path / "sql").glob("2*-apply-nova.sql")).read_text()
        chunks = apply_sql.count("-- ==== chunk ")
        assert chunks >= 3 and all(old_chunk_rows(result.path, n) <= LIMIT for n in range(1, chunks + 1))
        before = states_everywhere(cluster, deps)

        on1, on2, on3 = (BundleRun(dep, result.path) for dep in deps)
        assert_all_ok(on1.run("precheck"))
        applied = on1.run("apply")
        assert_all_ok(applied)
        assert sum(line.endswith("applied") for r in applied for line in r.stdout.splitlines()) >= 3
        after = states_everywhere(cluster, deps)  # the apply replicated to nodes 2 and 3
        assert_all_ok(on3.run("verify"))  # the postconditions hold on another node
        changed = assert_only_planned_rows_changed(
            before, all_states(dep3), allowed_changes(result.plan, dep3, on3)
        )
        assert changed > 1200

        assert_all_ok(on1.run("apply"))  # re-run: every chunk already done, on every node
        assert_identical(after, states_everywhere(cluster, deps))

        assert_all_ok(on2.run("rollback"))  # behind a load balancer: yet another node
        assert_identical(before, states_everywhere(cluster, deps))
    finally:
        for node in cluster:
            set_limits(node, rows=0)
        for dep in deps:
            dep.close()
        dep1.drop()
