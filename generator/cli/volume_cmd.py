"""`fixpack volume UUID --op reset-detached|detach-from-nova|soft-delete|purge`."""

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
from generator.cli.options import connection_options_for, targets_from
from generator.cli.progress import progress_bar
from generator.errors import FixpackError
from generator.jobs_volume import generate_volume, generate_volume_batch
from generator.pipeline import OutputOptions
from generator.plan.volume_common import VOLUME_OPS, VolumeOptions


@click.command(
    "volume",
    short_help="Repair bundle for a Cinder volume: reset-detached, detach-from-nova, soft-delete, purge.",
)
@click.argument("uuid", required=False)
@click.option("--op", "op", type=click.Choice(VOLUME_OPS), required=True, help="The repair to generate.")
@click.option(
    "--release",
    default="auto",
    show_default=True,
    help="Release to plan for; 'auto' detects it (required when no database is given).",
)
@click.option(
    "--instance",
    "instances",
    multiple=True,
    metavar="UUID",
    help="reset-detached / detach-from-nova: only this instance's attachment and BDM (repeatable; "
    "multi-attach volumes keep their other attachments).",
)
@click.option(
    "--detach-nova",
    is_flag=True,
    help="reset-detached: the instance no longer uses the volume: also soft-delete its Nova BDM row(s).",
)
@click.option(
    "--cascade",
    is_flag=True,
    help="soft-delete / purge: also delete the volume's live snapshots (purge: and live backup rows).",
)
@click.option(
    "--no-snapshot-gb-quota",
    is_flag=True,
    help="The deployment sets cinder.conf no_snapshot_gb_quota = True: snapshots do not count in gigabytes.",
)
@click.option(
    "--instance-name-template",
    default="instance-%08x",
    show_default=True,
    callback=check_name_template,
    help="Nova's instance_name_template (the libvirt domain the compute script checks).",
)
@click.option(
    "--from-file",
    "from_file",
    type=click.Path(dir_okay=False, exists=True),
    help="Read many volume UUIDs (one per line) and write one bundle per UUID.",
)
@click.option(
    "--batch",
    is_flag=True,
    help="With several UUIDs: one bundle for all of them (per Nova cell) instead of one each; "
    "any refusal stops the batch before anything is written.",
)
@override_options("volume")
@output_options
@connection_options_for("cinder", "nova_api", "nova")
def volume(
    uuid: str | None,
    op: str,
    release: str,
    instances: tuple[str, ...],
    detach_nova: bool,
    cascade: bool,
    no_snapshot_gb_quota: bool,
    instance_name_template: str,
    from_file: str | None,
    batch: bool,
    out_dir: str,
    chunk_rows: int,
    allow_lint_failures: bool,
    fmt: str,
    **kwargs: object,
) -> None:
    """Generate a repair bundle for a Cinder volume.

    \b
    reset-detached    close the volume's attachments as Cinder's detach does and set its
                      status from what remains (--detach-nova: Nova's BDM too)
    detach-from-nova  Cinder says detached: soft-delete Nova's stale block_device_mapping
    soft-delete       what Cinder's own delete does for the release, quota usage recounted
    purge             hard-delete the volume and every row referencing it, quota recounted

    With no database given, the bundle is generated offline from the catalog of --release.
    """
    allow, stale_after = overrides_from(kwargs)
    targets = targets_from(kwargs)
    if not targets.any and release == "auto":
        raise FixpackError("no database given: pass connection options, or --release R to generate offline")
    if detach_nova and op != "reset-detached":
        raise FixpackError("--detach-nova is a reset-detached option (detach-from-nova always changes Nova)")
    if instances and op not in ("reset-detached", "detach-from-nova"):
        raise FixpackError(f"--instance narrows reset-detached and detach-from-nova, not {op}")
    if cascade and op not in ("soft-delete", "purge"):
        raise FixpackError(f"--cascade applies to soft-delete and purge, not {op}")
    uuids = read_uuid_file(from_file) if from_file else []
    if uuid:
        uuids.insert(0, validate_uuid(uuid, "volume UUID"))
    if not uuids:
        raise FixpackError("give a volume UUID (or --from-file FILE)")
    options = VolumeOptions(
        op=op,
        allow=allow,
        stale_after=stale_after,
        cascade=cascade,
        instances=tuple(validate_uuid(i, "instance UUID") for i in instances),
        detach_nova=detach_nova,
        no_snapshot_gb_quota=no_snapshot_gb_quota,
        instance_name_template=instance_name_template,
    )
    output = OutputOptions(
        out_dir=Path(out_dir), chunk_rows=chunk_rows, allow_lint_failures=allow_lint_failures
    )
    if batch:
        if not targets.any:
            raise FixpackError("--batch reads live rows: pass connection options")
        if len(set(uuids)) != len(uuids):
            raise FixpackError("the same UUID is listed twice")
        with progress_bar("batch", len(uuids) + 1) as progress:
            done = generate_volume_batch(
                [(u, options) for u in uuids],
                targets,
                release,
                output,
                all_or_nothing=True,
                progress=progress,
            )
        print_results(done.results, fmt)
        return
    print_results((generate_volume(one, options, targets, release, output) for one in uuids), fmt)


def register(cli: click.Group) -> None:
    cli.add_command(volume)
