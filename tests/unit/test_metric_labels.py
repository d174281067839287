"""Operation names become labels only while their number stays bounded."""

from __future__ import annotations

from okrledger.infra.metrics import OperationNames
from okrledger.infra.metrics_http import endpoint_of


def test_an_unnamed_operation_is_anonymous() -> None:
    assert OperationNames().label(None) == "anonymous"


def test_a_well_formed_name_is_its_own_label() -> None:
    assert OperationNames().label("ObjectivesOfCycle") == "ObjectivesOfCycle"


def test_a_malformed_or_overlong_name_is_other() -> None:
    names = OperationNames()

    assert names.label("drop table; --") == "other"
    assert names.label("A" * 65) == "other"


def test_names_beyond_the_limit_are_other_but_known_ones_stay() -> None:
    names = OperationNames(limit=2)
    names.label("First")
    names.label("Second")

    assert names.label("Third") == "other"
    assert names.label("First") == "First"


def test_paths_outside_the_known_endpoints_are_other() -> None:
    assert endpoint_of("/graphql") == "/graphql"
    assert endpoint_of("/.well-known/jwks.json") == "/.well-known"
    assert endpoint_of("/wp-admin/setup.php") == "other"
