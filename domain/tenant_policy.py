"""What a tenant may tune about the OKR rules, within bounds that keep goals focused."""

from __future__ import annotations

from dataclasses import dataclass

from okrledger.domain.errors import InvalidValue

DEFAULT_MAX_KEY_RESULTS = 5
# "Too many goals lead to a lack of focus": no tenant may go beyond this.
HARD_MAX_KEY_RESULTS = 10


@dataclass(frozen=True)
class TenantPolicy:
    max_key_results: int = DEFAULT_MAX_KEY_RESULTS
    allow_percent_stretch: bool = False

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_key_results, bool)
            or not isinstance(self.max_key_results, int)
            or not 1 <= self.max_key_results <= HARD_MAX_KEY_RESULTS
        ):
            raise InvalidTenantPolicy(
                f"max_key_results must be a whole number from 1 to {HARD_MAX_KEY_RESULTS}, "
                f"got {self.max_key_results!r}",
                field="max_key_results",
            )


DEFAULT_POLICY = TenantPolicy()


class InvalidTenantPolicy(InvalidValue):
    """A tenant policy setting is outside what the product allows."""
