"""What a command is, as the fingerprint its command id is bound to.

A command id answers a retry of its command with the first outcome; used again for
another command (another kind of change, another target, other input) it is refused.
The fingerprint tells the two apart: SHA-256 of the command's kind and its input as
canonical JSON, without the command id itself: keys sorted, decimals by value ("1.50"
and "1.5" are one input), times as given (RFC 3339, with their offset; a retry repeats
them, and turning thousands of a batch's times to UTC would cost more than the hash).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Set
from decimal import Decimal
from typing import Any

import orjson

# Names the command id goes by in a command's input; it is the key, not part of the command.
_COMMAND_ID = frozenset({"command_id", "commandId"})
_OPTIONS = orjson.OPT_SORT_KEYS


def command_fingerprint(kind: str, given: object) -> bytes:
    """The fingerprint of the command `kind` with input `given` (a dataclass or a mapping)."""
    text = orjson.dumps([kind, _fields(given)], default=_canonical, option=_OPTIONS)
    return hashlib.sha256(text).digest()


def _fields(given: object) -> dict[str, Any]:
    if dataclasses.is_dataclass(given) and not isinstance(given, type):
        return {
            f.name: getattr(given, f.name)
            for f in dataclasses.fields(given)
            if f.name not in _COMMAND_ID
        }
    if isinstance(given, Mapping):
        return {str(k): v for k, v in given.items() if k not in _COMMAND_ID}
    raise TypeError(f"a command's input is a dataclass or a mapping, not {type(given)!r}")


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value if value.is_nan() else value.normalize())
    if isinstance(value, Set):
        return sorted(value, key=str)
    # Anything else (an unset marker, a scalar type of a library): its text is its value.
    return str(value)
