"""Helpers shared by the bundle-generating commands."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterable

import click

from generator.errors import FixpackError
from generator.pipeline import BundleResult
from generator.plan.overrides import Overrides
from generator.quoting import terminal
from generator.render import change_table
from generator.secrets import mask_text

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def validate_uuid(value: str, what: str = "UUID") -> str:
    text = value.strip().lower()
    if not _UUID.match(text):
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise FixpackError(f"not a {what}: {shown!r} (expected 8-4-4-4-12 hex digits)")
    return text


MAX_UUID_FILE_BYTES = 64 * 1024 * 1024  # ~1.7 million UUID lines: far beyond any fleet batch


def read_uuid_file(path: str) -> list[str]:
    """UUIDs, one per line (`#` comments allowed), from a regular file or a pipe.

    Read with a size bound (`/dev/zero` or an endless pipe is refused, not read forever) and
    strict UTF-8; every problem is one line naming the file.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_UUID_FILE_BYTES + 1)
    except OSError as exc:
        raise FixpackError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_UUID_FILE_BYTES:
        raise FixpackError(f"{path}: larger than {MAX_UUID_FILE_BYTES // (1024 * 1024)} MiB: not a UUID list")
    try:
        text_all = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = data[: exc.start].count(b"\n") + 1
        raise FixpackError(f"{path}:{at}: not UTF-8 text (byte {data[exc.start]:#04x})") from None
    out = []
    for number, line in enumerate(text_all.splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            out.append(validate_uuid(text))
        except FixpackError as exc:
            raise FixpackError(f"{path}:{number}: {exc}") from None
    return out


def check_name_template(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    """click callback: an instance_name_template Nova could apply, else one usage line."""
    from generator.domain.nova import check_name_template as check

    try:
        return check(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def duration_param(_ctx: click.Context, _param: click.Parameter, value: str) -> object:
    """`--stale-after` and `scan --older-than`: the one staleness duration reader, one-line errors."""
    from generator.domain.staleness import parse_duration

    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def override_options(command: str) -> Callable[[Callable], Callable]:
    """One `--allow-<protection>` flag per protection the command has, `--stale-after`, and the
    retired `--force`, which now stops with one line naming the flags that replaced it (exit 2)."""
    from generator.domain.staleness import DEFAULT_STALE_AFTER, format_duration
    from generator.plan.overrides import OVERRIDES, flag, force_replaced

    def force(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            raise click.UsageError(force_replaced(command))

    options = [
        click.option(
            flag(name),
            f"allow_{name.replace('-', '_')}",
            is_flag=True,
            help=text,
        )
        for name, (users, text) in OVERRIDES.items()
        if command in users
    ]
    options += [
        click.option(
            "--stale-after",
            default=format_duration(DEFAULT_STALE_AFTER),
            show_default=True,
            metavar="DURATION",
            callback=duration_param,
            help="A transitional state (task_state, volume status) untouched this long is stuck, not "
            "work in progress (e.g. 30m, 2h, 1d).",
        ),
        click.option("--force", is_flag=True, hidden=True, is_eager=True, expose_value=False, callback=force),
    ]

    def decorate(func: Callable) -> Callable:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def overrides_from(kwargs: dict) -> tuple[Overrides, dt.timedelta]:
    """Pop the override flags and --stale-after out of a command's kwargs: (Overrides, timedelta)."""
    from generator.plan.overrides import OVERRIDES

    names = [n for n in OVERRIDES if kwargs.pop(f"allow_{n.replace('-', '_')}", False)]
    return Overrides(frozenset(names)), kwargs.pop("stale_after")


def output_options(func: Callable) -> Callable:
    for option in reversed(
        [
            click.option(
                "-o",
                "--out",
                "out_dir",
                default="out",
                show_default=True,
                help="Directory the bundle directory is written into.",
            ),
            click.option(
                "--chunk-rows",
                type=click.IntRange(1, 100000),
                default=1000,
                show_default=True,
                help="Most rows changed per transaction (Galera write-set limits, lock time).",
            ),
            click.option(
                "--allow-lint-failures",
                is_flag=True,
                help="Write the bundle even when its lint fails (the manifest records the findings).",
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["text", "json"]),
                default="text",
                show_default=True,
                help="text for people; json: the change table of every bundle written (its rows, steps, "
                "counts and digest) as one JSON document on stdout.",
            ),
        ]
    ):
        func = option(func)
    return func


def plural(count: object, noun: str) -> str:
    """`1 row`, `0 rows`, `20 rows` (never `1 rows`)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def print_result(result: BundleResult) -> None:
    """The bundle summary; findings, purposes and warnings carry database values: through `terminal`."""
    plan = result.plan
    click.echo(f"bundle: {terminal(result.path)}")
    click.echo(
        f"  {plan.target_kind} {terminal(' '.join(plan.targets))} — {plan.op}, release {plan.release}, "
        f"{plan.mode} generation"
    )
    for finding in plan.findings:
        click.echo(f"  found: {terminal(mask_text(finding))}")
    for step in result.manifest["steps"]:
        if step["phase"] == "apply":
            rows = f" ({plural(step['rows'], 'row')})" if "rows" in step else ""
            click.echo(f"  apply: {step['file']}{rows} — {terminal(step['purpose'])}")
    for warning in plan.warnings:
        click.echo(f"  warning: {terminal(mask_text(warning))}")
    lint = result.lint
    click.echo(
        f"  lint: {'passed' if lint.passed else f'{len(lint.findings)} finding(s)'} "
        f"({lint.seconds.get('total', 0):.2f}s, {lint.shapes_from_cache}/{lint.shapes} shapes cached)"
    )
    click.echo(f"  digest: {result.digest} (fixpack verify BUNDLE --expect DIGEST checks it is this bundle)")
    click.echo(f"  next: read {terminal(result.path / 'README.md')}")
    if os.environ.get("FIXPACK_TIMINGS"):  # benchmarks: where the time went, on stderr
        phases = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
        parts = ("structure", "sqlfluff", "shellcheck_wait")  # the lint phase's own breakdown
        phases += " (" + ", ".join(f"{p} {result.lint.seconds.get(p, 0):.2f}s" for p in parts)
        phases += f"; {result.lint.scripts_checked} shellcheck run(s))"
        click.echo(f"timings: {phases}, round trips {result.round_trips}", err=True)


def result_json(result: BundleResult) -> dict[str, object]:
    """One bundle for machines: where it is and its change table (render/change_table.py), stable keys."""
    plan = result.plan
    return {
        "bundle": str(result.path),
        "bundle_id": result.manifest["bundle_id"],
        "target": {"kind": plan.target_kind, "op": plan.op, "ids": list(plan.targets)},
        "release": plan.release,
        **change_table.as_json(change_table.build(plan), result.digest),
        "lint_passed": result.lint.passed,
        "findings": [mask_text(f) for f in plan.findings],
        "warnings": [mask_text(w) for w in plan.warnings],
    }


def print_results(results: Iterable[BundleResult], fmt: str) -> None:
    """Text: each bundle's summary as it is written. JSON: `{"bundles": [...]}` once all are written."""
    if fmt != "json":
        for result in results:
            print_result(result)
        return
    click.echo(json.dumps({"bundles": [result_json(r) for r in results]}, indent=2, default=str))
