"""The hash chain over a tenant's log, checked in Python: against the database or an export.

hash(n) = SHA-256(hash(n-1) || UTF-8 canonical text of event n), with hash(0) = b"".
The canonical text is built by PostgreSQL (`event_canonical`, migration 0007) and is
exported verbatim, so an export can be verified with nothing but this module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

EXPORT_FORMAT = "okrledger-audit-export/1"


@dataclass(frozen=True)
class ChainLink:
    position: int
    canonical: str
    hash: bytes


@dataclass(frozen=True)
class ChainCheck:
    """`ok`, or the first position where the chain breaks and why."""

    checked: int
    last_position: int | None
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def next_hash(previous: bytes, canonical: str) -> bytes:
    return hashlib.sha256(previous + canonical.encode()).digest()


class ChainWalker:
    """Checks links one at a time, in position order, so a chain of any length streams."""

    def __init__(self, *, previous: bytes, first_position: int) -> None:
        self.previous = previous
        self.expected = first_position
        self.checked = 0
        self.last: int | None = None
        self.broken: ChainCheck | None = None

    def step(self, link: ChainLink) -> bool:
        """False (and `result()` says why) once the chain is broken."""
        if self.broken is not None:
            return False
        if link.position != self.expected:
            return self._break(self.expected, f"position {self.expected} is missing")
        if _claimed_position(link.canonical) != link.position:
            return self._break(link.position, "the event names another position")
        computed = next_hash(self.previous, link.canonical)
        if computed != link.hash:
            return self._break(link.position, "the event does not match its stored hash")
        self.previous = computed
        self.expected += 1
        self.checked += 1
        self.last = link.position
        return True

    def result(self) -> ChainCheck:
        return self.broken or ChainCheck(self.checked, self.last)

    def _break(self, position: int, problem: str) -> bool:
        self.broken = ChainCheck(self.checked, self.last, position, problem)
        return False


def check_links(links: Iterable[ChainLink], *, previous: bytes, first_position: int) -> ChainCheck:
    """Walk `links` in order from `first_position`, chaining from `previous`."""
    walker = ChainWalker(previous=previous, first_position=first_position)
    for link in links:
        if not walker.step(link):
            break
    return walker.result()


def export_header(tenant_id: str, from_position: int, previous: bytes) -> bytes:
    return orjson.dumps(
        {
            "format": EXPORT_FORMAT,
            "tenant": tenant_id,
            "fromPosition": from_position,
            "previousHash": previous.hex(),
        }
    )


def export_line(link: ChainLink) -> bytes:
    return orjson.dumps(
        {"position": link.position, "hash": link.hash.hex(), "event": link.canonical}
    )


class InvalidExport(ValueError):
    """The file is not an okrledger audit export."""


def verify_export(lines: Iterable[bytes | str]) -> ChainCheck:
    """Check an export file's chain, offline; streams, so any size fits in memory."""
    iterator = iter(lines)
    try:
        header = orjson.loads(next(iterator))
    except (StopIteration, orjson.JSONDecodeError):
        raise InvalidExport("empty file or not JSON lines") from None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise InvalidExport(f"the first line must be an {EXPORT_FORMAT} header")

    def links() -> Iterable[ChainLink]:
        for number, line in enumerate(iterator, start=2):
            if not line.strip():
                continue
            try:
                entry = orjson.loads(line)
                yield ChainLink(entry["position"], entry["event"], bytes.fromhex(entry["hash"]))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                raise InvalidExport(f"line {number} is not an export entry") from None

    return check_links(
        links(),
        previous=bytes.fromhex(header["previousHash"]),
        first_position=int(header["fromPosition"]),
    )


def _claimed_position(canonical: str) -> int | None:
    try:
        value = orjson.loads(canonical).get("position")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, int) else None
