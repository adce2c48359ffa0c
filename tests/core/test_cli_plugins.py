"""The ``appliance`` command imports a plugin only when one of its commands runs."""
from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

from appliance import cli


def _registered() -> dict[str, tuple[str, str]]:
    """What each plugin's ``register`` adds, imported the slow way."""
    found: dict[str, tuple[str, str]] = {}
    for plugin in cli.PLUGINS:
        try:
            module = importlib.import_module(f"appliance.{plugin}.cli")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"appliance.{plugin}"):
                continue
            raise
        sub = argparse.ArgumentParser().add_subparsers()
        module.register(sub)
        for action in sub._choices_actions:
            found[action.dest] = (plugin, action.help or "")
    return found


def test_the_command_table_is_what_the_plugins_register():
    assert cli.PLUGIN_COMMANDS == _registered()
    order = [cli.PLUGINS.index(plugin) for plugin, _help in cli.PLUGIN_COMMANDS.values()]
    assert order == sorted(order)          # --help lists them as before: plugins in PLUGINS order


def test_the_command_is_found_after_the_global_options():
    assert cli.command_of(["--config", "import", "radius", "x"]) == "radius"
    assert cli.command_of(["-c", "a.yaml", "import", "f.csv"]) == "import"
    assert cli.command_of(["--config=a.yaml", "db", "migrate"]) == "db"
    assert cli.command_of(["--help"]) is None


def test_a_core_command_imports_no_plugin_and_help_lists_them_all():
    code = ("import sys; from appliance import cli; p = cli.build_parser(['balance', 'x']); "
            "print(sorted(m for m in sys.modules if m.endswith('.cli') or m.startswith('aiohttp'))); "
            "p.print_help()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "['appliance.cli']"
    for name in cli.PLUGIN_COMMANDS:
        assert f"    {name} " in out or f"    {name}\n" in out


def test_a_plugin_command_imports_its_plugin_only():
    code = ("import sys; from appliance import cli; cli.build_parser(['-c', 'x.yaml', 'import', 'f.csv']); "
            "print(sorted(m for m in sys.modules if m.endswith('.cli') or m.startswith('aiohttp')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['appliance.cli', 'appliance.provision.cli']"
    args = cli.build_parser(["user", "list"]).parse_args(["user", "list"])
    assert args.func.__module__ == "appliance.rest.cli"
