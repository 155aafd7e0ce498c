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

# command name -> the module under generator/cli that registers it. A command's module is
# imported only when that command runs (or --help lists them all): importing every command
# module up front (planners, renderers, lint, scan, rehearsal) cost ~0.7 s of CPU at every
# start, a third of a warm single-VM bundle.
COMMANDS = {
    "schema": "schema_cmd",
    "vm": "vm_cmd",
    "volume": "volume_cmd",
    "quota": "quota_cmd",
    "lint": "review_cmd",
    "verify": "review_cmd",
    "rehearse": "review_cmd",
    "continue": "continue_cmd",
    "scan": "scan_cmd",
    "allocation": "orphans_cmd",
    "mapping": "orphans_cmd",
}


class _LazyGroup(click.Group):
    """A click group whose commands are registered by their module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            load(COMMANDS[cmd_name])
        return self.commands.get(cmd_name)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=exitcodes.epilog(),
)
@click.version_option(__version__, "--version", prog_name="fixpack")
def cli() -> None:
    """Compile OpenStack database repairs into reviewable, guarded, reversible bundles.

    fixpack never writes to a production database: it reads, plans, and writes a
    bundle directory that a human reviews and runs by hand.
    """


_loaded: set[str] = set()


def load(module_name: str) -> None:
    """Import one command module and let it register its command(s) on `cli` (once)."""
    if module_name in _loaded:
        return
    _loaded.add(module_name)
    module = __import__(f"generator.cli.{module_name}", fromlist=["register"])
    if module_name == "schema_cmd":
        cli.add_command(module.schema)
    else:
        module.register(cli)


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
