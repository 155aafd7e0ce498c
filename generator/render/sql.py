"""Render a Plan's SQL: one routine writes the files of every database, live or offline.

File names sort in run order: `1x-precheck-<db>`, `1x-capture-<db>` (offline),
`2x-apply-<db>`, `3x-verify-<db>`, `9x-rollback-<db>` (rollback databases in reverse
order). Per database a strategy writes the bodies (live below: chunks cut at generation;
offline: render/offline.py, rounds and a capture); `render_sql` names and numbers the
files, writes their banner and session settings, and lays them out with templates/sql/.
"""

from __future__ import annotations

from generator.plan.model import DatabaseTarget, Plan
from generator.render import statements as st
from generator.render.files import RenderedFile
from generator.render.identity import identity_statements
from generator.render.runbook_window import sql_client
from generator.render.sqlfile import (
    Chunk,
    SqlFile,
    Strategy,
    build_chunks,
    changes_file,
    comment,
    precheck_file,
    reverse_chunks,
    verify_file,
)
from generator.render.templates import render
from generator.render.writeset import op_bytes, sizing_for
from generator.render.wsrep_check import check_limits, read_limits

DEFAULT_CHUNK_ROWS = 1000
FIRST = {"precheck": 10, "capture": 15, "apply": 20, "verify": 30}  # + the database's index


def galera_check(chunks: list[Chunk], what: str) -> list[str]:
    """Read the server's wsrep limits and stop before the first write if the largest chunk (rows, or
    estimated write-set bytes: render/writeset.py) would exceed them (render/wsrep_check.py)."""
    if not chunks:
        return []
    rows = max(c.rows for c in chunks)
    size = max(sum(op_bytes(s.op) for s in c.steps) for c in chunks)
    return [*read_limits(), *check_limits(max(rows, 1), what, size)]


def _live_files(
    plan: Plan, db: DatabaseTarget, names: dict[str, str], chunk_rows: int
) -> tuple[list[SqlFile], dict]:
    """Chunks cut at generation (below the server's Galera write-set limits), guarded per row."""
    sizing = sizing_for(db, chunk_rows)
    chunks = build_chunks(plan.operations_for(db.role), db, sizing.rows, sizing.max_bytes)
    back = reverse_chunks(chunks, db)
    rows = sum(c.rows for c in chunks)
    ident = identity_statements(plan, db)
    # before the first write, the server's Galera limits must still fit the largest chunk
    apply = changes_file(chunks, db, "apply", [*ident, *galera_check(chunks, "apply")])
    rollback = changes_file(back, db, "rollback", [*ident, *galera_check(back, "rollback")])
    files = [
        SqlFile(
            "precheck",
            f"read-only: check every {db.label} row is still as at generation",
            "read_only.sql.j2",
            precheck_file(chunks, db, ident),
        ),
        SqlFile(
            "apply",
            f"change {rows} row(s) of the {db.label} in {len(chunks)} guarded transaction(s)",
            "changes.sql.j2",
            apply,
            rows=rows,
        ),
        SqlFile(
            "verify",
            f"read-only: confirm the {db.label} rows are exactly the planned result",
            "read_only.sql.j2",
            verify_file(chunks, db, plan.postconditions, ident),
        ),
        SqlFile(
            "rollback",
            f"restore the exact pre-images of the {db.label} rows (parents first)",
            "changes.sql.j2",
            rollback,
            rows=rows,
        ),
    ]
    guards = [
        {
            "chunk": c.number,
            "step": s.number,
            "purpose": s.op.describe(),
            **s.guard.as_json(db.schema.table(s.op.table)),
        }
        for c in chunks
        for s in c.steps
    ]
    return files, {"apply": guards}


LIVE = Strategy(("precheck", "apply", "verify", "rollback"), "sql", _live_files)


def plan_header(plan: Plan, plan_db: DatabaseTarget, phase: str, filename: str) -> list[str]:
    from generator import __version__

    run = f"{sql_client(plan_db.role)} < {filename}"
    lines = [
        f"fixpack {__version__} | {plan.target_kind} {' '.join(plan.targets)} | op {plan.op} | phase {phase}",
        f"database: {plan_db.label} (db:{plan_db.role}), release {plan_db.release}, {plan.mode} generation",
        f"run exactly: {run}",
    ]
    if phase in ("apply", "rollback"):
        lines += [
            "(from the bundle directory) NEVER with --force or `source` at a prompt: a failed guard"
            " must stop the",
            "client (the server rolls the open transaction back). A chunk commits only when all its"
            " guards held.",
        ]
    else:
        lines.append(
            "(from the bundle directory) read-only: changes nothing; exits non-zero when a check fails."
        )
    return lines


def render_sql(plan: Plan, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> tuple[list[RenderedFile], dict]:
    """(files in run order, guard index for `fixpack verify`: live plans only)."""
    strategy = LIVE
    if plan.mode == "offline":
        from generator.render.offline import OFFLINE

        strategy = OFFLINE
    files: dict[str, list[RenderedFile]] = {phase: [] for phase in strategy.phases}
    guards: dict = {"mode": plan.mode, "databases": {}}
    roles = [db.role for db in plan.databases if plan.operations_for(db.role)]
    for index, role in enumerate(roles):
        db = plan.database(role)
        names = {p: f"sql/{n + index}-{p}-{role}.sql" for p, n in FIRST.items() if p in strategy.phases}
        names["rollback"] = f"{strategy.rollback_dir}/{90 + len(roles) - 1 - index}-rollback-{role}.sql"
        made, index_of_db = strategy.files(plan, db, names, chunk_rows)
        for f in made:
            path = names[f.phase]
            text = "" if f.template is None else _laid_out(plan, db, f, path)
            phase, target = f.manifest_phase or f.phase, db.manifest_target
            rendered = RenderedFile(
                path, "sql", phase, target, f.purpose, text, f.rows, f.produces, f.produced_by
            )
            files[f.phase].insert(0 if f.phase == "rollback" else len(files[f.phase]), rendered)
        if index_of_db is not None:
            guards["databases"][role] = index_of_db
    return [f for phase in strategy.phases for f in files[phase]], guards


def _laid_out(plan: Plan, db: DatabaseTarget, f: SqlFile, path: str) -> str:
    """templates/sql/<f.template>: the banner, the session settings and the body's pieces."""
    banner = [out for line in plan_header(plan, db, f.phase, path) for out in comment(line)]
    return render(
        f"sql/{f.template}",
        banner=[*banner, *f.banner],
        begin=st.start_transaction(),
        begin_read_only=st.start_transaction(read_only=True),
        commit=st.commit(),
        **f.context,
    )
