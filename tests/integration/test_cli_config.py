"""The command line refuses a wrong configuration with exit code 2, naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from okrledger.infra.cli import app
from okrledger.infra.settings import CONFIG_FILE_VARIABLE


@pytest.fixture(autouse=True)
def no_config_afterwards(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--config` sets OKRLEDGER_CONFIG for worker processes; undo it after each test.
    (Set first, so that monkeypatch records it as absent before and removes it after.)"""
    for name in (CONFIG_FILE_VARIABLE, "OKRLEDGER_PORT"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def serve_with(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["serve", "--config", str(config)])
    return result.exit_code, result.output


def test_an_unknown_key_exits_2_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "okrledger.toml"
    config.write_text("prot = 9100\n")

    code, output = serve_with(config)

    assert code == 2
    assert "invalid configuration" in output
    assert "prot: not a setting" in output


def test_a_bad_value_exits_2_naming_the_setting_and_the_value(tmp_path: Path) -> None:
    config = tmp_path / "okrledger.toml"
    config.write_text('port = "eighty"\n')

    code, output = serve_with(config)

    assert code == 2
    assert "OKRLEDGER_PORT: Input should be a valid integer" in output
    assert "'eighty'" in output


def test_a_bad_environment_variable_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKRLEDGER_PORT", "eighty")

    result = CliRunner().invoke(app, ["migrate", "--data-dir", str(tmp_path)])

    assert result.exit_code == 2
    assert "OKRLEDGER_PORT" in result.output


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, output = serve_with(tmp_path / "absent.toml")

    assert code == 2
    assert "no such file" in output


def test_a_file_that_is_not_toml_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "okrledger.toml"
    config.write_text("port = = 1\n")

    code, output = serve_with(config)

    assert code == 2
    assert "not valid TOML" in output
