"""The written-down role matrix is complete and admin holds every capability."""

from __future__ import annotations

import pytest

from okrledger.graphql.permissions import ROLE_MATRIX, Capability
from okrledger.services.identity import Principal, Role


def test_every_capability_has_a_row_in_the_matrix() -> None:
    assert set(ROLE_MATRIX) == set(Capability)


@pytest.mark.parametrize("capability", list(Capability))
def test_admin_holds_every_capability(capability: Capability) -> None:
    admin = Principal("root", "t-1", frozenset({Role.ADMIN}))

    assert admin.has(*ROLE_MATRIX[capability])


def test_only_admins_change_tenant_settings() -> None:
    others = [Principal("p", "t-1", frozenset({role})) for role in Role if role is not Role.ADMIN]

    assert not any(p.has(*ROLE_MATRIX[Capability.CHANGE_SETTINGS]) for p in others)


def test_only_admins_manage_webhooks() -> None:
    others = [Principal("p", "t-1", frozenset({role})) for role in Role if role is not Role.ADMIN]

    assert not any(p.has(*ROLE_MATRIX[Capability.MANAGE_WEBHOOKS]) for p in others)
