"""Stored payloads parsed with orjson give exactly what eventsourcing's JSONTranscoder gives,
errors included, for the inputs where the two parsers could part ways."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder

from okrledger.infra.codec import mapper

PAYLOADS = [
    b'{"a":1.5,"b":[0.1,{"c":2e3}]}',
    b'{"big":123456789012345678901234567890,"neg":-9223372036854775809}',
    b'{"top":18446744073709551615}',
    b'{"s":"\\ud800"}',
    b"[NaN, Infinity]",
    b'{"_type_":"decimal_str","_data_":"1.50"}',
    b'{"x":[{"_type_":"uuid_hex","_data_":"eadc4d2532c94018912f70b7ac281cb2"},{"_type_":1}]}',
    b'{"n":{"_type_":"decimal_str","_data_":"2","extra":1},"m":{"_type_":"date_iso"}}',
    b'{"deep":{"_type_":"decimal_str","_data_":{"_type_":"decimal_str","_data_":"3"}}}',
    b'{"_type_":"nope","_data_":1}',
    b'{"_type_":{"a":1},"_data_":1}',
    b'"\xff"',
    b"{}",
    b"not json",
]


def _outcome(decode: Any, payload: bytes) -> tuple[str, Any]:
    try:
        value = decode(payload)
    except Exception as e:  # the error is the outcome being compared
        return "error", (type(e), str(e))
    return "value", (type(value), repr(value))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_orjson_parsing_gives_what_the_json_module_gives(payload: bytes) -> None:
    fast = mapper().transcoder
    assert isinstance(fast, JSONTranscoder)
    stock = JSONTranscoder()
    stock.names, stock.types = fast.names, fast.types
    assert _outcome(fast.decode, payload) == _outcome(stock.decode, payload)
