"""A command's fingerprint: one per command (kind and input), whatever its command id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from okrledger.services.fingerprints import command_fingerprint
from okrledger.services.objectives import ReviseObjective

TARGET = uuid4()


@dataclass(frozen=True)
class Reading:
    value: Decimal
    observed_at: datetime


@dataclass(frozen=True)
class Batch:
    kpi_id: UUID
    readings: list[Reading]
    command_id: str | None = None


def test_the_same_command_has_the_same_fingerprint_whatever_its_command_id() -> None:
    one = Batch(TARGET, [Reading(Decimal("1.5"), datetime(2026, 1, 1, tzinfo=UTC))], "a")
    two = Batch(TARGET, [Reading(Decimal("1.5"), datetime(2026, 1, 1, tzinfo=UTC))], "b")

    assert command_fingerprint("recordKpiReadings", one) == command_fingerprint(
        "recordKpiReadings", two
    )


def test_decimals_count_by_value() -> None:
    assert command_fingerprint("gradeObjective", {"score": Decimal("0.70")}) == (
        command_fingerprint("gradeObjective", {"score": Decimal("0.7")})
    )


def test_another_kind_target_or_input_is_another_fingerprint() -> None:
    revise = ReviseObjective(TARGET, title="A")
    fingerprints = {
        command_fingerprint("ReviseObjective", revise),
        command_fingerprint("AssignObjectiveOwner", revise),
        command_fingerprint("ReviseObjective", ReviseObjective(uuid4(), title="A")),
        command_fingerprint("ReviseObjective", ReviseObjective(TARGET, title="B")),
        command_fingerprint("ReviseObjective", ReviseObjective(TARGET, title="A", description="")),
        command_fingerprint("ReviseObjective", ReviseObjective(TARGET, "A", expected_version=3)),
    }

    assert len(fingerprints) == 6


def test_a_nested_value_is_part_of_the_command() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    one = Batch(TARGET, [Reading(Decimal(1), at), Reading(Decimal(2), at)])
    two = Batch(TARGET, [Reading(Decimal(1), at), Reading(Decimal(3), at)])

    assert command_fingerprint("recordKpiReadings", one) != command_fingerprint(
        "recordKpiReadings", two
    )
