"""`fixpack schema detect|diff|show|releases`."""

from __future__ import annotations

import json
import sys

import click

from generator import catalog
from generator import errors as exitcodes
from generator.catalog.detect import KIND_LABELS, Detection, combine, detect
from generator.cli.options import connection_options, targets_from
from generator.connect import open_session
from generator.connect.cells import discover_cells
from generator.connect.sources import ConnectionTargets, ResolvedURL
from generator.errors import ConnectionProblem, FixpackError
from generator.quoting import terminal
from generator.schema.diff import diff_snapshots
from generator.schema.live import snapshot_from_session
from generator.schema.model import DATABASE_KINDS

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output for humans or machines.",
)


@click.group(short_help="Detect releases, diff live schemas, show the bundled catalog.")
def schema() -> None:
    """Inspect databases and the bundled schema catalog."""


def _live_targets(targets: ConnectionTargets) -> list[ResolvedURL]:
    """The databases given, plus every cell found from nova_api unless a cell URL was given explicitly.

    `--nova-conf` gives both nova_api ([api_database]) and one cell ([database]): the cells are
    still listed from cell_mappings, as with `--nova-api-url` (the conf's own cell once).
    """
    if not targets.any:
        raise ConnectionProblem(
            "no database given: pass --nova-api-url/--nova-url/--placement-url/"
            "--cinder-url, --nova-conf/--placement-conf/--cinder-conf, or "
            "FIXPACK_*_URL"
        )
    found = list(targets.resolved.values())
    api, nova = targets.get("nova_api"), targets.get("nova")
    explicit_cell = nova is not None and not nova.source.endswith("[database] connection")
    if api and not explicit_cell:
        seen = {(t.url.host, t.url.port, t.url.database) for t in found}
        with open_session(api, targets) as session:
            _ = detect(session, "nova_api")
            for cell in discover_cells(session, api.url, targets.cell_overrides):
                if cell.url is None:
                    raise ConnectionProblem(f"{cell.label}: {cell.problem}")
                if (cell.url.host, cell.url.port, cell.url.database) in seen:
                    continue
                found.append(ResolvedURL("nova", cell.url, f"{cell.label} (cell_mappings)"))
    return found


@schema.command("detect", short_help="Which service and release each database is at, and how sure.")
@connection_options
@FORMAT
def detect_cmd(fmt: str, **kwargs: object) -> None:
    """Report which service and release each database is at, and how sure.

    Reads alembic_version / migrate_version, the tables present and, for Nova
    cell databases, nova-compute service versions; then compares the live
    schema with the catalog release it matched.
    """
    targets = targets_from(kwargs)
    results = []
    for target in _live_targets(targets):
        with open_session(target, targets, label=target.source) as session:
            det = detect(session, None)
            drift = None
            if det.release:
                live = snapshot_from_session(session)
                drift = len(diff_snapshots(catalog.catalog_snapshot(det.release, det.kind), live))
            results.append((target, det, drift))
    overall = combine([d for _, d, _ in results])
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "databases": [_detection_json(t, d, drift) for t, d, drift in results],
                    "common_releases": list(overall),
                },
                indent=2,
            )
        )
    else:
        for target, det, drift in results:
            _print_detection(target, det, drift)
        if len(results) > 1:
            _say(
                "all databases consistent with: "
                + (", ".join(overall) if overall else "no single release (mixed upgrade?)")
            )
    if any(d.confidence == "unsupported" for _, d, _ in results):
        sys.exit(exitcodes.SCHEMA)


def _detection_json(target: ResolvedURL, det: Detection, drift: int | None) -> dict:
    return {
        "source": target.source,
        "url": target.url.redacted(),
        "database": det.database,
        "kind": det.kind,
        "release": det.release,
        "candidates": list(det.candidates),
        "confidence": det.confidence,
        "reason": det.reason,
        "markers": {
            "alembic_version": list(det.markers.alembic),
            "migrate_version": det.markers.migrate_version,
            "compute_service_versions": list(det.markers.compute_versions),
        },
        "differences_from_catalog": drift,
    }


def _say(text: str) -> None:
    """One output line; database names, alembic versions and reasons come from the databases."""
    click.echo(terminal(text))


def _print_detection(target: ResolvedURL, det: Detection, drift: int | None) -> None:
    if det.candidates:
        rel = det.candidates[0] if len(det.candidates) == 1 else f"one of {', '.join(det.candidates)}"
    else:
        rel = "not in the catalog"
    _say(
        f"{target.source}: {KIND_LABELS[det.kind]} database {det.database!r} — "
        f"release {rel} [{det.confidence}]"
    )
    _say(
        f"  markers: alembic_version={','.join(det.markers.alembic) or '-'}"
        f" migrate_version={det.markers.migrate_version if det.markers.migrate_version is not None else '-'}"
        + (
            f" nova-compute versions={','.join(map(str, det.markers.compute_versions)) or '-'}"
            if det.kind == "nova"
            else ""
        )
    )
    _say(f"  why: {det.reason}")
    if drift is not None:
        _say(
            "  schema: identical to the catalog"
            if drift == 0
            else f"  schema: {drift} difference(s) from catalog {det.release} "
            f"(fixpack schema diff --release {det.release})"
        )


@schema.command("diff", short_help="What differs between live databases and a catalog release.")
@click.option("--release", required=True, help="Catalog release to compare with.")
@connection_options
@FORMAT
def diff_cmd(release: str, fmt: str, **kwargs: object) -> None:
    """List what differs between live databases and the catalog release.

    Exit status 0: no differences; 1: differences found.
    """
    rel = catalog.get_release(release)
    targets = targets_from(kwargs)
    report = []
    for target in _live_targets(targets):
        with open_session(target, targets, label=target.source) as session:
            det = detect(session, None)
            live = snapshot_from_session(session)
        diffs = diff_snapshots(catalog.catalog_snapshot(rel.name, det.kind), live)
        report.append((target, det, diffs))
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "source": t.source,
                        "database": d.database,
                        "kind": d.kind,
                        "release": rel.name,
                        "differences": [vars(x) for x in diffs],
                    }
                    for t, d, diffs in report
                ],
                indent=2,
            )
        )
    else:
        for target, det, diffs in report:
            _say(
                f"{target.source}: {KIND_LABELS[det.kind]} {det.database!r} vs catalog "
                f"{rel.name}: " + (f"{len(diffs)} difference(s)" if diffs else "identical")
            )
            for d in diffs:
                _say(f"  {d.describe()}")
    if any(diffs for _, _, diffs in report):
        sys.exit(exitcodes.FINDINGS)


@schema.command("show", short_help="Show the catalog schema of a release (no database needed).")
@click.option("--release", required=True, help="Catalog release.")
@click.option(
    "--database",
    "kind",
    type=click.Choice(DATABASE_KINDS),
    default=None,
    help="Only this database (default: all four).",
)
@click.option("--table", default=None, help="Only this table.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "ddl"]), default="text", show_default=True
)
def show_cmd(release: str, kind: str | None, table: str | None, fmt: str) -> None:
    """Show the catalog schema of a release (offline; no database needed)."""
    rel = catalog.get_release(release)
    kinds = [kind] if kind else list(DATABASE_KINDS)
    shown = 0
    out_json = {}
    for k in kinds:
        snap = catalog.catalog_snapshot(rel.name, k)
        tables = [t for t in snap.tables if table is None or t.name == table]
        shown += len(tables)
        if fmt == "json":
            out_json[k] = [
                vars(t)
                | {
                    "columns": [vars(c) for c in t.columns],
                    "indexes": [vars(i) for i in t.indexes],
                    "foreign_keys": [vars(f) for f in t.foreign_keys],
                }
                for t in tables
            ]
            continue
        if fmt == "ddl":
            from generator.schema.ddl import iter_create_tables, parse_create_table

            for stmt in iter_create_tables(catalog.catalog_ddl(rel.name, k)):
                if table is None or parse_create_table(stmt).name == table:
                    click.echo(stmt + ";\n")
            continue
        for t in tables:
            click.echo(f"{k}.{t.name}  (primary key: {', '.join(t.primary_key) or '-'})")
            for c in t.columns:
                click.echo(
                    f"  {c.name:<32} {c.type:<28} {'NULL' if c.nullable else 'NOT NULL'}"
                    + (f" DEFAULT {c.default}" if c.default not in (None, "NULL") else "")
                    + (" AUTO_INCREMENT" if c.auto_increment else "")
                )
            for ix in t.indexes:
                click.echo(f"  {'unique' if ix.unique else 'index'} {ix.name} ({', '.join(ix.columns)})")
            for fk in t.foreign_keys:
                click.echo(
                    f"  fk {fk.name} ({', '.join(fk.columns)}) -> {fk.ref_table}"
                    f"({', '.join(fk.ref_columns)})" + (f" ON DELETE {fk.on_delete}" if fk.on_delete else "")
                )
    if fmt == "json":
        click.echo(json.dumps(out_json, indent=2))
    if table and not shown:
        raise FixpackError(f"no table {table!r} in catalog {rel.name}" + (f" {kind}" if kind else ""))


@schema.command("releases", short_help="List the catalog's releases and their schema markers.")
@FORMAT
def releases_cmd(fmt: str) -> None:
    """List the releases in the bundled catalog and their schema markers."""
    rels = catalog.releases()
    if fmt == "json":
        click.echo(json.dumps([vars(r) for r in rels], indent=2))
        return
    click.echo(
        f"{'release':<9} {'codename':<10} {'nova':<13} {'nova_api':<13} {'placement':<13} "
        f"{'cinder':<13} compute-svc"
    )
    for r in rels:
        click.echo(
            f"{r.name:<9} {r.codename:<10} {r.heads['nova']:<13} {r.heads['nova_api']:<13} "
            f"{r.heads['placement']:<13} {r.heads['cinder']:<13} {r.compute_service_version}"
        )
