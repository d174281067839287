"""Text inputs: no control characters, no lone surrogates, a length cap (graphql/text_input.py)."""

from __future__ import annotations

import pytest

from okrledger.graphql.text_input import MAX_TEXT, TRANSPORT_CAPS, in_value, refusal_of


@pytest.mark.parametrize("text", ["a\ud800", "\udfff", "\ud83d x"], ids=["high", "low", "split"])
def test_a_lone_surrogate_is_refused_naming_the_field(text: str) -> None:
    refused = refusal_of(text, "title")

    assert refused is not None
    assert refused.extensions == {"code": "VALIDATION", "field": "title"}
    assert "lone surrogates" in refused.message


def test_a_surrogate_pair_is_one_character_and_kept() -> None:
    assert refusal_of("launch \U0001f680", "title") is None


def test_a_command_id_is_capped_as_transport_and_other_text_at_the_common_cap() -> None:
    cap = TRANSPORT_CAPS["commandId"]

    assert refusal_of("c" * cap, "commandId") is None
    over = refusal_of("c" * (cap + 1), "commandId")
    assert over is not None and f"at most {cap} characters" in over.message
    assert refusal_of("r" * MAX_TEXT, "reason") is None
    assert refusal_of("r" * (MAX_TEXT + 1), "reason") is not None


def test_text_deep_in_variables_is_named_by_its_own_key() -> None:
    variables = {"input": {"readings": [{"source": "ok"}, {"source": "bad\x1b"}]}}

    refused = in_value(variables, "input")

    assert refused is not None
    assert refused.extensions == {"code": "VALIDATION", "field": "source"}
