"""Domain events <-> stored JSON, with eventsourcing's Mapper and JSONTranscoder.

Every Enum a domain module lists in its `ENUMS` tuple gets a transcoding, so
events round-trip to equal objects.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from datetime import date
from enum import Enum
from functools import cache
from typing import Any

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

import okrledger.domain
from okrledger.domain.objective import KeyResult, KeyResults
from okrledger.projections.recorded import RecordedEvent


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EnumAsName(Transcoding):
    def __init__(self, enum: type[Enum]) -> None:
        self.type = enum
        self.name = f"enum:{enum.__name__}"
        self._enum = enum

    def encode(self, obj: Enum) -> str:
        return obj.name

    def decode(self, data: str) -> Enum:
        return self._enum[data]


class DataclassAsDict(Transcoding):
    """A value object in an aggregate's state (snapshots), field by field."""

    def __init__(self, kind: type[Any]) -> None:
        self.type = kind
        self.name = f"value:{kind.__name__}"
        self._kind = kind

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self._kind(**data)


class KeyResultsAsList(Transcoding):
    type = KeyResults
    name = "key_results"

    def encode(self, obj: KeyResults) -> list[KeyResult]:
        return list(obj.values())

    def decode(self, data: list[KeyResult]) -> KeyResults:
        return KeyResults(data)


class _Unlike(Exception):
    """orjson read a value differently from the json module (a float, an integer over 64 bits)."""


class FastJSONTranscoder(JSONTranscoder):
    """JSONTranscoder that parses with orjson: the same objects, several times faster.

    Encoding is the json module's, so stored payloads stay byte for byte what they were.
    Whatever orjson refuses or might read differently (floats, integers beyond 64 bits,
    lone surrogates, NaN) goes to the json module, so decoding gives what it always gave.
    """

    def decode(self, data: bytes) -> Any:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            return super().decode(data)
        try:
            return self._revive(parsed)
        except _Unlike:
            return super().decode(data)

    def _revive(self, value: Any) -> Any:
        # Inside out, as the json module's object_hook sees them.
        kind = type(value)
        if kind is dict:
            for key, item in value.items():
                nested = type(item)
                if nested is dict:
                    # Most often a transcoded value of plain data: no need to go deeper.
                    if len(item) == 2 and "_type_" in item and type(item.get("_data_")) is str:
                        value[key] = self._transcoded(item["_type_"], item["_data_"])
                    else:
                        value[key] = self._revive(item)
                elif nested is list or nested is float:
                    value[key] = self._revive(item)
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self._transcoded(value["_type_"], value["_data_"])
            return value
        if kind is list:
            for n, item in enumerate(value):
                nested = type(item)
                if nested is dict or nested is list or nested is float:
                    value[n] = self._revive(item)
            return value
        if kind is float:
            raise _Unlike
        return value

    def _transcoded(self, name: Any, data: Any) -> Any:
        try:
            transcoding = self.names[name]
        except KeyError as e:
            raise TranscodingNotRegisteredError(
                f"Data serialized with name '{name}' is not deserializable. "
                "Please register a custom transcoding for this type."
            ) from e
        except TypeError:  # an unhashable name: let the json module raise its own error
            raise _Unlike from None
        return transcoding.decode(data)


def _declared(attribute: str) -> list[Any]:
    found: dict[str, Any] = {}
    for module_info in pkgutil.iter_modules(okrledger.domain.__path__):
        module = importlib.import_module(f"okrledger.domain.{module_info.name}")
        for kind in getattr(module, attribute, ()):
            found[kind.__name__] = kind
    return list(found.values())


def domain_enums() -> list[type[Enum]]:
    return _declared("ENUMS")


@cache
def mapper() -> Mapper[Any]:
    transcoder = FastJSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    for enum in domain_enums():
        transcoder.register(EnumAsName(enum))
    for value in _declared("VALUES"):
        transcoder.register(DataclassAsDict(value))
    transcoder.register(KeyResultsAsList())
    return Mapper(transcoder=transcoder)


def decode(record: RecordedEvent) -> Any:
    """The domain event object of a recorded event."""
    stored = StoredEvent(record.stream_id, record.version, record.topic, record.payload.encode())
    return mapper().to_domain_event(stored)
