"""The base of every refusal the domain can give.

Each bounded context (cycles, objectives, KPIs) subclasses `DomainError` at the
bottom of its own module. A refusal changes nothing and carries what a person
(or an SPA) needs to act on it.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by a business rule; nothing was changed."""

    code: str = "VALIDATION"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing a command refers to does not exist (in this tenant)."""

    code = "NOT_FOUND"


class InvalidValue(DomainError):
    """A value is malformed or out of range."""
