"""Where each database's URL comes from: options, environment, service configs.

Precedence, most specific first (what an operator expects from the
`mysql` client and the services themselves):

1. an explicit `--nova-api-url`, `--nova-url`, `--placement-url`, `--cinder-url`, or a
   `--cnf ROLE=FILE` option file naming host, port, user, password and database (the file a
   bundle's runbook gives the SQL client, read by `connect.optionfile`);
2. the environment: `FIXPACK_NOVA_API_URL`, `FIXPACK_NOVA_URL`,
   `FIXPACK_PLACEMENT_URL`, `FIXPACK_CINDER_URL`;
3. service configuration files: `--nova-conf` (`[api_database]` and
   `[database]` connection), `--placement-conf` (`[placement_database]`),
   `--cinder-conf` (`[database]`).

A MySQL option file (`--defaults-file`, `FIXPACK_DEFAULTS_FILE`, or
`~/.my.cnf`) fills in user, password, host, port or socket a URL leaves out,
never overriding it.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator.connect.optionfile import url_from_option_file
from generator.connect.urls import DatabaseURL, parse_url, redact_url
from generator.errors import ConnectionProblem

ENV_VARS = {
    "nova_api": "FIXPACK_NOVA_API_URL",
    "nova": "FIXPACK_NOVA_URL",
    "placement": "FIXPACK_PLACEMENT_URL",
    "cinder": "FIXPACK_CINDER_URL",
}
# (config option name, section) per database kind
CONF_SECTIONS = {
    "nova_api": ("nova_conf", "api_database"),
    "nova": ("nova_conf", "database"),
    "placement": ("placement_conf", "placement_database"),
    "cinder": ("cinder_conf", "database"),
}


@dataclass(frozen=True)
class ConnectionOptions:
    """What the operator passed on the command line (all optional)."""

    urls: Mapping[str, str | None] = field(default_factory=dict)
    nova_conf: str | None = None
    placement_conf: str | None = None
    cinder_conf: str | None = None
    defaults_file: str | None = None
    cell_overrides: Mapping[str, str] = field(default_factory=dict)
    cnf_files: Mapping[str, str] = field(default_factory=dict)  # role -> MySQL option file (--cnf)


@dataclass(frozen=True)
class ResolvedURL:
    kind: str
    url: DatabaseURL
    source: str  # human-readable origin, never containing a password


@dataclass(frozen=True)
class ConnectionTargets:
    resolved: Mapping[str, ResolvedURL]
    defaults_file: str | None
    cell_overrides: Mapping[str, DatabaseURL]

    def get(self, kind: str) -> ResolvedURL | None:
        return self.resolved.get(kind)

    @property
    def any(self) -> bool:
        return bool(self.resolved)


def read_conf_connection(path: str, section: str) -> str | None:
    """The `connection` option of `[section]` in an oslo.config file."""
    if not os.path.isfile(path):
        raise ConnectionProblem(f"configuration file not found: {path}")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path)
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise ConnectionProblem(f"{path}: not a readable config file ({exc.__class__.__name__})") from None
    value = parser.get(section, "connection", fallback=None)
    return value.strip() if value and value.strip() else None


def _names(sections: list[str]) -> str:
    return " and ".join(f"[{s}]" for s in sections)


def _no_connection(path: str, sections: list[str]) -> str:
    """`nova.conf: no database connection: [api_database] and [database] are missing …`: which ones."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.read(path)
    missing = [s for s in sections if not parser.has_section(s)]
    empty = [s for s in sections if parser.has_section(s)]
    parts = []
    if missing:
        parts.append(f"{_names(missing)} {'is' if len(missing) == 1 else 'are'} missing")
    if empty:
        parts.append(f"{_names(empty)} {'has' if len(empty) == 1 else 'have'} no `connection` option")
    return f"{path}: no database connection: {'; '.join(parts)}"


def resolve(options: ConnectionOptions, env: Mapping[str, str] | None = None) -> ConnectionTargets:
    env = os.environ if env is None else env
    resolved: dict[str, ResolvedURL] = {}
    consulted: dict[str, list[str]] = {}  # conf file -> the sections read from it
    for kind, env_var in ENV_VARS.items():
        explicit = options.urls.get(kind)
        if explicit:
            resolved[kind] = ResolvedURL(
                kind,
                parse_url(explicit, what=f"--{kind.replace('_', '-')}-url"),
                f"--{kind.replace('_', '-')}-url",
            )
            continue
        cnf = options.cnf_files.get(kind)
        if cnf:
            resolved[kind] = ResolvedURL(kind, url_from_option_file(kind, cnf), f"--cnf {kind}={cnf}")
            continue
        if env.get(env_var):
            resolved[kind] = ResolvedURL(kind, parse_url(env[env_var], what=env_var), f"${env_var}")
            continue
        conf_attr, section = CONF_SECTIONS[kind]
        conf_path = getattr(options, conf_attr)
        if conf_path:
            text = read_conf_connection(conf_path, section)
            consulted.setdefault(conf_path, []).append(section)
            if text:
                where = f"{conf_path} [{section}] connection"
                resolved[kind] = ResolvedURL(kind, parse_url(text, what=where), where)
    for conf_path, sections in consulted.items():
        if not any(r.source.startswith(f"{conf_path} [") for r in resolved.values()):
            raise ConnectionProblem(_no_connection(conf_path, sections))
    defaults_file = options.defaults_file or env.get("FIXPACK_DEFAULTS_FILE")
    if defaults_file and not os.path.isfile(os.path.expanduser(defaults_file)):
        raise ConnectionProblem(f"MySQL option file not found: {defaults_file}")
    overrides = {name: parse_url(url, what=f"--cell {name}") for name, url in options.cell_overrides.items()}
    return ConnectionTargets(resolved=resolved, defaults_file=defaults_file, cell_overrides=overrides)


def parse_cell_overrides(values: tuple[str, ...]) -> dict[str, str]:
    """`--cell NAME_OR_UUID=URL` (repeatable) into a mapping."""
    out = {}
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise ConnectionProblem(f"--cell expects NAME_OR_UUID=URL, got {redact_url(value)!r}")
        out[name.strip()] = url.strip()
    return out
