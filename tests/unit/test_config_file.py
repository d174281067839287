"""Settings from the TOML file OKRLEDGER_CONFIG names, under the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from okrledger.infra.settings import CONFIG_FILE_VARIABLE, ConfigFileError, Settings


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "okrledger.toml"
    monkeypatch.setenv(CONFIG_FILE_VARIABLE, str(path))
    for name in ("OKRLEDGER_PORT", "OKRLEDGER_POOL_MAX", "OIDC_ISSUER", "OKRLEDGER_METRICS"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_settings_come_from_the_file_by_name_or_by_variable(config: Path) -> None:
    config.write_text('port = 9100\nOKRLEDGER_POOL_MAX = 4\noidc_issuer = "https://id.example"\n')

    settings = Settings()

    assert (settings.port, settings.pool_max_size) == (9100, 4)
    assert settings.oidc_issuer == "https://id.example"


def test_the_environment_overrides_the_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text("port = 9100\nOKRLEDGER_METRICS = false\n")
    monkeypatch.setenv("OKRLEDGER_PORT", "9200")

    settings = Settings()

    assert settings.port == 9200
    assert settings.metrics is False


def test_an_unknown_key_in_the_file_is_refused(config: Path) -> None:
    config.write_text("prot = 9100\n")

    with pytest.raises(ValidationError) as refused:
        Settings()

    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [
        (("prot",), "extra_forbidden")
    ]


def test_a_bad_value_in_the_file_is_refused_on_its_setting(config: Path) -> None:
    config.write_text('port = "eighty"\n')

    with pytest.raises(ValidationError) as refused:
        Settings()

    assert [e["loc"] for e in refused.value.errors()] == [("OKRLEDGER_PORT",)]


def test_a_missing_file_is_a_configuration_error(config: Path) -> None:
    with pytest.raises(ConfigFileError, match="no such file"):
        Settings()


def test_a_file_that_is_not_toml_is_a_configuration_error(config: Path) -> None:
    config.write_text("port = \n")

    with pytest.raises(ConfigFileError, match="not valid TOML"):
        Settings()


def test_without_the_variable_no_file_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CONFIG_FILE_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "okrledger.toml").write_text("port = 9100\n")
    monkeypatch.delenv("OKRLEDGER_PORT", raising=False)

    assert Settings().port == 8000
