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

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoding,
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
    transcoder = JSONTranscoder()
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
