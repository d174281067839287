"""A KPI's direction and its health bands: which values are green, yellow or red."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from okrledger.domain.errors import DomainError, InvalidValue
from okrledger.domain.values import finite_decimal


class Direction(Enum):
    HIGHER_IS_BETTER = "HIGHER_IS_BETTER"
    LOWER_IS_BETTER = "LOWER_IS_BETTER"


class Health(Enum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


@dataclass(frozen=True)
class Bands:
    """Thresholds where green and yellow begin, read in the KPI's direction.

    Higher is better: a value at or above `green` is green, at or above `yellow`
    yellow, below it red (so `green` > `yellow`). Lower is better mirrors it: at
    or below `green` is green, at or below `yellow` yellow, above it red.
    """

    green: Decimal
    yellow: Decimal

    @classmethod
    def checked(
        cls, green: Decimal | int | str, yellow: Decimal | int | str, direction: Direction
    ) -> Bands:
        bands = cls(
            green=finite_decimal(green, field="green"),
            yellow=finite_decimal(yellow, field="yellow"),
        )
        bands.check(direction)
        return bands

    def check(self, direction: Direction) -> None:
        if direction is Direction.HIGHER_IS_BETTER and not self.green > self.yellow:
            raise InvalidBands(
                f"Higher is better, so green must begin above yellow: green {self.green} "
                f"is not above yellow {self.yellow}",
                field="bands",
            )
        if direction is Direction.LOWER_IS_BETTER and not self.green < self.yellow:
            raise InvalidBands(
                f"Lower is better, so green must begin below yellow: green {self.green} "
                f"is not below yellow {self.yellow}",
                field="bands",
            )

    def health(self, value: Decimal, direction: Direction) -> Health:
        if direction is Direction.HIGHER_IS_BETTER:
            if value >= self.green:
                return Health.GREEN
            return Health.YELLOW if value >= self.yellow else Health.RED
        if value <= self.green:
            return Health.GREEN
        return Health.YELLOW if value <= self.yellow else Health.RED


def health_of(value: Decimal | None, bands: Bands | None, direction: Direction) -> Health | None:
    """No bands or no reading yet: no health."""
    if value is None or bands is None:
        return None
    return bands.health(value, direction)


class KPIError(DomainError):
    """A command on a KPI was refused; nothing was changed."""


class InvalidBands(KPIError, InvalidValue):
    """The bands contradict the KPI's direction."""
