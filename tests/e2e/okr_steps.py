"""Small steps over the API that tests build their situation from."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from tests.e2e.server import Api

CYCLE = "... on CyclePayload { version position cycle { id name startsOn endsOn closed version } }"
OBJECTIVE = (
    "... on ObjectivePayload { version position objective { id cycleId title description owner "
    "team parentId status score retrospective version keyResults { id objectiveId title metric "
    "start target current weight unit currency confidence note } } }"
)


async def start_cycle(api: Api, name: str | None = None) -> dict[str, Any]:
    result = await api.mutate(
        "startCycle",
        {"name": name or f"Q-{uuid4().hex[:8]}", "startsOn": "2026-10-01", "endsOn": "2026-12-31"},
        CYCLE,
    )
    assert result["__typename"] == "StartCyclePayload", result
    cycle: dict[str, Any] = result["cycle"]
    return cycle


async def set_objective(api: Api, cycle_id: str | None = None, **extra: Any) -> dict[str, Any]:
    cycle_id = cycle_id or (await start_cycle(api))["id"]
    result = await api.mutate(
        "setObjective",
        {"cycleId": cycle_id, "title": "Delight customers", "owner": "ana", **extra},
        OBJECTIVE,
    )
    assert result["__typename"] == "SetObjectivePayload", result
    objective: dict[str, Any] = result["objective"]
    return objective


async def activate(api: Api, objective_id: str) -> dict[str, Any]:
    result = await api.mutate("activateObjective", {"objectiveId": objective_id}, OBJECTIVE)
    assert result["__typename"] == "ActivateObjectivePayload", result
    activated: dict[str, Any] = result["objective"]
    return activated


async def add_key_result(api: Api, objective_id: str) -> dict[str, Any]:
    result = await api.mutate(
        "addKeyResult",
        {
            "objectiveId": objective_id,
            "title": "Raise NPS",
            "metric": "NUMBER",
            "start": "31",
            "target": "45",
        },
        OBJECTIVE,
    )
    assert result["__typename"] == "AddKeyResultPayload", result
    key_results: list[dict[str, Any]] = result["objective"]["keyResults"]
    return key_results[-1]
