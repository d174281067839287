"""OKRLEDGER_CORS_ORIGINS takes origins only: what a browser sends, or it never matches."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from okrledger.infra.settings import Settings


def test_cors_origins_are_read_from_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKRLEDGER_CORS_ORIGINS", " https://okr.example.com, http://localhost:5173 ")

    assert Settings().cors_origins == ["https://okr.example.com", "http://localhost:5173"]


@pytest.mark.parametrize(
    "written", ["localhost:5173", "https://okr.example.com/", "https://okr.example.com/app"]
)
def test_a_cors_origin_that_is_not_an_origin_is_refused_with_the_way_to_write_it(
    written: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OKRLEDGER_CORS_ORIGINS", written)

    with pytest.raises(ValidationError, match="write it as scheme://host\\[:port\\]"):
        Settings()
