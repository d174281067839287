"""A key result and the KPI that drives it must want the same way.

A key result moving up (target above start) wants its value to rise; a KPI whose
lower readings are better would then raise its progress as things get worse (churn
rising, progress rising). The link is refused rather than followed the wrong way.
"""

from __future__ import annotations

from okrledger.domain.errors import DomainError
from okrledger.domain.kpi_health import Direction
from okrledger.domain.objective import KeyResult


def key_result_direction(key_result: KeyResult) -> Direction:
    """Which way the key result wants its value to go (start and target always differ)."""
    if key_result.target > key_result.start:
        return Direction.HIGHER_IS_BETTER
    return Direction.LOWER_IS_BETTER


def check_same_direction(
    key_result: KeyResult, kpi_name: str, kpi_direction: Direction, *, field: str = "kpi_id"
) -> None:
    """`field` names what the command changed: the KPI when linking, the start or target when
    revising a key result that follows one."""
    wanted = key_result_direction(key_result)
    if wanted is not kpi_direction:
        rising = "rise" if wanted is Direction.HIGHER_IS_BETTER else "fall"
        better = "lower" if kpi_direction is Direction.LOWER_IS_BETTER else "higher"
        raise DirectionMismatch(
            f"Key result '{key_result.title}' goes from {key_result.start} to "
            f"{key_result.target} and wants its value to {rising}, but for KPI "
            f"'{kpi_name}' {better} is better; its readings would move progress the wrong way",
            field=field,
        )


class DirectionMismatch(DomainError):
    """The key result and the KPI want opposite directions; the link would mislead."""

    code = "DIRECTION_MISMATCH"
