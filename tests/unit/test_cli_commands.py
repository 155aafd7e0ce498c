"""The CLI's command table: each command's module is imported only when that command runs.

`generator.cli.COMMANDS` names, for every command, the module that registers it; the
group imports that module on first use. A command a module registers under a name the
table does not list would be unreachable, and a listed name no module registers would
fail only when typed: both are checked here, and a fresh interpreter shows that
`fixpack vm` does not import the other commands' modules (their start-up cost).
"""

from __future__ import annotations

import json
import subprocess
import sys

import click

from generator import cli as cli_module


def test_every_command_module_registers_exactly_the_names_the_table_lists() -> None:
    group = click.Group()
    for module_name in sorted(set(cli_module.COMMANDS.values())):
        module = __import__(f"generator.cli.{module_name}", fromlist=["register"])
        before = set(group.commands)
        if module_name == "schema_cmd":
            group.add_command(module.schema)
        else:
            module.register(group)
        added = set(group.commands) - before
        listed = {name for name, mod in cli_module.COMMANDS.items() if mod == module_name}
        assert added == listed, f"{module_name} registers {sorted(added)}, the table says {sorted(listed)}"


def test_one_command_loads_only_its_own_module() -> None:
    code = (
        "import json, sys\n"
        "from generator.cli import cli\n"
        "assert cli.get_command(None, 'vm') is not None\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('generator.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    others = {f"generator.cli.{m}" for m in cli_module.COMMANDS.values()} - {"generator.cli.vm_cmd"}
    assert "generator.cli.vm_cmd" in loaded
    assert not loaded & others, f"`vm` imported other command modules: {sorted(loaded & others)}"
    # nor what only other commands need: the scanner, rehearsals, seeding
    assert not {m.split(".")[1] for m in loaded} & {"scan", "rehearse", "seed", "scratch"}
