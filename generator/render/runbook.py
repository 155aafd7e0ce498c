"""The bundle's README.md: the runbook an operator follows at 2 a.m.

Everything is decided here, in Python, as plain strings; the Jinja template
only lays them out. Every text that can carry a database value reaches the
template already escaped for where it lands (generator.quoting): commands are
built from `shell_arg` words, code spans are `md_code`, and findings, warnings,
purposes and labels are `md_text` as whole lines (they are pre-formatted
strings with values inside; md_text escapes everything, so that is safe).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.plan.model import Plan
from generator.quoting import md_code, md_text, shell_arg
from generator.render.sql import RenderedFile
from generator.render.templates import render

CNF_HINT = (
    "Put the connection in an option file readable only by you, e.g. `~/fixpack.cnf` with a `[client]` "
    "section holding `host`, `port`, `user` and `password` (fixpack never writes passwords anywhere)."
)


@dataclass(frozen=True)
class RunbookStep:
    number: int
    file: str
    phase: str
    where: str
    commands: tuple[str, ...]
    purpose: str
    expect: str
    if_it_fails: str


code = md_code  # the template's name for an inline code span


def _db_name(plan: Plan, target: str | None) -> str:
    role = (target or "").removeprefix("db:")
    for db in plan.databases:
        if db.role == role:
            return db.database or f"<{role} database>"
    return f"<{role} database>"


def _db_label(plan: Plan, target: str | None) -> str:
    role = (target or "").removeprefix("db:")
    for db in plan.databases:
        if db.role == role:
            return db.label
    return role


_LIVE_EXPECT = {
    "precheck": (
        "`state pending` for every step and last `precheck passed: the apply step will run`.",
        "a `drift` state: rows changed since the bundle was generated (or it was already applied: then "
        "every state reads `done`). Regenerate the bundle.",
    ),
    "apply": (
        "one `guard … 1` line per check, `apply chunk N/M applied` per chunk, and last `apply finished: "
        "every guard held`. Run again: every chunk says `already done; nothing changed`.",
        "`ERROR 1242 … Subquery returns more than 1 row` at line N: the guard on line N failed (look at the "
        "`step`/`state` line printed just before it). The client stopped and the server rolled that chunk "
        "back; earlier chunks stay committed and re-running the file resumes after them. `drift` means the "
        "rows changed since generation: generate a new bundle.",
    ),
    "verify": (
        "every `guard … 1` and last `verify passed`.",
        "the named check does not hold: do not consider the repair done; read the failing line.",
    ),
    "rollback": (
        "`rollback chunk N/M applied` per chunk, last `rollback finished: every guard held`; again: "
        "`already done; nothing changed`.",
        "a guard failed: the rows are neither as the apply left them nor as they were before (someone "
        "changed them after the apply). Nothing of that chunk was restored; inspect the rows named on the "
        "failing line before going further.",
    ),
}
_OFFLINE_EXPECT = {
    "precheck": (
        "every precondition `guard … 1`, then `rows_to_change` per step (check the numbers are what you "
        "expect), last `precheck passed: preconditions hold`.",
        "a precondition does not hold (wrong database for this instance, instance healthy, target host "
        "disabled): the file names it; change nothing and investigate.",
    ),
    "capture": (
        "no error, and the output file holds SQL (`-- fixpack rollback captured …`, one guarded "
        "statement per row, `COMMIT;`). Keep it with the bundle: it is the only rollback.",
        "nothing was captured: do not run the apply without a rollback.",
    ),
    "apply": (
        "`rows_found` per step, one `guard … 1` line per check, last `apply finished: every guard held`. "
        "Run again: every step finds 0 rows.",
        "`ERROR 1242` at line N: that guard failed and the whole file's transaction was rolled back.",
    ),
    "verify": _LIVE_EXPECT["verify"],
    "rollback": (
        "one `guard … 1` per restored row and last `rollback finished: every guard held`.",
        "a row was not as the apply left it: nothing was restored (one transaction); investigate.",
    ),
}
_SHELL_FAIL = {
    "host": "the script stops at the failing check (wrong host, a different libvirt domain under that name, "
    "a missing tool) and says why; nothing after it ran. Re-running after fixing resumes.",
    "controller": "the script stops at the failing check (no openstack CLI, no credentials, a port bound to "
    "another device) and says why; re-running is safe.",
}


def runbook_steps(plan: Plan, files: list[RenderedFile]) -> list[RunbookStep]:
    steps = []
    offline = plan.mode == "offline"
    for number, f in enumerate(files, 1):
        if f.kind == "sql":
            db = shell_arg(_db_name(plan, f.target))
            client = "mysql --defaults-extra-file=~/fixpack.cnf --batch"
            phase = "capture" if f.produces else (f.phase or "")
            if f.produces:
                cmd = (
                    f"mkdir -p captured && {client} --raw --skip-column-names {db} < {f.path} > {f.produces}"
                )
            else:
                cmd = f"{client} {db} < {f.path}"
            label = md_text(_db_label(plan, f.target))
            where = f"any host that reaches the {label} with the mysql/mariadb client"
            expect, fail = (_OFFLINE_EXPECT if offline else _LIVE_EXPECT)[phase]
            steps.append(RunbookStep(number, f.path, phase, where, (cmd,), md_text(f.purpose), expect, fail))
        else:
            on_host = bool(f.target and f.target.startswith("host:"))
            host = (f.target or "").removeprefix("host:")
            where = (
                f"on compute host {md_code(host)} as root"
                if on_host
                else "on a controller with the `openstack` CLI and admin credentials loaded"
            )
            cmds = (
                f"bash {shell_arg(f.path)}            # dry run: prints what it would do",
                f"bash {shell_arg(f.path)} --execute  # act",
            )
            steps.append(
                RunbookStep(
                    number,
                    f.path,
                    f.phase or "",
                    where,
                    cmds,
                    md_text(f.purpose),
                    "each action logged; a second run reports everything already clean.",
                    _SHELL_FAIL["host" if on_host else "controller"],
                )
            )
    return steps


def render_runbook(
    plan: Plan,
    bundle_id: str,
    created_at: str,
    run_files: list[RenderedFile],
    rollback_files: list[RenderedFile],
) -> str:
    from generator import __version__

    return render(
        "runbook/README.md.j2",
        plan=plan,
        bundle_id=bundle_id,
        created_at=created_at,
        version=__version__,
        target=md_text(", ".join(plan.targets)),
        findings=[md_text(f) for f in plan.findings],
        warnings=[md_text(w) for w in plan.warnings],
        api_first=[(md_code(c.command), md_text(c.why)) for c in plan.api_first],
        steps=runbook_steps(plan, run_files),
        rollback=runbook_steps(plan, rollback_files),
        databases=[
            (
                db.role,  # a fixed role name, shown in a code span
                md_text(db.label),
                md_code(db.database or "-", in_table=True),
                md_text(db.release),
                md_text(db.detection or "-"),
            )
            for db in plan.databases
        ],
        cnf_hint=CNF_HINT,
        offline=plan.mode == "offline",
        has_compute=bool(plan.compute),
        in_cell0=not plan.compute and plan.target_kind == "vm",
        code=code,
    )
