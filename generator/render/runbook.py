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
from generator.render import change_table
from generator.render.files import RenderedFile
from generator.render.messages import NOTHING_TO_ROLL_BACK
from generator.render.runbook_errors import known_errors
from generator.render.runbook_window import (
    connection_files,
    example_cnf,
    pause_items,
    sql_client,
    verify_command,
)
from generator.render.templates import render
from generator.secrets import mask_text

# `--loose-sandbox`: clients that have --sandbox (MariaDB's since 10.5.25, 10.6.18, 10.11.8, 11.4.2)
# refuse client commands that touch files; the `loose-` prefix makes every other mysql/mariadb client
# print one warning and go on, so the same command works on any operator's client.
SANDBOX_NOTE = (
    "Every SQL command below passes `--loose-sandbox`: a client that has `--sandbox` (MariaDB's client since "
    "10.5.25, 10.6.18, 10.11.8 and 11.4.2) then refuses client commands that reach files or a shell "
    "(`\\!`, `source`, `tee`, `pager`); any other client only warns `unknown option '--loose-sandbox'` and "
    "runs the file unchanged. `fixpack verify` refuses a bundle whose SQL holds any client command."
)
SECRETS_NOTE = (
    "**This bundle holds secrets.** Its rollback pre-images (`sql/9*-rollback-*.sql`, `captured/`, "
    "`data/preimages.json`) are exact copies of database rows, which can include iSCSI CHAP passwords "
    "(`auth_password`, Cinder `provider_auth`) and database URLs with passwords. Handle it like a database "
    "backup: keep it in a directory only you can read (fixpack writes it 0700/0600), share it only encrypted "
    "(e.g. `gpg --symmetric`, or the change request's restricted attachment), and never commit it to a "
    "repository as it is. The runbook and fixpack's output show these fields masked (`***`)."
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
        "back; earlier chunks stay committed and re-running the file resumes after them. `drift` means "
        "another session changed rows of that chunk since generation: the apply is now partly done. "
        "the `fixpack verify . --cnf …` command of section 3 (read-only) lists the applied and the pending "
        "chunks and the rows that really drifted (table, key, column, expected -> found). Settle it one of "
        "two ways: (a) put those rows back as the bundle expects and run this file again: it resumes at the "
        "stopped chunk and finishes; or (b) `fixpack continue . --cnf … -o DIR` (the same `--cnf` options) "
        "writes a continuation bundle that plans what remains against the rows as they are now (its own "
        "prechecks, guards and rollback); follow its runbook. Either way the rollback below still undoes "
        "exactly the chunks this file applied (roll back a continuation first).",
    ),
    "verify": (
        "every `guard … 1` and last `verify passed`.",
        "the named check does not hold: do not consider the repair done; read the failing line.",
    ),
    "rollback": (
        "`rollback chunk N/M applied` per chunk, last `rollback finished: every guard held`. Run before "
        f"the apply or a second time: last `{NOTHING_TO_ROLL_BACK}`. After an apply that stopped part "
        "way: the chunks it applied say "
        "`applied`, the chunk whose rows another session changed says `not applied, nothing to undo` and "
        "the rollback goes on; last `rollback finished: N chunk(s) restored … M chunk(s) were never "
        "applied`. Rows changed by the other session keep that session's values.",
        "a guard failed: the rows are neither as the apply left them nor as they were before (someone "
        "changed them after the apply). Nothing of that chunk was restored; the `fixpack verify . --cnf …` "
        "command of section 3 shows the rows that drifted; inspect them before going further.",
    ),
}
_OFFLINE_EXPECT = {
    "precheck": (
        "every precondition `guard … 1`, then `rows_to_change` per step (check the numbers are what you "
        "expect), last `precheck passed: preconditions hold`.",
        "a precondition does not hold (wrong database for this instance, instance healthy, target host "
        "disabled): the file names it; change nothing (section 6 lists every error and what to do).",
    ),
    "capture": (
        "no output and exit 0; the rollback file and its `.sha256` appear in `captured/` (SQL: `-- fixpack "
        "rollback captured …`, one guarded statement per row, `COMMIT;`). Keep both with the bundle: they "
        "are the only rollback. The command never overwrites an existing capture.",
        "`refused: … exists`: this database was already captured; keep that file (it is the rollback). "
        "`capture refused: the apply has already run`: a capture now would record nothing; the one taken "
        "before the apply is the rollback. Any other error: nothing was written; do not run the apply "
        "without a rollback.",
    ),
    "apply": (
        "`rows_found` per step, one `guard … 1` line per check, `apply round N/M` with the rows each round "
        "(one transaction, at most the chunk size) changed, last `apply finished: every guard held`. Run "
        "again: every step finds 0 rows.",
        "`ERROR 1242` at line N: that guard failed and the round's transaction was rolled back; earlier "
        "rounds stay committed and running the file again finishes them. Before the first write it stops, "
        "changing nothing, when a step has too many rows or a chunk exceeds this Galera node's "
        "`wsrep_max_ws_rows`/`wsrep_max_ws_size` (the `ERROR:` line says which `--chunk-rows` to "
        "regenerate with). The captured rollback restores a fully applied database: finish a partial "
        "apply first.",
    ),
    "verify": _LIVE_EXPECT["verify"],
    "rollback": (
        "`captured/…: OK` (its checksum), one `guard … 1` per restored row and last `rollback finished: N "
        "captured row(s) restored, every guard held`. Run before the apply: last "
        f"`{NOTHING_TO_ROLL_BACK}`; where the capture found no rows: `nothing to restore` (nothing "
        "changes). Run a second time, it may stop with `ERROR 1062` or `ERROR 1242` having changed nothing "
        "(section 6).",
        "`FAILED` from sha256sum: the captured file changed since its capture; do not run it (`fixpack "
        "verify` names it). A guard failed: rows changed since the capture or the apply; nothing of that "
        "chunk was restored; section 6 says what each error means and what to do. `some captured rows are "
        "as captured and others are not`: an "
        "apply or rollback stopped part-way; run the apply again to finish it, then the rollback.",
    ),
}
_RUN_AGAIN_OFFLINE = "Run again: every step finds 0 rows."
# an offline purge's cell file finds its instance at run time; once purged, its first check stops it
_PURGED_RERUN = (
    "Run again: it stops at its first check (`identity: instance … is in this database`, then `ERROR "
    "1242`) and changes nothing: the purge removed the instance row, so nothing is left to do here."
)
OFFLINE_HOST_NOTE = (
    "This offline bundle does not know the instance's host, libvirt domain, ports or volume connections: the "
    "Nova cell precheck prints them (read-only: its `host side`, `port` and `volume` lines; CHAP credentials "
    "are never printed), `shell/compute.sh` discovers the domain, its devices and "
    "OVS ports on that host at run time, and `shell/controller.sh` looks up the ports at run time. Neither "
    "was checked when the bundle was generated."
)
_SHELL_FAIL = {
    "host": "the script stops at the failing check (wrong host, a different libvirt domain under that name, "
    "a missing tool) and says why; nothing after it ran. Re-running after fixing resumes.",
    "controller": "the script stops at the failing check (no openstack CLI, no credentials, a port bound to "
    "another device) and says why; re-running is safe.",
}


OFFLINE_COMPUTE_TARGET = "host:from-precheck"  # generator.pipeline names the offline compute script so


def _offline_compute_where(plan: Plan, path: str) -> tuple[str, tuple[str, ...]]:
    """Where and how to run an offline bundle's compute script: the host is only known from the precheck."""
    uuid = next((u for u in plan.targets if f"-{u[:8]}.sh" in path), plan.targets[0])
    args = f"{uuid} --host HOST [--iscsi IQN PORTAL LUN]... [--port PORT_ID]..."
    return (
        "on the instance's compute host as printed by the precheck (the `host` line of the Nova cell "
        "precheck), as root, with the values that precheck printed: `host`, each `iscsi_target` and each "
        "`port_id`",
        (
            f"bash {path} {args}            # dry run: prints what it found and would do",
            f"bash {path} {args} --execute  # act",
        ),
    )


def capture_command(client: str, capture: str, produces: str) -> str:
    """One line, for bash and sh: refuse if a capture exists, write a new temporary file, and move it
    into place (with its sha256) only when the client succeeded — a capture never overwrites one."""
    tmp = f"{produces}.tmp"
    return (
        f"mkdir -p captured && {{ test ! -e {produces} || {{ echo 'refused: {produces} exists "
        f"(a capture is never overwritten)' >&2; false; }}; }} && {{ {client} --raw --skip-column-names "
        f"< {capture} > {tmp} || {{ tail -n 3 {tmp} >&2; rm -f {tmp}; echo 'capture FAILED: nothing "
        f"written to {produces}' >&2; false; }}; }} && mv {tmp} {produces} "
        f"&& sha256sum {produces} > {produces}.sha256"
    )


def runbook_steps(plan: Plan, files: list[RenderedFile]) -> list[RunbookStep]:
    steps = []
    offline = plan.mode == "offline"
    for number, f in enumerate(files, 1):
        if f.kind == "sql":
            client = sql_client((f.target or "").removeprefix("db:"))
            phase = "capture" if f.produces else (f.phase or "")
            if f.produces:
                cmd = capture_command(client, f.path, f.produces)
            elif f.produced_by:
                cmd = f"sha256sum -c {f.path}.sha256 && {client} < {f.path}"
            else:
                cmd = f"{client} < {f.path}"
            label = md_text(_db_label(plan, f.target))
            where = f"any host that reaches the {label} with the mysql/mariadb client"
            expect, fail = (_OFFLINE_EXPECT if offline else _LIVE_EXPECT)[phase]
            if (
                offline
                and phase == "apply"
                and (plan.target_kind, plan.op, f.target) == ("vm", "purge", "db:nova")
            ):
                expect = expect.replace(_RUN_AGAIN_OFFLINE, _PURGED_RERUN)
            steps.append(RunbookStep(number, f.path, phase, where, (cmd,), md_text(f.purpose), expect, fail))
        else:
            on_host = bool(f.target and f.target.startswith("host:"))
            host = (f.target or "").removeprefix("host:")
            where = (
                f"on compute host {md_code(host)} as root"
                if on_host
                else "on a controller with the `openstack` CLI and admin credentials loaded"
            )
            cmds: tuple[str, ...] = (
                f"bash {shell_arg(f.path)}            # dry run: prints what it would do",
                f"bash {shell_arg(f.path)} --execute  # act",
            )
            if f.target == OFFLINE_COMPUTE_TARGET:
                where, cmds = _offline_compute_where(plan, f.path)
            elif on_host and f.path.startswith("shell/source-"):
                where = f"on {md_code(host)}, the host the failed move left, as root"
            elif not on_host and (plan.target_kind, plan.op, plan.mode) == ("vm", "rehost", "live"):
                cmds += (
                    f"bash {shell_arg(f.path)} --connector connector.json --execute  # the volume refresh, "
                    "once the instance is stopped",
                )
                where += (
                    ", after the apply. For the volume refresh (Nova's documented procedure): "
                    "`openstack server stop` the instance, run `nova-manage volume_attachment get_connector "
                    "> connector.json` on the target host and copy the file here; without `--connector` the "
                    "script prints these commands. Then `openstack server start` it"
                )
            elif offline and not on_host:  # ports looked up at run time; only those named are deleted
                args = "[--delete-port PORT_ID]... [--image IMAGE_ID]"
                cmds = (
                    f"bash {f.path} {args}            # dry run: lists the ports bound to the instance now",
                    f"bash {f.path} {args} --execute  # act",
                )
                where += (
                    ": pass each `port_id` the Nova cell precheck printed with `preserve_on_delete` not "
                    "true as --delete-port, and its `shelved_image_id` (if any) as --image"
                )
                captured = next((c.produces for c in files if c.produces and c.target == "db:nova"), None)
                if plan.controller is not None and plan.controller.volumes_from_capture and captured:
                    where += (
                        ". It deletes the delete_on_termination volumes the Nova cell capture listed in "
                        f"`{captured}` (checked against its `.sha256`; each id must be a UUID, else it "
                        "refuses and changes nothing) through Cinder's API, as Nova's delete does, once "
                        "the Cinder apply has ended their attachments; run it where that file is, or pass "
                        "it with `--captured FILE`"
                    )
            steps.append(
                RunbookStep(
                    number,
                    f.path,
                    f.phase or "",
                    where,
                    cmds,
                    md_text(f.purpose),
                    "each action logged; a second run changes nothing. Offline, each script says what it "
                    "looked up on the host or API and prints `NOT CHECKED:` for what it could not know."
                    if offline
                    else "each action logged; a second run reports everything already clean.",
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
    *,
    chunking: list[str] | tuple[str, ...] = (),
    digest: str = "(computed when the bundle is written)",
) -> str:
    """`chunking`: per database, the write-set limits found and the chunk size (render/writeset.py);
    `digest`: the bundle digest the change table carries (the bundle stage seals it in)."""
    from generator import __version__

    return render(
        "runbook/README.md.j2",
        plan=plan,
        change_table=change_table.to_markdown(change_table.build(plan), digest),
        bundle_id=bundle_id,
        created_at=created_at,
        version=__version__,
        target=md_text(", ".join(plan.targets)),
        findings=[md_text(mask_text(f)) for f in plan.findings],
        warnings=[md_text(mask_text(w)) for w in plan.warnings],
        chunking=[md_text(line) for line in chunking],
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
        cd_dir=shell_arg(bundle_id),
        connection_files=connection_files(plan),
        example_cnf=example_cnf(plan),
        verify_command=verify_command(plan),
        pause=pause_items(plan),
        sandbox_note=SANDBOX_NOTE,
        secrets_note=SECRETS_NOTE,
        offline=plan.mode == "offline",
        has_compute=bool(plan.compute),
        in_cell0=not plan.compute and plan.target_kind == "vm" and plan.mode != "offline",
        offline_host_note=OFFLINE_HOST_NOTE if plan.options.get("host_side") == "instance" else "",
        errors=known_errors(plan.mode == "offline"),
        code=code,
    )
