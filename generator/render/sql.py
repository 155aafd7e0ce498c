"""Render a Plan's SQL: one file per database and phase, plus the guard index.

File names sort in run order: `1x-precheck-<db>`, `2x-apply-<db>`,
`3x-verify-<db>`, `9x-rollback-<db>` (rollback databases in reverse order).
"""

from __future__ import annotations

from generator.plan.model import Plan
from generator.render.files import RenderedFile
from generator.render.identity import identity_statements
from generator.render.sqlfile import (
    Chunk,
    build_chunks,
    changes_file,
    plan_header,
    precheck_file,
    reverse_chunks,
    verify_file,
)
from generator.render.writeset import op_bytes, sizing_for
from generator.render.wsrep_check import check_limits, read_limits

DEFAULT_CHUNK_ROWS = 1000


def galera_check(chunks: list[Chunk], what: str) -> list[str]:
    """Read the server's wsrep limits and stop before the first write if the largest chunk (rows, or
    estimated write-set bytes: render/writeset.py) would exceed them (render/wsrep_check.py)."""
    if not chunks:
        return []
    rows = max(c.rows for c in chunks)
    size = max(sum(op_bytes(s.op) for s in c.steps) for c in chunks)
    return [*read_limits(), *check_limits(max(rows, 1), what, size)]


def render_sql(plan: Plan, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> tuple[list[RenderedFile], dict]:
    """(files in run order, guard index for `fixpack verify`)."""
    if plan.mode == "offline":
        from generator.render.offline import render_offline

        return render_offline(plan, chunk_rows)
    files: dict[str, list[RenderedFile]] = {"precheck": [], "apply": [], "verify": [], "rollback": []}
    guards: dict = {"mode": "live", "databases": {}}
    roles = [db.role for db in plan.databases if plan.operations_for(db.role)]
    for index, role in enumerate(roles):
        db = plan.database(role)
        ops = plan.operations_for(role)
        sizing = sizing_for(db, chunk_rows)  # Galera: below the server's write-set limits
        chunks = build_chunks(ops, db, sizing.rows, sizing.max_bytes)
        back = reverse_chunks(chunks, db)
        rows = sum(c.rows for c in chunks)
        names = {
            "precheck": f"sql/{10 + index}-precheck-{role}.sql",
            "apply": f"sql/{20 + index}-apply-{role}.sql",
            "verify": f"sql/{30 + index}-verify-{role}.sql",
            "rollback": f"sql/{90 + len(roles) - 1 - index}-rollback-{role}.sql",
        }
        posts = tuple(p for p in plan.postconditions if p.database == role)
        ident = identity_statements(plan, db)
        # before the first write, the server's Galera limits must still fit the largest chunk
        galera = galera_check(chunks, "apply")
        files["precheck"].append(
            RenderedFile(
                names["precheck"],
                "sql",
                "precheck",
                db.manifest_target,
                f"read-only: check every {db.label} row is still as at generation",
                precheck_file(plan_header(plan, db, "precheck", names["precheck"]), chunks, db, ident),
            )
        )
        files["apply"].append(
            RenderedFile(
                names["apply"],
                "sql",
                "apply",
                db.manifest_target,
                f"change {rows} row(s) of the {db.label} in {len(chunks)} guarded transaction(s)",
                changes_file(
                    plan_header(plan, db, "apply", names["apply"]), chunks, db, "apply", [*ident, *galera]
                ),
                rows=rows,
            )
        )
        files["verify"].append(
            RenderedFile(
                names["verify"],
                "sql",
                "verify",
                db.manifest_target,
                f"read-only: confirm the {db.label} rows are exactly the planned result",
                verify_file(plan_header(plan, db, "verify", names["verify"]), chunks, db, posts, ident),
            )
        )
        files["rollback"].insert(
            0,
            RenderedFile(
                names["rollback"],
                "sql",
                "rollback",
                db.manifest_target,
                f"restore the exact pre-images of the {db.label} rows (parents first)",
                changes_file(
                    plan_header(plan, db, "rollback", names["rollback"]),
                    back,
                    db,
                    "rollback",
                    [*ident, *galera_check(back, "rollback")],
                ),
                rows=rows,
            ),
        )
        guards["databases"][role] = {
            "apply": [
                {
                    "chunk": c.number,
                    "step": s.number,
                    "purpose": s.op.describe(),
                    **s.guard.as_json(db.schema.table(s.op.table)),
                }
                for c in chunks
                for s in c.steps
            ],
        }
    ordered = files["precheck"] + files["apply"] + files["verify"] + files["rollback"]
    return ordered, guards
