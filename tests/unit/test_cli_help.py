"""Every `okrledger` command and subcommand answers --help."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from okrledger.infra.cli import app


def command_paths(command: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # Typer builds on its own copy of click; a group is whatever has subcommands.
    subcommands: dict[str, object] = getattr(command, "commands", {})
    paths = [path]
    for name, sub in sorted(subcommands.items()):
        paths += command_paths(sub, (*path, name))
    return paths


ALL_COMMANDS = command_paths(typer.main.get_command(app))


def test_the_enumeration_finds_nested_commands() -> None:
    assert ("tenants", "list") in ALL_COMMANDS
    assert ("audit", "log") in ALL_COMMANDS


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda path: " ".join(path) or "okrledger")
def test_help_exits_0(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])

    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
