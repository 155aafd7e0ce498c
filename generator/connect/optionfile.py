"""`--cnf ROLE=FILE`: one MySQL option file per database, the same file the runbook's SQL client reads.

A bundle's runbook runs every SQL file as `mysql --defaults-extra-file=~/fixpack-<role>.cnf`, the
file holding `host`, `port`, `user` and `password` under `[client]` and the database under `[mysql]`
(a `database` under `[client]` would make `mariadb-dump` refuse the file). `fixpack verify` must
reach the same databases from the same files, so this reads them the way the client does: `[client]`
first, then `[client-server]`, `[client-mariadb]`, `[mysql]` and `[mariadb-client]` override it; `-` and
`_` are the same in option names; quotes around a value are removed. `!include` lines are not followed.
The password stays inside the URL object, which never prints it.
"""

from __future__ import annotations

import configparser
import os

from generator.connect.urls import DatabaseURL
from generator.errors import ConnectionProblem

ROLES = ("nova_api", "nova", "placement", "cinder")
# what people read for each role (a live cell's label also names its cell)
LABELS = {
    "nova_api": "Nova API database",
    "nova": "Nova cell database (the instance's cell)",
    "placement": "Placement database",
    "cinder": "Cinder database",
}
# the groups the mysql/mariadb command-line client reads, in the order later ones override
CLIENT_GROUPS = ("client", "client-server", "client-mariadb", "mysql", "mariadb-client")


def parse_cnf_options(values: tuple[str, ...]) -> dict[str, str]:
    """`--cnf ROLE=FILE` (repeatable) into {role: file}; one clear error for anything else."""
    out: dict[str, str] = {}
    for value in values:
        role, sep, path = value.partition("=")
        role = role.strip()
        if not sep or not path.strip():
            raise ConnectionProblem(
                f"--cnf expects ROLE=FILE (ROLE one of {', '.join(ROLES)}), got {value!r}"
            )
        if role not in ROLES:
            raise ConnectionProblem(f"--cnf {role!r}: not a database role (one of {', '.join(ROLES)})")
        if role in out:
            raise ConnectionProblem(f"--cnf {role}: given twice")
        out[role] = path.strip()
    return out


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def read_client_options(path: str) -> dict[str, str]:
    """The options the mysql client would take from `path` (later groups override earlier ones)."""
    full = os.path.expanduser(path)
    if not os.path.isfile(full):
        raise ConnectionProblem(f"MySQL option file not found: {path}")
    parser = configparser.ConfigParser(
        interpolation=None, strict=False, allow_no_value=True, comment_prefixes=("#", ";", "!")
    )
    try:
        parser.read(full, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConnectionProblem(
            f"{path}: not a readable MySQL option file ({exc.__class__.__name__})"
        ) from None
    options: dict[str, str] = {}
    for group in CLIENT_GROUPS:
        if parser.has_section(group):
            for key, value in parser.items(group):
                if value is not None:
                    options[key.replace("-", "_")] = _unquote(value)
    return options


def url_from_option_file(role: str, path: str) -> DatabaseURL:
    """The database URL an option file describes; it must name the database (under `[mysql]`)."""
    options = read_client_options(path)
    database = options.get("database")
    if not database:
        raise ConnectionProblem(f"{path}: names no database for {role} (put `database = NAME` under [mysql])")
    port = options.get("port")
    if port is not None and not port.isdigit():
        raise ConnectionProblem(f"{path}: port is not a number")
    socket = options.get("socket")
    return DatabaseURL(
        user=options.get("user"),
        password=options.get("password"),
        host=options.get("host"),
        port=int(port) if port else None,
        database=database,
        query=(("unix_socket", socket),) if socket else (),
    )
