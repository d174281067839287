"""Who is calling: the subject, tenant and roles a verified access token names."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(Enum):
    ADMIN = "admin"  # everything, including tenant settings and webhooks
    EDITOR = "editor"  # goal and KPI commands
    VIEWER = "viewer"  # read
    AUDITOR = "auditor"  # read, including the full history and the audit log
    INTEGRATOR = "integrator"  # record KPI readings, read events, subscribe


@dataclass(frozen=True)
class Principal:
    """A caller whose token was verified; `subject` becomes the actor on every event."""

    subject: str
    tenant_id: str
    roles: frozenset[Role]
    client_id: str | None = None

    def has(self, *roles: Role) -> bool:
        """True when the caller holds any of `roles` (admin holds them all)."""
        return Role.ADMIN in self.roles or any(role in self.roles for role in roles)
