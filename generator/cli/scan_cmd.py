"""`fixpack scan`: read every database given, report inconsistencies and their repairs.

Read-only. Exit status: 0 every check ran and found nothing, 1 something found, 3 (as for a
connection problem) when any selected check could not run — a partial scan is never 0.
With --emit DIR: 5 when a complete scan's finding was refused by its repair (DIR is written
and its README lists the refusal line); 3 still wins for a partial scan.
"""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.common import duration_param
from generator.cli.options import connection_options, targets_from
from generator.cli.progress import progress_bar
from generator.domain.staleness import DEFAULT_STALE_AFTER, format_duration
from generator.emit import check_emit_dir, emit, exit_code, repair_kinds
from generator.emit.index import BUNDLE, CONTROLLER, NO_CMD, REFUSED
from generator.emit.routes import CHOICE, PENDING
from generator.errors import FixpackError
from generator.quoting import terminal
from generator.scan import CHECK_IDS, run_scan
from generator.scan.output import render_json, render_table


@click.command("scan", short_help="Find Nova, Cinder and Placement inconsistencies (read-only).")
@click.option(
    "--older-than",
    default=format_duration(DEFAULT_STALE_AFTER),
    show_default=True,
    callback=duration_param,
    metavar="DURATION",
    help="A transitional state or a leftover row older than this is stuck (e.g. 30m, 1h, 2d).",
)
@click.option(
    "--check",
    "checks",
    multiple=True,
    type=click.Choice(CHECK_IDS),
    metavar="ID",
    help=f"Run only this check (repeatable): {', '.join(CHECK_IDS)}.",
)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.option(
    "--no-snapshot-gb-quota",
    is_flag=True,
    help="The deployment sets cinder.conf no_snapshot_gb_quota = True (snapshots not in gigabytes).",
)
@click.option(
    "--emit",
    "emit_dir",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Also write the repairs to DIR (new or empty): one batch bundle per repair kind, "
    "controller.sh for the API-repairable findings, README.md and index.json listing every finding.",
)
@connection_options
@click.pass_context
def scan(
    ctx: click.Context,
    older_than,
    checks: tuple[str, ...],
    fmt: str,
    no_snapshot_gb_quota: bool,
    emit_dir: str | None,
    **kwargs: object,
) -> None:
    """Find Nova, Cinder and Placement inconsistencies (read-only) and the repair of each.

    Every database given is read once; checks whose databases are not given are listed
    as skipped, and the scan then exits 3, never 0. Exit 1 when something was found.

    --emit DIR writes the repairs (the bundles read the databases, never change them): the
    repairs are generated with --stale-after set to --older-than. Exit 5 when a repair refused
    a finding of a complete scan (the README in DIR gives the refusal line).
    """
    targets = targets_from(kwargs)
    if not targets.any:
        raise FixpackError("scan reads live databases: pass connection options (see 'fixpack scan --help')")
    if emit_dir is not None:
        check_emit_dir(Path(emit_dir))
    with progress_bar("scanning", len(set(checks)) or len(CHECK_IDS)) as progress:
        report = run_scan(
            targets,
            checks=checks,
            older_than=older_than,
            no_snapshot_gb_quota=no_snapshot_gb_quota,
            progress=progress,
        )
    click.echo(render_json(report) if fmt == "json" else render_table(report), nl=False)
    if emit_dir is None:
        ctx.exit(report.exit_code)
    with progress_bar("emitting", repair_kinds(report)) as progress:
        result = emit(
            report,
            targets,
            Path(emit_dir),
            stale_after=older_than,
            no_snapshot_gb_quota=no_snapshot_gb_quota,
            progress=progress,
        )
    counts = ", ".join(
        f"{result.count(w)} {label}"
        for w, label in (
            (BUNDLE, "in bundles"),
            (CONTROLLER, "in controller.sh"),
            (PENDING, "not emitted"),
            (CHOICE, "your choice"),
            (REFUSED, "refused"),
            (NO_CMD, "without a command"),
        )
    )
    click.echo(f"emitted: {terminal(result.path)} ({counts}); see its README.md", err=True)
    ctx.exit(exit_code(report.exit_code, result))


def register(cli: click.Group) -> None:
    cli.add_command(scan)
