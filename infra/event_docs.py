"""docs/events.md, generated from the public event contract so the two cannot drift.

`make docs` rewrites it; tests/unit/test_public_events.py fails when it is stale.
"""

from __future__ import annotations

import inspect
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from okrledger.projections.public_events import PUBLIC_TYPES, camel

DOC = Path(__file__).resolve().parent.parent / "docs" / "events.md"
INTRO = Path(__file__).resolve().parent.parent / "docs" / "events.intro.md"

_JSON_TYPES = {
    "UUID": "string (UUID)",
    "Decimal": "string (decimal number)",
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "datetime": "string (ISO-8601 UTC time)",
    "date": "string (ISO-8601 date)",
}


def _describe(annotation: str, owner: Any) -> str:
    parts = [p.strip() for p in annotation.split("|")]
    nullable = "None" in parts
    kinds = [p for p in parts if p != "None"]
    rendered = []
    for kind in kinds:
        if kind in _JSON_TYPES:
            rendered.append(_JSON_TYPES[kind])
            continue
        enum = getattr(inspect.getmodule(owner), kind, None)
        if isinstance(enum, type) and issubclass(enum, Enum):
            rendered.append("one of " + ", ".join(f"`{m.name}`" for m in enum))
        else:
            rendered.append(kind)
    text = " or ".join(rendered)
    return f"{text}, or null" if nullable else text


def _fields(event_class: type) -> dict[str, Any]:
    """The event's own fields, also when declared on an explicit (versioned) event class
    that the `@event` decorator subclasses."""
    found: dict[str, Any] = {}
    for klass in reversed(event_class.__mro__):
        if klass.__module__.startswith("okrledger."):
            found.update(vars(klass).get("__annotations__", {}))
    return found


def render() -> str:
    sections = []
    for event_class, name in sorted(PUBLIC_TYPES.items(), key=lambda item: item[1]):
        rows = [
            f"| `{camel(field)}` | {_describe(str(annotation), event_class)} |"
            for field, annotation in _fields(event_class).items()
        ]
        table = "\n".join(["| field | type |", "|---|---|", *rows]) if rows else "No fields."
        sections.append(f"### `{name}`\n\n{table}\n")
    return f"{INTRO.read_text().rstrip()}\n\n## Event types\n\n" + "\n".join(sections)


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if DOC.read_text() == render() else 1)
    DOC.write_text(render())
