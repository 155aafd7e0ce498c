"""A database server killed mid-apply (SIGKILL, a power cut): whole chunks only, resume and rollback clean.

The client-side case (the session ends inside a chunk) is in test_partial_apply.py. Here the
server itself dies while a chunk's changes are made and its COMMIT has not been sent: InnoDB's
crash recovery must roll that chunk back, `verify` must see exactly the committed chunks, the
apply must resume after them and the rollback must return every table to its state before.
The test runs its own private server, because it kills it.
"""

from __future__ import annotations

import threading
import time

import pymysql
import pytest

from generator.rehearse.client import ClientRun, run_sql_file
from generator.scratch.deployment import create_deployment
from generator.scratch.server import ScratchServer
from tests.bundles import BundleRun, all_states, assert_all_ok, assert_identical
from tests.db.plan.test_vm_bundles import check_semantics
from tests.db.render.test_partial_apply import rollback_restores_applied
from tests.db.review.test_verify import _urls, verify_json
from tests.partial_world import generate, seed_many_sysmeta

pytestmark = pytest.mark.db
RELEASE = "2025.2"


def _sleeping_sessions(server: ScratchServer) -> int:
    conn = pymysql.connect(unix_socket=server.socket, user="root")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(%'"
            )
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def test_server_killed_inside_chunk_3(tmp_path, capsys) -> None:
    server = ScratchServer().start()
    try:
        dep = create_deployment(server.url, RELEASE)
        target = seed_many_sysmeta(dep, 60)
        result = generate(dep, target.uuid, tmp_path / "bundle", 20)
        run = BundleRun(dep, result.path)
        before = all_states(dep)

        # The nova apply up to chunk 3's COMMIT (chunks 1-2 committed, chunk 3's changes made), then
        # the session waits with chunk 3's transaction open while the server is killed.
        step = next(s for s in run.manifest["steps"] if s["phase"] == "apply" and s["target"] == "db:nova")
        text = (run.path / step["file"]).read_text()
        cut = text.index("\nCOMMIT;", text.index("-- ==== chunk 3/"))
        part = tmp_path / "apply-into-chunk-3.sql"
        part.write_text(text[:cut] + "\nSELECT SLEEP(120);\n")
        outcome: list[ClientRun] = []
        client = threading.Thread(target=lambda: outcome.append(run_sql_file(run.url_for("db:nova"), part)))
        client.start()
        deadline = time.monotonic() + 120
        while _sleeping_sessions(server) == 0:
            assert client.is_alive() and time.monotonic() < deadline, outcome and outcome[0].stderr
            time.sleep(0.2)
        server.crash()
        client.join(60)
        assert outcome and not outcome[0].ok  # the client saw the server go away
        assert "apply chunk 2/5\tapplied" in outcome[0].stdout
        server.start()  # crash recovery rolls the open transaction (chunk 3) back
        dep.close()  # the test's own connections died with the server

        code, report = verify_json([str(result.path), *_urls(dep)], capsys)
        nova = next(d for d in report["live"] if d["role"] == "nova")
        assert code == 0 and nova["chunks"] == {"applied": [1, 2], "pending": [3, 4, 5], "drift": []}, nova
        assert report["verdict"].startswith("PARTIALLY APPLIED")

        rollback_restores_applied(run, 2, 5, drifted=None)
        assert_identical(before, all_states(dep))

        assert_all_ok(run.run("apply"))
        check_semantics(dep, "soft-delete", target.uuid)
        again = run.run("apply")
        assert_all_ok(again)
        assert "apply chunk 1/5\talready done" in "".join(r.stdout for r in again)
        assert_all_ok(run.run("rollback"))
        assert_identical(before, all_states(dep))
    finally:
        server.stop()
