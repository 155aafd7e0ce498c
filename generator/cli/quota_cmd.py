"""`fixpack quota sync --project P | --all-projects`: Cinder usage recounted as a bundle."""

from __future__ import annotations

import re
from pathlib import Path

import click

from generator.cli.common import output_options, print_results
from generator.cli.options import connection_options_for, targets_from
from generator.errors import FixpackError
from generator.jobs_volume import generate_quota_sync
from generator.pipeline import OutputOptions

# Keystone project ids: 32 hex digits by default, up to 64 characters with other backends.
_PROJECT = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def validate_project(value: str) -> str:
    text = value.strip()
    if not _PROJECT.match(text):
        shown = value if len(value) <= 70 else value[:67] + "..."
        raise FixpackError(f"not a project id: {shown!r} (expected up to 64 letters, digits, '_', '.', '-')")
    return text


@click.group("quota", short_help="Recount Cinder quota usage (quota_usages.in_use) as a bundle.")
def quota() -> None:
    """Cinder quota usage (quota_usages.in_use), recounted the way Cinder counts it."""


@quota.command("sync", short_help="Bundle that sets quota_usages.in_use to Cinder's recount.")
@click.option("--project", "projects", multiple=True, metavar="ID", help="Project to recount (repeatable).")
@click.option("--all-projects", is_flag=True, help="Recount every project that has quota_usages rows.")
@click.option(
    "--no-snapshot-gb-quota",
    is_flag=True,
    help="The deployment sets cinder.conf no_snapshot_gb_quota = True: snapshots do not count in gigabytes.",
)
@click.option(
    "--release",
    default="auto",
    show_default=True,
    help="Release to plan for ('auto' detects it from Cinder).",
)
@output_options
@connection_options_for("cinder")
def sync(
    projects: tuple[str, ...],
    all_projects: bool,
    no_snapshot_gb_quota: bool,
    release: str,
    out_dir: str,
    chunk_rows: int,
    allow_lint_failures: bool,
    fmt: str,
    **kwargs: object,
) -> None:
    """Generate a bundle that sets each quota_usages row of the project(s) to Cinder's recount.

    Usage only: quota limits and reservations are never changed; a row Cinder has not
    created yet is left for Cinder to create. Needs the Cinder database.
    """
    if bool(projects) == all_projects:
        raise FixpackError("give --project ID (repeatable) or --all-projects")
    targets = targets_from(kwargs)
    output = OutputOptions(
        out_dir=Path(out_dir), chunk_rows=chunk_rows, allow_lint_failures=allow_lint_failures
    )
    wanted = None if all_projects else sorted({validate_project(p) for p in projects})
    print_results(
        [generate_quota_sync(wanted, targets, release, output, no_snapshot_gb_quota=no_snapshot_gb_quota)],
        fmt,
    )


def register(cli: click.Group) -> None:
    cli.add_command(quota)
