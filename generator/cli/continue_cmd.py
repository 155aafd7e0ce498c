"""`fixpack continue BUNDLE`: a continuation bundle for what a partially applied live bundle left to do."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.common import check_name_template, output_options, print_results
from generator.cli.options import connection_options, targets_from
from generator.continuation import generate_continuation
from generator.pipeline import OutputOptions


def _template(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return None if value is None else check_name_template(ctx, param, value)


@click.command("continue", short_help="Bundle that finishes a live apply stopped part way by changed rows.")
@click.argument("bundle")
@click.option(
    "--instances-path", help="Nova's instances_path on the compute node (default: as `fixpack vm`)."
)
@click.option(
    "--instance-name-template",
    callback=_template,
    help="Nova's instance_name_template (default: as `fixpack vm`).",
)
@output_options
@connection_options
def continue_(
    bundle: str,
    instances_path: str | None,
    instance_name_template: str | None,
    out_dir: str,
    chunk_rows: int,
    allow_lint_failures: bool,
    fmt: str,
    **kwargs: object,
) -> None:
    """Generate a continuation bundle for a live bundle whose apply stopped part way.

    \b
    Measures BUNDLE read-only against the databases (as `fixpack verify` does): which
    chunks are applied, which are pending. Then plans the same repair again against the
    rows as they are now (rows another session changed included, as they now are) and
    writes a normal bundle with its own guards and rollback. Roll back the continuation
    first, then BUNDLE, to undo everything. Live VM bundles of one instance only.
    """
    output = OutputOptions(
        out_dir=Path(out_dir), chunk_rows=chunk_rows, allow_lint_failures=allow_lint_failures
    )
    result, _ = generate_continuation(
        bundle,
        targets_from(kwargs),
        output,
        instance_name_template=instance_name_template,
        instances_path=instances_path,
    )
    print_results([result], fmt)


def register(cli: click.Group) -> None:
    cli.add_command(continue_)
