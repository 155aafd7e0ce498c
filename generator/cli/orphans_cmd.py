"""`fixpack allocation CONSUMER --op delete` and `fixpack mapping UUID --op delete`: the orphan cleanups.

Both are live only (they judge "orphaned" from every cell), so their --help lists the databases
they read and no --release offline mode.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from generator.cli.common import (
    output_options,
    override_options,
    overrides_from,
    print_result,
    read_uuid_file,
    validate_uuid,
)
from generator.cli.options import connection_options_for, targets_from
from generator.errors import FixpackError
from generator.jobs_orphans import (
    ALLOCATION_OPS,
    MAPPING_OPS,
    generate_allocation_delete,
    generate_mapping_delete,
)
from generator.pipeline import OutputOptions
from generator.plan.allocation_delete import OrphanOptions

_RELEASE = click.option(
    "--release", default="auto", show_default=True, help="Release the databases are at ('auto' detects it)."
)
_FROM_FILE = click.option(
    "--from-file",
    "from_file",
    type=click.Path(dir_okay=False, exists=True),
    help="Read many UUIDs (one per line): one bundle for all of them.",
)


def _run(uuid: str | None, from_file: str | None, what: str, kwargs: dict, out: dict, job: Callable) -> None:
    allow, stale_after = overrides_from(kwargs)
    targets = targets_from(kwargs)
    uuids = read_uuid_file(from_file) if from_file else []
    if uuid:
        uuids.insert(0, validate_uuid(uuid, what))
    if not uuids:
        raise FixpackError(f"give the {what} (or --from-file FILE)")
    output = OutputOptions(
        out_dir=Path(out["out_dir"]),
        chunk_rows=out["chunk_rows"],
        allow_lint_failures=out["allow_lint_failures"],
    )
    options = OrphanOptions(op=out["op"], allow=allow, stale_after=stale_after)
    print_result(job(list(dict.fromkeys(uuids)), options, targets, output, out["release"]))


@click.command(
    "allocation",
    short_help="Bundle freeing an orphaned Placement consumer's allocations.",
)
@click.argument("consumer", required=False)
@click.option("--op", "op", type=click.Choice(ALLOCATION_OPS), required=True, help="The repair to generate.")
@_RELEASE
@_FROM_FILE
@override_options("allocation")
@output_options
@connection_options_for("placement", "nova_api", "nova")
def allocation(
    consumer: str | None, op: str, release: str, from_file: str | None, out_dir: str, chunk_rows: int,
    allow_lint_failures: bool, **kwargs: object,
) -> None:  # fmt: skip
    """Generate a bundle freeing what an orphaned Placement consumer holds.

    \b
    delete  the consumer's allocations, its consumer row (projects/users kept) and a
            generation bump of every provider they were on, as Placement does when
            Nova frees an instance's allocations

    Refused when Nova still uses the consumer (a live instance or a migration in progress
    in any cell, a build in flight) or does not know it. Live only: needs Placement and
    nova_api (every cell it lists is read).
    """
    out = {"op": op, "release": release, "out_dir": out_dir, "chunk_rows": chunk_rows,
           "allow_lint_failures": allow_lint_failures}  # fmt: skip
    _run(consumer, from_file, "consumer UUID", kwargs, out, generate_allocation_delete)


@click.command(
    "mapping",
    short_help="Bundle deleting nova_api records of an instance no cell has.",
)
@click.argument("uuid", required=False)
@click.option("--op", "op", type=click.Choice(MAPPING_OPS), required=True, help="The repair to generate.")
@_RELEASE
@_FROM_FILE
@override_options("mapping")
@output_options
@connection_options_for("nova_api", "nova")
def mapping(
    uuid: str | None, op: str, release: str, from_file: str | None, out_dir: str, chunk_rows: int,
    allow_lint_failures: bool, **kwargs: object,
) -> None:  # fmt: skip
    """Generate a bundle deleting an instance's nova_api records that no cell backs.

    \b
    delete  instance_mappings, build_requests, request_specs and instance_group_member
            rows of the uuid, as Nova's destroy / archive code deletes them; an
            instance found in another cell keeps its request spec (map it afterwards)

    Refused when the instance exists in the cell its mapping points to, or a build is in
    flight. Live only: needs nova_api (every cell it lists is read).
    """
    out = {"op": op, "release": release, "out_dir": out_dir, "chunk_rows": chunk_rows,
           "allow_lint_failures": allow_lint_failures}  # fmt: skip
    _run(uuid, from_file, "instance UUID", kwargs, out, generate_mapping_delete)


def register(cli: click.Group) -> None:
    cli.add_command(allocation)
    cli.add_command(mapping)
