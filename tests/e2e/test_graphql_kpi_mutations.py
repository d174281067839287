"""KPI definition over HTTP: define, revise, target, bands, retire, and their typed errors."""

from __future__ import annotations

from uuid import uuid4

from tests.e2e.kpi_steps import KPI, define_kpi, kpi_input, record_reading
from tests.e2e.server import Api


async def test_defining_a_kpi_answers_it_at_version_one(editor: Api) -> None:
    result = await editor.mutate(
        "defineKpi", kpi_input(target="4.5", bands={"green": "4", "yellow": "3"}), KPI
    )

    assert result["__typename"] == "DefineKpiPayload"
    assert result["version"] == 1 and result["position"] >= 1
    kpi = result["kpi"]
    assert (kpi["name"], kpi["unit"], kpi["direction"]) == (
        "Conversion rate",
        "%",
        "HIGHER_IS_BETTER",
    )
    assert kpi["target"] == "4.5"
    assert kpi["bands"] == {"green": "4", "yellow": "3"}
    assert kpi["health"] is None and kpi["readingCount"] == 0 and not kpi["retired"]


async def test_a_kpi_key_taken_in_the_tenant_is_already_exists(editor: Api) -> None:
    kpi = await define_kpi(editor)

    result = await editor.mutate("defineKpi", kpi_input(key=kpi["key"]), KPI)

    assert result["__typename"] == "AlreadyExistsError"
    assert (result["code"], result["field"]) == ("ALREADY_EXISTS", "key")


async def test_a_malformed_kpi_key_is_a_validation_error_on_key(editor: Api) -> None:
    result = await editor.mutate("defineKpi", kpi_input(key="Not A Slug"), KPI)

    assert result["__typename"] == "ValidationError"
    assert result["field"] == "key"


async def test_bands_that_read_backwards_are_a_validation_error(editor: Api) -> None:
    result = await editor.mutate("defineKpi", kpi_input(bands={"green": "1", "yellow": "5"}), KPI)

    assert result["__typename"] == "ValidationError"


async def test_a_new_kpi_cannot_expect_a_version_above_zero(editor: Api) -> None:
    result = await editor.mutate("defineKpi", kpi_input(expectedVersion=3), KPI)

    assert result["__typename"] == "ValidationError"
    assert result["field"] == "expectedVersion"


async def test_revising_a_kpi_changes_only_what_is_given(editor: Api) -> None:
    kpi = await define_kpi(editor)

    result = await editor.mutate(
        "reviseKpi",
        {
            "kpiId": kpi["id"],
            "name": "Checkout conversion",
            "cadence": "WEEKLY",
            "reason": "rename",
        },
        KPI,
    )

    assert result["__typename"] == "ReviseKpiPayload"
    assert result["kpi"]["name"] == "Checkout conversion"
    assert result["kpi"]["cadence"] == "WEEKLY"
    assert result["kpi"]["area"] == "Growth"
    assert result["version"] == 2


async def test_a_stale_expected_version_is_a_version_conflict(editor: Api) -> None:
    kpi = await define_kpi(editor)
    await editor.mutate("setKpiTarget", {"kpiId": kpi["id"], "target": "5"}, KPI)

    result = await editor.mutate(
        "reviseKpi",
        {"kpiId": kpi["id"], "name": "Stale", "expectedVersion": 1},
        KPI + " ... on VersionConflictError { actualVersion }",
    )

    assert result["__typename"] == "VersionConflictError"
    assert result["actualVersion"] == 2


async def test_an_unknown_kpi_is_not_found_on_kpi_id(editor: Api) -> None:
    result = await editor.mutate("setKpiTarget", {"kpiId": str(uuid4()), "target": "1"}, KPI)

    assert result["__typename"] == "NotFoundError"
    assert result["field"] == "kpiId"


async def test_setting_and_removing_a_target(editor: Api) -> None:
    kpi = await define_kpi(editor)

    set_ = await editor.mutate("setKpiTarget", {"kpiId": kpi["id"], "target": "12.50"}, KPI)
    removed = await editor.mutate("setKpiTarget", {"kpiId": kpi["id"], "target": None}, KPI)

    assert set_["__typename"] == "SetKpiTargetPayload"
    assert set_["kpi"]["target"] == "12.5"  # as given "12.50", shown without the superfluous zero
    assert removed["kpi"]["target"] is None
    assert removed["version"] == 3


async def test_setting_bands_judges_the_latest_reading_at_once(editor: Api) -> None:
    kpi = await define_kpi(editor)
    await record_reading(editor, kpi["id"], "2")

    result = await editor.mutate(
        "setKpiBands",
        {"kpiId": kpi["id"], "bands": {"green": "5", "yellow": "3"}, "reason": "Stricter"},
        KPI,
    )

    assert result["__typename"] == "SetKpiBandsPayload"
    assert result["kpi"]["bands"] == {"green": "5", "yellow": "3"}
    assert result["kpi"]["health"] == "RED"


async def test_a_retired_kpi_refuses_changes_as_invalid_state(editor: Api) -> None:
    kpi = await define_kpi(editor)

    retired = await editor.mutate("retireKpi", {"kpiId": kpi["id"]}, KPI)
    refused = await editor.mutate("setKpiTarget", {"kpiId": kpi["id"], "target": "1"}, KPI)

    assert retired["__typename"] == "RetireKpiPayload"
    assert retired["kpi"]["retired"] is True
    assert refused["__typename"] == "InvalidStateError"


async def test_a_retried_command_id_changes_nothing_twice(editor: Api) -> None:
    kpi = await define_kpi(editor)
    given = {"kpiId": kpi["id"], "target": "7", "commandId": f"cmd-{uuid4()}"}

    first = await editor.mutate("setKpiTarget", given, KPI)
    again = await editor.mutate("setKpiTarget", given, KPI)

    assert first["version"] == again["version"] == 2
    assert first["position"] == again["position"]
