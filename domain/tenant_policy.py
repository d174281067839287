"""What a tenant may tune about the OKR rules, within bounds that keep goals focused.

"Too many goals lead to a lack of focus": each cap has a hard value, past which a
change is refused, and an optional soft value, past which it is accepted with a
warning. Caps count what a change leaves behind: the key results of one objective,
and the active objectives of one owner in one cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from okrledger.domain.errors import DomainError, InvalidValue

DEFAULT_MAX_KEY_RESULTS = 5
# No tenant may go beyond this many key results per objective.
HARD_MAX_KEY_RESULTS = 10
# Above this many active objectives per owner and cycle, a warning by default.
DEFAULT_SOFT_MAX_ACTIVE_OBJECTIVES = 5
# The highest cap a tenant may set on active objectives per owner and cycle.
HARD_MAX_ACTIVE_OBJECTIVES = 50


@dataclass(frozen=True)
class TenantPolicy:
    max_key_results: int = DEFAULT_MAX_KEY_RESULTS
    allow_percent_stretch: bool = False
    # None: no warning before the hard cap.
    soft_max_key_results: int | None = None
    # None: no hard cap on active objectives per owner and cycle.
    max_active_objectives: int | None = None
    soft_max_active_objectives: int | None = DEFAULT_SOFT_MAX_ACTIVE_OBJECTIVES

    def __post_init__(self) -> None:
        _check_cap(self.max_key_results, "max_key_results", HARD_MAX_KEY_RESULTS)
        if self.soft_max_key_results is not None:
            _check_cap(self.soft_max_key_results, "soft_max_key_results", self.max_key_results)
        hard_objectives = self.max_active_objectives
        if hard_objectives is not None:
            _check_cap(hard_objectives, "max_active_objectives", HARD_MAX_ACTIVE_OBJECTIVES)
        if self.soft_max_active_objectives is not None:
            _check_cap(
                self.soft_max_active_objectives,
                "soft_max_active_objectives",
                HARD_MAX_ACTIVE_OBJECTIVES if hard_objectives is None else hard_objectives,
            )

    def key_results_warning(self, count: int) -> str | None:
        """The warning for an objective left with `count` key results, if it passes the soft cap."""
        soft = self.soft_max_key_results
        if soft is None or count <= soft:
            return None
        return (
            f"This objective now has {count} key results, more than the {soft} your "
            f"organisation recommends (at most {self.max_key_results} are allowed); "
            "a few key results keep an objective focused"
        )

    def check_active_objectives(self, owner: str, count: int) -> None:
        """Refuse leaving `owner` with `count` active objectives in a cycle past the hard cap."""
        hard = self.max_active_objectives
        if hard is not None and count > hard:
            raise TooManyActiveObjectives(
                f"{owner} would have {count} active objectives in this cycle; "
                f"the limit is {hard}. Close, archive or hand over one first"
            )

    def active_objectives_warning(self, owner: str, count: int) -> str | None:
        """The warning for `owner` left with `count` active objectives in a cycle, if past soft."""
        soft = self.soft_max_active_objectives
        if soft is None or count <= soft:
            return None
        return (
            f"{owner} now has {count} active objectives in this cycle, more than the {soft} "
            "your organisation recommends; fewer goals keep the focus"
        )


def _check_cap(value: int, field: str, highest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= highest:
        raise InvalidTenantPolicy(
            f"{field} must be a whole number from 1 to {highest}, got {value!r}", field=field
        )


class InvalidTenantPolicy(InvalidValue):
    """A tenant policy setting is outside what the product allows."""


class TooManyActiveObjectives(DomainError):
    """The owner already has as many active objectives in the cycle as the tenant allows."""

    code = "INVALID_STATE"


DEFAULT_POLICY = TenantPolicy()
