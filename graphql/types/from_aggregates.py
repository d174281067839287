"""The adapter from a KPI aggregate's state to the GraphQL `Kpi` type.

KPI mutations answer with the aggregate they just changed, until KPI read models serve them.
"""

from __future__ import annotations

from okrledger.domain import kpi
from okrledger.graphql.types.kpi import Kpi, KpiBands, KpiLatestReading


def kpi_of(state: kpi.KPI) -> Kpi:
    bands = state.bands
    latest = None
    if state.latest_reading_id is not None:
        assert state.latest_value is not None and state.latest_observed_at is not None
        latest = KpiLatestReading(
            reading_id=state.latest_reading_id,
            value=state.latest_value,
            observed_at=state.latest_observed_at,
        )
    return Kpi(
        id=state.id,
        key=state.key,
        name=state.name,
        unit=state.unit,
        direction=state.direction,
        area=state.area,
        cadence=state.cadence,
        target=state.target,
        bands=None if bands is None else KpiBands(green=bands.green, yellow=bands.yellow),
        health=state.health,
        retired=state.retired,
        reading_count=state.readings,
        latest_reading=latest,
        version=state.version,
        updated_at=state.modified_on,
    )
