"""The `fixpack` command line: a thin click layer over the library.

Every command turns FixpackError into one line on stderr and a non-zero exit;
click's usage errors are folded to one line the same way.
"""

from __future__ import annotations

import sys

import click

from generator import __version__
from generator import errors as exitcodes
from generator.errors import FixpackError
from generator.quoting import UnsafeValue, terminal


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=exitcodes.epilog(),
)
@click.version_option(__version__, "--version", prog_name="fixpack")
def cli() -> None:
    """Compile OpenStack database repairs into reviewable, guarded, reversible bundles.

    fixpack never writes to a production database: it reads, plans, and writes a
    bundle directory that a human reviews and runs by hand.
    """


def _register() -> None:
    from generator.cli import schema_cmd

    cli.add_command(schema_cmd.schema)
    for module_name in (
        "vm_cmd",
        "volume_cmd",
        "quota_cmd",
        "review_cmd",
        "continue_cmd",
        "catalog_cmd",
        "scan_cmd",
        "orphans_cmd",
    ):
        try:
            module = __import__(f"generator.cli.{module_name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name == f"generator.cli.{module_name}":
                continue
            raise
        module.register(cli)


_register()


def main(argv: list[str] | None = None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="fixpack", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("fixpack: aborted", err=True)
        sys.exit(exitcodes.INTERRUPTED)
    except click.ClickException as exc:
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        click.echo(f"fixpack: error: {terminal(exc.format_message())}{hint}", err=True)
        sys.exit(exitcodes.USAGE)  # every click error is bad input (click's own FileError would say 1)
    except FixpackError as exc:  # messages quote database values: shown escaped, on one line
        click.echo(f"fixpack: error: {terminal(exc)}", err=True)
        sys.exit(exc.exit_code)
    except UnsafeValue as exc:  # a database value that cannot be put on a command line: refused
        click.echo(f"fixpack: error: {terminal(exc)}", err=True)
        sys.exit(exitcodes.REFUSED)
    except KeyboardInterrupt:
        click.echo("fixpack: interrupted", err=True)
        sys.exit(exitcodes.INTERRUPTED)
    sys.exit(rv if isinstance(rv, int) else exitcodes.OK)
