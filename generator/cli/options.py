"""Click options shared by every command that talks to databases."""

from __future__ import annotations

from collections.abc import Callable

import click

from generator.connect.optionfile import parse_cnf_options
from generator.connect.sources import (
    ConnectionOptions,
    ConnectionTargets,
    parse_cell_overrides,
    resolve,
)

# (the databases an option is for, the option); "*" : every command that connects
_CONNECTION_OPTIONS = [
    (
        ("nova_api",),
        click.option("--nova-api-url", metavar="URL", help="nova_api database URL (mysql+pymysql://...)."),
    ),
    (
        ("nova",),
        click.option(
            "--nova-url",
            metavar="URL",
            help="Nova cell database URL (default: found from nova_api cell_mappings).",
        ),
    ),
    (("placement",), click.option("--placement-url", metavar="URL", help="placement database URL.")),
    (("cinder",), click.option("--cinder-url", metavar="URL", help="cinder database URL.")),
    (
        ("nova_api", "nova"),
        click.option(
            "--nova-conf",
            metavar="FILE",
            type=click.Path(dir_okay=False),
            help="nova.conf: reads [api_database] and [database] connection.",
        ),
    ),
    (
        ("placement",),
        click.option(
            "--placement-conf",
            metavar="FILE",
            type=click.Path(dir_okay=False),
            help="placement.conf: reads [placement_database] connection.",
        ),
    ),
    (
        ("cinder",),
        click.option(
            "--cinder-conf",
            metavar="FILE",
            type=click.Path(dir_okay=False),
            help="cinder.conf: reads [database] connection.",
        ),
    ),
    (
        ("*",),
        click.option(
            "--defaults-file",
            metavar="FILE",
            help="MySQL option file for user/password/host (default ~/.my.cnf if present).",
        ),
    ),
    (
        ("*",),
        click.option(
            "--cnf",
            "cnf_files",
            metavar="ROLE=FILE",
            multiple=True,
            help="MySQL option file of one database (host, port, user, password under [client], database "
            "under [mysql]), as a bundle's runbook uses it; ROLE: nova_api, nova, placement, cinder "
            "(repeatable).",
        ),
    ),
    (
        ("nova",),
        click.option(
            "--cell",
            "cells",
            metavar="NAME_OR_UUID=URL",
            multiple=True,
            help="Override a cell database URL from cell_mappings (repeatable).",
        ),
    ),
]
ALL_DATABASES = ("nova_api", "nova", "placement", "cinder")


def connection_options_for(*databases: str) -> Callable[[Callable], Callable]:
    """Only the connection options of the databases a command uses: its --help lists no others."""

    def decorate(func: Callable) -> Callable:
        for roles, option in reversed(_CONNECTION_OPTIONS):
            if "*" in roles or set(roles) & set(databases):
                func = option(func)
        return func

    return decorate


def connection_options(func: Callable) -> Callable:
    """Every connection option (commands that may use any database: vm, verify, schema)."""
    return connection_options_for(*ALL_DATABASES)(func)


def targets_from(kwargs: dict) -> ConnectionTargets:
    """Pop the connection options out of a command's kwargs and resolve them."""
    options = ConnectionOptions(
        urls={
            "nova_api": kwargs.pop("nova_api_url", None),
            "nova": kwargs.pop("nova_url", None),
            "placement": kwargs.pop("placement_url", None),
            "cinder": kwargs.pop("cinder_url", None),
        },
        nova_conf=kwargs.pop("nova_conf", None),
        placement_conf=kwargs.pop("placement_conf", None),
        cinder_conf=kwargs.pop("cinder_conf", None),
        defaults_file=kwargs.pop("defaults_file", None),
        cell_overrides=parse_cell_overrides(kwargs.pop("cells", ())),
        cnf_files=parse_cnf_options(kwargs.pop("cnf_files", ())),
    )
    return resolve(options)
