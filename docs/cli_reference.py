"""Write docs/cli.md from the commands' own --help, so the reference never drifts.

Run `python docs/cli_reference.py` after changing a command; tests/test_cli_reference.py fails
when docs/cli.md is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mlops_cards.cli import cli

OUTPUT = Path(__file__).with_name("cli.md")


def help_text(command: click.Command, name: str, parent: click.Context | None = None) -> str:
    with click.Context(
        command,
        info_name=name,
        parent=parent,
        terminal_width=100,
        help_option_names=["-h", "--help"],
    ) as ctx:
        return command.get_help(ctx)


def render() -> str:
    parts = [
        "# Command-line reference",
        "",
        "Generated from `--help` by `python docs/cli_reference.py`; do not edit by hand.",
        "",
        "```",
        help_text(cli, "mlops-cards"),
        "```",
    ]
    root = click.Context(cli, info_name="mlops-cards")
    for name in sorted(cli.list_commands(root)):
        command = cli.get_command(root, name)
        assert command is not None
        parts += ["", f"## mlops-cards {name}", "", "```", help_text(command, name, root), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")
