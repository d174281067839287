"""The written-down role matrix is complete and admin holds every capability; a payload
field reads under the rule of the query that reads the same object."""

from __future__ import annotations

from typing import cast

import pytest
from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
)

from okrledger.graphql.permissions import (
    ROLE_MATRIX,
    CanEditKpis,
    CanManageWebhooks,
    Capability,
)
from okrledger.graphql.schema import schema
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


def _permissions(field: GraphQLField) -> set[type]:
    return set(field.extensions["strawberry-definition"].permission_classes)


def _payload_read_backs() -> list[tuple[str, str, GraphQLField, set[type]]]:
    """Every field of a mutation payload whose object type a query reads too, with the
    permissions of those queries."""
    built = schema._schema
    assert built.query_type is not None and built.mutation_type is not None
    readers: dict[str, set[type]] = {}
    for query in built.query_type.fields.values():
        if isinstance(get_named_type(query.type), GraphQLObjectType):  # objects, not scalars
            readers.setdefault(get_named_type(query.type).name, set()).update(_permissions(query))
    payloads = {
        member
        for mutation in built.mutation_type.fields.values()
        for member in cast(GraphQLUnionType, get_named_type(mutation.type)).types
        if member.name.endswith("Payload")
    }
    return [
        (payload.name, name, field, readers[get_named_type(field.type).name])
        for payload in payloads
        for name, field in payload.fields.items()
        if get_named_type(field.type).name in readers
    ]


def test_payloads_read_objects_back_in_every_area() -> None:
    read_back = {(payload, name) for payload, name, _, _ in _payload_read_backs()}

    assert ("RecordKpiReadingPayload", "kpi") in read_back
    assert ("SetObjectivePayload", "objective") in read_back
    assert ("StartCyclePayload", "cycle") in read_back
    assert ("RegisterWebhookPayload", "webhook") in read_back


@pytest.mark.parametrize(
    ("payload", "name", "field", "needed"),
    [pytest.param(*case, id=f"{case[0]}.{case[1]}") for case in _payload_read_backs()],
)
def test_a_payload_field_requires_what_the_query_reading_the_same_object_requires(
    payload: str, name: str, field: GraphQLField, needed: set[type]
) -> None:
    assert needed <= _permissions(field)
    # Nullable where the field can be refused while the command succeeded.
    assert not isinstance(field.type, GraphQLNonNull) or needed == {CanManageWebhooks}


def test_integrators_record_readings_but_only_kpi_editors_correct_them() -> None:
    integrator = Principal("feed", "t-1", frozenset({Role.INTEGRATOR}))
    built = schema._schema
    assert built.mutation_type is not None
    correct = built.mutation_type.fields["correctKpiReading"]

    assert integrator.has(*ROLE_MATRIX[Capability.RECORD_KPI_READINGS])
    assert _permissions(correct) == {CanEditKpis}
    assert not integrator.has(*ROLE_MATRIX[Capability.EDIT_KPIS])
