"""`fixpack vm UUID --op soft-delete|purge|rehost`."""

from __future__ import annotations

from pathlib import Path

import click

from generator.cli.common import (
    check_name_template,
    output_options,
    override_options,
    overrides_from,
    print_results,
    read_uuid_file,
    validate_uuid,
)
from generator.cli.options import connection_options, targets_from
from generator.cli.progress import progress_bar
from generator.errors import FixpackError
from generator.jobs_batch import generate_vm_batch
from generator.pipeline import OutputOptions, generate_vm
from generator.plan.vm import VM_OPS
from generator.plan.vm_common import VmOptions


@click.command("vm", short_help="Repair bundle for a Nova instance: soft-delete, purge, rehost.")
@click.argument("uuid", required=False)
@click.option("--op", "op", type=click.Choice(VM_OPS), required=True, help="The repair to generate.")
@click.option("--to-host", help="rehost: the nova-compute host the instance really lives on now.")
@click.option("--to-node", help="rehost: the compute node (hypervisor_hostname) when the host has several.")
@click.option(
    "--availability-zone",
    "availability_zone",
    help="rehost: the target host's availability zone (default: from its nova_api aggregates, else 'nova').",
)
@click.option(
    "--release",
    default="auto",
    show_default=True,
    help="Release to plan for; 'auto' detects it (required when no database is given).",
)
@click.option(
    "--include-shadow", is_flag=True, help="purge: also remove the instance's archived shadow_ rows."
)
@click.option(
    "--skip-cinder",
    is_flag=True,
    help="soft-delete/purge without a Cinder database: leave the volumes' Cinder side to the API "
    "(the runbook lists the commands) instead of refusing an instance with volumes.",
)
@click.option(
    "--with-cinder",
    is_flag=True,
    help="offline soft-delete/purge: also end the instance's Cinder attachments (a db:cinder step group "
    "whose rows are found at run time) instead of listing what to finish through the API.",
)
@click.option(
    "--cinder-release",
    help="offline --with-cinder: the Cinder database's release when it differs from --release.",
)
@click.option(
    "--placement-release",
    help="offline soft-delete/purge: the Placement database's release when it differs from --release.",
)
@click.option(
    "--instances-path",
    default="/var/lib/nova/instances",
    show_default=True,
    help="Nova's instances_path on the compute node.",
)
@click.option(
    "--instance-name-template",
    default="instance-%08x",
    show_default=True,
    callback=check_name_template,
    help="Nova's instance_name_template (libvirt domain name).",
)
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(dir_okay=False, exists=True),
    help="Read many instance UUIDs (one per line) and write one bundle per UUID.",
)
@click.option(
    "--batch",
    is_flag=True,
    help="With several UUIDs: one bundle for all of them (per cell) instead of one each.",
)
@override_options("vm")
@output_options
@connection_options
def vm(
    uuid: str | None,
    op: str,
    to_host: str | None,
    to_node: str | None,
    availability_zone: str | None,
    release: str,
    include_shadow: bool,
    skip_cinder: bool,
    with_cinder: bool,
    cinder_release: str | None,
    placement_release: str | None,
    instances_path: str,
    instance_name_template: str,
    from_file: str | None,
    batch: bool,
    out_dir: str,
    chunk_rows: int,
    allow_lint_failures: bool,
    fmt: str,
    **kwargs: object,
) -> None:
    """Generate a repair bundle for a Nova instance (VM).

    \b
    soft-delete  what Nova's own delete does (deleted = id, related rows, allocations,
                 instance mapping), for an instance stuck in deleting/error
    purge        hard-delete the instance and every row referencing it, children first
    rehost       point the instance at --to-host after a failed migrate/resize

    With no database given, the bundle is generated offline from the catalog of --release.
    """
    allow, stale_after = overrides_from(kwargs)
    targets = targets_from(kwargs)
    if op == "rehost" and not to_host:
        raise FixpackError("--op rehost needs --to-host HOST")
    if not targets.any and release == "auto":
        raise FixpackError("no database given: pass connection options, or --release R to generate offline")
    if (with_cinder or cinder_release) and targets.any:
        raise FixpackError(
            "--with-cinder and --cinder-release are for offline bundles: a live bundle ends the Cinder "
            "attachments whenever a Cinder database is given (--cinder-url, --cinder-conf)"
        )
    if placement_release and targets.any:
        raise FixpackError(
            "--placement-release is for offline bundles: a live bundle detects the Placement database's "
            "release itself"
        )
    uuids = read_uuid_file(from_file) if from_file else []
    if uuid:
        uuids.insert(0, validate_uuid(uuid))
    if not uuids:
        raise FixpackError("give an instance UUID (or --from-file FILE)")
    options = VmOptions(
        op=op,
        allow=allow,
        stale_after=stale_after,
        to_host=to_host,
        to_node=to_node,
        availability_zone=availability_zone,
        include_shadow=include_shadow,
        instance_name_template=instance_name_template,
        instances_path=instances_path,
        skip_cinder=skip_cinder,
        with_cinder=with_cinder,
        cinder_release=cinder_release,
        placement_release=placement_release,
    )
    output = OutputOptions(
        out_dir=Path(out_dir), chunk_rows=chunk_rows, allow_lint_failures=allow_lint_failures
    )
    if batch:
        if len(set(uuids)) != len(uuids):
            raise FixpackError("the same UUID is listed twice")
        with progress_bar("batch", len(uuids) + 2) as progress:
            results = generate_vm_batch(uuids, options, targets, release, output, progress)
        print_results(results, fmt)
        return
    print_results((generate_vm(one, options, targets, release, output) for one in uuids), fmt)


def register(cli: click.Group) -> None:
    cli.add_command(vm)
