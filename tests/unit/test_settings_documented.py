"""Every setting is in the README's configuration table (webhook ones in docs/webhooks.md)."""

from __future__ import annotations

from pathlib import Path

from okrledger.infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_by_its_variable_name() -> None:
    documented = (ROOT / "README.md").read_text() + (ROOT / "docs" / "webhooks.md").read_text()

    names = [str(f.validation_alias or n.upper()) for n, f in Settings.model_fields.items()]

    assert [name for name in names if f"`{name}`" not in documented] == []
