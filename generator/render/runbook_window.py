"""The runbook's "before the window" part: where to stand, which connection file, what to pause.

A runbook is followed literally (tests/db/render/test_runbook_literal.py runs every SQL-client and `fixpack`
command of a README as printed), so every command is complete: it is run from inside the bundle
(`cd` first, then `sql/…` and `fixpack verify .` resolve), and each SQL command names the option
file of its own database, `~/fixpack-<role>.cnf`, which `fixpack verify --cnf ROLE=FILE` reads too
(connect.optionfile). The files hold the password; fixpack never writes one, and for a live bundle
names only the server (`user@host:port`) and database it was generated against.

The pause list names the jobs that change or destroy the rows between the apply and a rollback
(Nova's archive/purge, `cinder-manage db purge`, `heal_allocations`, a running nova-compute on the
instance's host), each only where the bundle touches the database it works on.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.plan.model import DatabaseTarget, Plan
from generator.quoting import md_code, md_text

CNF_DIR = "~"
SQL_CLIENT_OPTIONS = "--loose-sandbox --batch"


def cnf_path(role: str) -> str:
    """The option file of one database role (a fixed role name: no quoting needed)."""
    return f"{CNF_DIR}/fixpack-{role}.cnf"


def sql_client(role: str) -> str:
    """The client command for a role: the option file names the server, the user and the database."""
    return f"mysql --defaults-extra-file={cnf_path(role)} {SQL_CLIENT_OPTIONS}"


def cnf_options(plan: Plan) -> str:
    """`--cnf ROLE=FILE` for every database of the bundle, for `fixpack verify`/`continue`."""
    return " ".join(f"--cnf {db.role}={cnf_path(db.role)}" for db in plan.databases)


def verify_command(plan: Plan) -> str:
    return f"fixpack verify . {cnf_options(plan)}"


@dataclass(frozen=True)
class ConnectionFile:
    path: str  # markdown code span
    label: str  # markdown text
    database: str  # markdown: what to put under [mysql] database
    server: str  # markdown: the server generated against, or what to look for


_OFFLINE_DATABASE = {
    "nova": "the Nova cell database holding the instance (`[database] connection` of that cell's nova.conf; "
    "nova_api `cell_mappings` lists them)",
    "nova_api": "the Nova API database (`[api_database] connection` in nova.conf)",
    "placement": "the Placement database (`[placement_database] connection` in placement.conf)",
    "cinder": "the Cinder database (`[database] connection` in cinder.conf)",
}


def _connection_file(db: DatabaseTarget, live: bool) -> ConnectionFile:
    if live and db.database:
        database = md_code(db.database, in_table=True)
        server = md_code(db.server, in_table=True) if db.server else "the server given at generation"
    else:
        database = md_text(_OFFLINE_DATABASE.get(db.role, db.label))
        server = "not known (offline generation): the server holding that database"
    return ConnectionFile(md_code(cnf_path(db.role), in_table=True), md_text(db.label), database, server)


def connection_files(plan: Plan) -> list[ConnectionFile]:
    return [_connection_file(db, plan.mode == "live") for db in plan.databases]


def example_cnf(plan: Plan) -> tuple[str, tuple[str, ...]]:
    """(file name, lines) of one example option file: placeholders, never a value of the generation
    except the database name a live bundle was generated against (kept out when it is not plain)."""
    db = plan.databases[0]
    name = db.database if plan.mode == "live" and db.database else "DATABASE"
    if not name.replace("_", "").replace("-", "").isalnum():
        name = "DATABASE"
    return cnf_path(db.role), (
        "[client]",
        "host = HOST",
        "port = 3306",
        "user = USER",
        "password = PASSWORD",
        "",
        "[mysql]",
        f"database = {name}",
    )


def _hosts(plan: Plan) -> list[str]:
    hosts = [c.host for c in plan.compute]
    to_host = plan.options.get("to_host")
    if isinstance(to_host, str) and to_host:
        hosts.append(to_host)
    return list(dict.fromkeys(hosts))


def pause_items(plan: Plan) -> list[str]:
    """Markdown bullets: what can change or destroy the rows during the window, and how to pause it."""
    roles = {db.role for db in plan.databases}
    items = []
    if "nova" in roles:
        items.append(
            "Nova's database cleanup, `nova-manage db archive_deleted_rows` and `nova-manage db purge` "
            "(a cron job or systemd timer on a controller, or inside the nova-api container): they move "
            "soft-deleted rows to the `shadow_` tables and delete them, so the rows a rollback restores "
            "or checks can be gone. Comment the job out (`crontab -l -u nova`, `/etc/cron.d/`) or "
            "`systemctl stop` its timer, and turn it back on only once no rollback will be needed."
        )
    if "cinder" in roles:
        items.append(
            "Cinder's database cleanup, `cinder-manage db purge` (cron job or timer on a controller): it "
            "deletes soft-deleted rows the rollback needs. Comment the job out (`crontab -l -u cinder`, "
            "`/etc/cron.d/`) or `systemctl stop` its timer until no rollback will be needed. Start no "
            "attach, detach, delete or transfer of the volume or project during the window."
        )
    if "placement" in roles:
        items.append(
            "`nova-manage placement heal_allocations` and `nova-manage placement audit --delete` (by hand or "
            "from automation): they create or delete allocations while the bundle frees them; do not run "
            "them until the verify step passed."
        )
    if plan.target_kind == "vm" or "nova" in roles:
        hosts = _hosts(plan)
        where = (
            "on " + ", ".join(md_code(h) for h in hosts)
            if hosts
            else "on the instance's compute host (offline: the `host` line the Nova cell precheck prints)"
        )
        items.append(
            f"A running `nova-compute` {where}: its periodic tasks (power-state sync, the resource tracker, "
            "block-device and network-info refreshes) rewrite the instance's rows and allocations while the "
            "bundle changes them. Stop it there for the window (`systemctl stop nova-compute`, or stop its "
            "container, e.g. `docker stop nova_compute`) and start it after the verify step."
        )
    return items
