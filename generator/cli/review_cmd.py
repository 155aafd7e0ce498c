"""`fixpack lint|verify|rehearse BUNDLE`: what a reviewer and CI do with a bundle.

Exit codes: 0 clean / intact and applicable / rehearsal passed; 1 a finding,
a tampered or drifted bundle, a failed rehearsal; 2+ bad input or
environment (FixpackError: one line on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from generator import errors as exitcodes
from generator.cli.options import connection_options, targets_from
from generator.errors import FixpackError
from generator.lint.report import LintReport
from generator.quoting import terminal
from generator.rehearse.backends import CHOICES, open_backend
from generator.rehearse.report import junit_xml
from generator.rehearse.runner import Rehearsal
from generator.rehearse.synthetic import can_synthesize, synthetic_vm_targets
from generator.review.bundle import Bundle
from generator.review.expect import DIGEST_FORMAT, check_expected
from generator.review.lint import lint_bundle
from generator.review.verify import VerifyReport, verify_bundle
from generator.scratch.provider import DEFAULT_IMAGE

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for pipelines.",
)


def _lines(lines: list[str]) -> str:
    """Report lines for a terminal: each through `terminal` (values from the bundle or the databases)."""
    return "".join(terminal(line) + "\n" for line in lines)


def _finish(ok: bool) -> None:
    if not ok:
        raise click.exceptions.Exit(exitcodes.FINDINGS)


# -- lint ---------------------------------------------------------------------------------
def lint_text(bundle: Bundle, report: LintReport) -> str:
    """`file:line: CODE [tool] message` per finding, between a summary and a verdict line."""
    lines = [
        f"lint {bundle.bundle_id}: {len(report.files)} file(s); sqlfluff {report.shapes} statement shape(s) "
        f"({report.shapes_from_cache} cached), shellcheck {report.scripts} script(s) "
        f"({report.scripts_from_cache} cached); {report.seconds.get('total', 0):.2f}s",
        f"  tools: {', '.join(f'{k} {v}' for k, v in report.tools.items())}",
    ]
    lines += [f.describe() for f in report.findings]
    lines.append("PASSED: no findings" if report.passed else f"FAILED: {len(report.findings)} finding(s)")
    return _lines(lines)


@click.command("lint", short_help="Re-run lint (sqlfluff, FX rules, shellcheck) on a bundle.")
@click.argument("bundle")
@FORMAT
@click.option(
    "--no-cache", is_flag=True, help="Ignore the on-disk lint caches (re-run sqlfluff and shellcheck)."
)
def lint(bundle: str, fmt: str, no_cache: bool) -> None:
    """Run generation's checks again on a bundle as it is on disk.

    sqlfluff (mysql dialect, fixpack's configuration), fixpack's structural rules
    FX001-FX005 against the schema the bundle recorded, and shellcheck on every
    shell script. Exit 1 on any finding.
    """
    b = Bundle.open(bundle)
    report = lint_bundle(b, use_cache=not no_cache)
    if fmt == "json":
        click.echo(
            json.dumps({"bundle_id": b.bundle_id, "bundle": str(b.path), **report.as_dict()}, indent=2)
        )
    else:
        click.echo(lint_text(b, report), nl=False)
    _finish(report.passed)


# -- verify -------------------------------------------------------------------------------
def verify_text(report: VerifyReport) -> str:
    bad = report.tampered
    lines = [f"verify {report.bundle_id}"]
    listed = [f for f in report.files if f.status not in ("extra", "produced", "captured")]
    lines.append(
        f"  files: {len(listed)} checked, "
        + (f"{len(bad)} differ from the manifest" if bad else "all match the manifest (sha256)")
    )
    lines += [f"    {f.describe()}" for f in report.files if f.status != "ok"]
    for d in report.live or ():
        lines.append(f"  {d.role}: {d.label}" + (f" at {d.where}" if d.where else ""))
        if d.problem:
            lines.append(f"    NOT CHECKED: {d.problem}")
            continue
        if d.schema_ok:
            lines.append("    schema: fingerprint matches generation")
            lines += [f"    {x}" for x in (d.offline.describe() if d.offline else [])]
        else:
            lines.append(
                f"    schema: CHANGED (generation {d.fingerprint_expected}, now {d.fingerprint_found})"
            )
            lines += [f"      {x}" for x in d.schema_differences[:20]]
        counts: dict[str, int] = {}
        for g in d.guards:
            counts[g.state] = counts.get(g.state, 0) + 1
        if d.guards:
            lines.append("    guards: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
        chunks = d.chunks
        if chunks["applied"] and chunks["pending"]:
            lines.append(
                f"    chunks: applied {_ranges(chunks['applied'])}; pending {_ranges(chunks['pending'])}"
                + (f" (the apply stops at chunk {chunks['drift'][0]})" if chunks["drift"] else "")
            )
        lines += [f"      {g.describe()}" for g in d.guards if g.state == "drift"]
        for chunk in d.inconsistent_chunks:
            lines.append(f"      chunk {chunk}: some steps done, some pending (the apply would stop there)")
        if d.drift:
            lines.append("    drift, row by row (as the bundle expects -> as found now):")
            lines += [f"      {x}" for x in d.drift[:50]]
    lines += [f"  note: {n}" for n in report.notes]
    lines.append(("PASSED: " if report.passed else "FAILED: ") + report.verdict)
    return _lines(lines)


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> '1-3, 5'."""
    out: list[str] = []
    for n in numbers:
        if out and n == int(out[-1].split("-")[-1]) + 1:
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def _digest(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not DIGEST_FORMAT.fullmatch(value.strip()):
        raise click.BadParameter("expected sha256: and 64 hex digits, as the change table shows it")
    return value.strip() if value else None


@click.command("verify", short_help="Is a bundle intact, and will it apply, is it applied, or drifted?")
@click.argument("bundle")
@FORMAT
@click.option(
    "--expect",
    metavar="DIGEST",
    callback=_digest,
    help="Fail unless the bundle on disk is byte for byte the one whose change table showed this digest.",
)
@connection_options
def verify(bundle: str, fmt: str, expect: str | None, **kwargs: object) -> None:
    """Check a bundle is intact and, given databases, that it still applies.

    \b
    Offline: every file's sha256 against the manifest (tampering is reported by file).
    Live, read-only (with connection options): each database's schema fingerprint,
    every guard's precondition measured now (rows in scope, row fingerprints), and
    what drifted, row by row. An offline bundle (no rows recorded) has its own precheck
    and verify questions asked now: it WILL APPLY, is ALREADY APPLIED, PARTIALLY APPLIED
    or DRIFTED. Nothing is written. Exit 1 when anything fails.

    \b
    --expect DIGEST (the digest of the change table you reviewed): first, any file
    changed, added or removed since is one FAILED line naming it, exit 1.
    """
    targets = targets_from(kwargs)
    expected = None
    if expect is not None:
        if not Path(bundle).is_dir():
            raise FixpackError(f"not a bundle directory: {bundle}")
        expected = check_expected(Path(bundle), expect)
        if not expected.matches:
            if fmt == "json":
                click.echo(json.dumps({"bundle": bundle, "passed": False, "digest": expected.as_dict()}))
            else:
                click.echo(terminal(f"FAILED: {expected.problem}"))
            raise click.exceptions.Exit(exitcodes.FINDINGS)
    b = Bundle.open(bundle)
    report = verify_bundle(b, targets)
    if expected is not None:
        report.notes.insert(
            0, f"digest {expected.found} is the one expected: the bundle reviewed, byte for byte"
        )
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        click.echo(verify_text(report), nl=False)
    _finish(report.passed)


# -- rehearse -----------------------------------------------------------------------------
@click.command("rehearse", short_help="Run bundles end to end on a scratch server, as their runbooks say.")
@click.argument("bundles", nargs=-1, required=True)
@click.option(
    "--backend",
    default="auto",
    show_default=True,
    metavar="|".join(CHOICES),
    help="Scratch server: testcontainers (docker), private local server, $FIXPACK_TEST_DB_URL (env), "
    "or an existing scratch server (url:mysql://user:pass@host:port).",
)
@click.option(
    "--image",
    default=DEFAULT_IMAGE,
    show_default=True,
    envvar="FIXPACK_DOCKER_IMAGE",
    show_envvar=True,
    help="docker backend: the server image.",
)
@FORMAT
@click.option(
    "--junit", "junit", metavar="FILE", help="Also write a JUnit XML report (one testcase per step)."
)
@click.option(
    "--timeout", type=click.FloatRange(1, 86400), default=600, show_default=True, help="Seconds per SQL file."
)
@click.option(
    "--synthetic/--no-synthetic",
    default=True,
    show_default=True,
    help="Offline VM bundles (no recorded rows): rehearse against a stuck instance with the bundle's UUID, "
    "seeded the way Nova writes it.",
)
def rehearse(
    bundles: tuple[str, ...],
    backend: str,
    image: str,
    fmt: str,
    junit: str | None,
    timeout: float,
    synthetic: bool,
) -> None:
    """Run bundles end to end on a scratch server, exactly as their runbooks say.

    Loads each bundle's release schema and recorded rows into fresh databases,
    runs precheck, apply, verify, apply again, rollback and rollback again with
    the real mysql/mariadb client, and checks every table between phases: the
    apply changed only recorded rows, re-runs changed nothing, and the rollback
    restored every table identically. Exit 1 when any bundle fails.
    """
    opened = [Bundle.open(path) for path in bundles]  # every bad path is reported before a server starts
    server = open_backend(backend, image=image)
    reports = []
    try:
        for b in opened:
            prepare = synthetic_vm_targets(b) if synthetic and can_synthesize(b) else None
            rehearsal = Rehearsal(b, server, timeout=timeout, prepare=prepare)
            if prepare is not None:
                rehearsal.report.notes.append(
                    "offline bundle: rehearsed against synthetic rows (a stuck instance with the bundle's "
                    "UUID and bystanders, seeded by fixpack), not the operator's data"
                )
            reports.append(rehearsal.run())
            if fmt == "text":
                click.echo(_lines(reports[-1].to_text().splitlines()), nl=False)
    finally:
        server.stop()
    if junit:
        try:
            Path(junit).write_text(junit_xml(reports), encoding="utf-8")
        except OSError as exc:
            raise FixpackError(f"cannot write the JUnit report {junit}: {exc.strerror}") from None
    passed = all(r.passed for r in reports)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "passed": passed,
                    "backend": server.backend,
                    "server": server.description,
                    "bundles": [r.as_dict() for r in reports],
                },
                indent=2,
            )
        )
    elif len(reports) > 1:
        failed = [r.bundle_id for r in reports if not r.passed]
        click.echo(
            f"{len(reports) - len(failed)}/{len(reports)} bundle(s) passed"
            + (f"; failed: {terminal(', '.join(failed))}" if failed else "")
        )
    sys.stdout.flush()
    _finish(passed)


def register(cli: click.Group) -> None:
    for command in (lint, verify, rehearse):
        cli.add_command(command)
