"""Click options shared by every command that talks to databases."""

from __future__ import annotations

from collections.abc import Callable

import click

from generator.connect.sources import (
    ConnectionOptions,
    ConnectionTargets,
    parse_cell_overrides,
    resolve,
)

_CONNECTION_OPTIONS = [
    click.option("--nova-api-url", metavar="URL", help="nova_api database URL (mysql+pymysql://...)."),
    click.option(
        "--nova-url",
        metavar="URL",
        help="Nova cell database URL (default: found from nova_api cell_mappings).",
    ),
    click.option("--placement-url", metavar="URL", help="placement database URL."),
    click.option("--cinder-url", metavar="URL", help="cinder database URL."),
    click.option(
        "--nova-conf",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help="nova.conf: reads [api_database] and [database] connection.",
    ),
    click.option(
        "--placement-conf",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help="placement.conf: reads [placement_database] connection.",
    ),
    click.option(
        "--cinder-conf",
        metavar="FILE",
        type=click.Path(dir_okay=False),
        help="cinder.conf: reads [database] connection.",
    ),
    click.option(
        "--defaults-file",
        metavar="FILE",
        help="MySQL option file for user/password/host (default ~/.my.cnf if present).",
    ),
    click.option(
        "--cell",
        "cells",
        metavar="NAME_OR_UUID=URL",
        multiple=True,
        help="Override a cell database URL from cell_mappings (repeatable).",
    ),
]


def connection_options(func: Callable) -> Callable:
    for option in reversed(_CONNECTION_OPTIONS):
        func = option(func)
    return func


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
    )
    return resolve(options)
