"""`okrledger audit log`: the tenant's change log exported as CSV or JSON lines."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from subprocess import PIPE

import orjson
import pytest

from okrledger.domain.objective import Confidence, MetricKind, Objective
from okrledger.infra.db import Database
from okrledger.infra.event_store import PostgresEventStore
from okrledger.infra.projector import InlineProjections
from okrledger.projections import catalog
from okrledger.services import cycles, key_results, objectives
from okrledger.services.handling import Handler
from okrledger.services.ports import CommandContext

OKRLEDGER = [sys.executable, "-c", "from okrledger.infra.cli import main; main()"]
# A reason a naive CSV writer would break: a comma, quotes and a line break.
AWKWARD = 'market fell, "sharply"\nsee the review'


@pytest.fixture
def handler(database: Database) -> Handler:
    return Handler(PostgresEventStore(database, hooks=[InlineProjections(catalog.projections())]))


def ctx(tenant: str, actor: str, reason: str | None = None) -> CommandContext:
    return CommandContext(tenant, actor, str(uuid.uuid4()), reason=reason)


async def a_story(handler: Handler, tenant: str) -> uuid.UUID:
    """alice starts a cycle and sets an objective; bob adds a key result and moves its target.

    Five entries: CycleStarted, ObjectiveSet, ObjectiveRevised, KeyResultAdded, KeyResultRevised.
    """
    starts = date.today() - timedelta(days=10)
    cycle = await cycles.start_cycle(
        cycles.StartCycle("Q", starts, starts + timedelta(days=90)), ctx(tenant, "alice"), handler
    )
    cmd = objectives.SetObjective("Delight customers", cycle.aggregate.id, "ana")
    objective = (await objectives.set_objective(cmd, ctx(tenant, "alice"), handler)).aggregate.id
    revise = objectives.ReviseObjective(objective, title="Delight every customer")
    await objectives.revise_objective(revise, ctx(tenant, "alice"), handler)
    kr = uuid.uuid4()
    add = key_results.AddKeyResult(
        objective, "Raise NPS", MetricKind.NUMBER, Decimal(31), Decimal(45), key_result_id=kr
    )
    await key_results.add_key_result(add, ctx(tenant, "bob"), handler)
    move = key_results.ReviseKeyResult(objective, kr, target=Decimal(40))
    await key_results.revise_key_result(move, ctx(tenant, "bob", AWKWARD), handler)
    return objective


async def okrledger(owner_dsn: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *OKRLEDGER,
        *args,
        # Wide enough that typer's boxed usage errors keep their words on one line.
        env={**os.environ, "DATABASE_URL": owner_dsn, "COLUMNS": "200"},
        stdout=PIPE,
        stderr=PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def export(owner_dsn: str, tenant: str, out: Path, *args: str) -> str:
    code, stdout, stderr = await okrledger(
        owner_dsn, "audit", "log", "--tenant", tenant, "--out", str(out), *args
    )
    assert code == 0, stderr
    return stdout.strip()


def jsonl(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def test_the_log_as_csv_has_a_header_and_every_entry_oldest_first_properly_quoted(
    handler: Handler, owner_dsn: str, tenant: str, other_tenant: str, tmp_path: Path
) -> None:
    objective = await a_story(handler, tenant)
    await a_story(handler, other_tenant)
    out = tmp_path / "log.csv"

    said = await export(owner_dsn, tenant, out, "--format", "csv")

    with out.open(newline="", encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    assert said == f"exported 5 entries to {out}"
    assert header[:4] == ["position", "recordedAt", "actor", "eventType"]
    entries = [dict(zip(header, row, strict=True)) for row in rows]
    assert [e["position"] for e in entries] == ["1", "2", "3", "4", "5"]
    assert [e["eventType"] for e in entries] == [
        "CycleStarted", "ObjectiveSet", "ObjectiveRevised", "KeyResultAdded", "KeyResultRevised"
    ]  # fmt: skip
    moved = entries[-1]
    assert (moved["actor"], moved["streamId"], moved["reason"]) == ("bob", str(objective), AWKWARD)
    assert orjson.loads(moved["changes"]) == [
        {"field": "target", "from": "45", "to": "40", "goalpostMoved": True}
    ]
    assert entries[0]["reason"] == ""


async def test_the_log_as_json_lines_has_one_entry_per_line_with_its_changes(
    handler: Handler, owner_dsn: str, tenant: str, tmp_path: Path
) -> None:
    await a_story(handler, tenant)
    out = tmp_path / "log.jsonl"

    await export(owner_dsn, tenant, out, "--format", "jsonl")

    entries = jsonl(out)
    assert [e["position"] for e in entries] == [1, 2, 3, 4, 5]
    retitled = entries[2]
    assert (retitled["actor"], retitled["reason"]) == ("alice", None)
    assert retitled["changes"] == [
        {
            "field": "title",
            "from": "Delight customers",
            "to": "Delight every customer",
            "goalpostMoved": False,
        }
    ]
    assert entries[-1]["reason"] == AWKWARD


async def test_an_exported_check_in_names_its_source_run_and_when_its_value_applied(
    handler: Handler, owner_dsn: str, tenant: str, tmp_path: Path
) -> None:
    objective = await a_story(handler, tenant)
    [kr] = (await handler.get(tenant, Objective, objective)).key_results
    observed = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    check_in = key_results.CheckInKeyResult(
        objective,
        kr,
        Decimal(36),
        Confidence.ON_TRACK,
        observed_at=observed,
        source="survey-sync",
        run_id="run-7",
    )
    await key_results.check_in_key_result(check_in, ctx(tenant, "bot"), handler)

    await export(owner_dsn, tenant, tmp_path / "log.jsonl", "--format", "jsonl")
    await export(owner_dsn, tenant, tmp_path / "log.csv", "--format", "csv")

    checked = jsonl(tmp_path / "log.jsonl")[-1]
    assert (checked["actor"], checked["source"], checked["runId"]) == (
        "bot",
        "survey-sync",
        "run-7",
    )
    assert checked["observedAt"] == observed.isoformat()
    with (tmp_path / "log.csv").open(newline="") as file:
        header, *rows = list(csv.reader(file))
    row = dict(zip(header, rows[-1], strict=True))
    assert (row["source"], row["runId"], row["observedAt"]) == (
        "survey-sync",
        "run-7",
        observed.isoformat(),
    )


async def test_the_export_keeps_only_entries_matching_every_filter_given(
    handler: Handler, database: Database, owner_dsn: str, tenant: str, tmp_path: Path
) -> None:
    objective = await a_story(handler, tenant)
    async with database.transaction(tenant, readonly=True) as rows:
        third = await rows.fetchval("SELECT recorded_at FROM change_log WHERE position = 3")
        fifth = await rows.fetchval("SELECT recorded_at FROM change_log WHERE position = 5")
    out = tmp_path / "log.jsonl"

    await export(owner_dsn, tenant, out, "--actor", "bob")
    by_bob = [e["position"] for e in jsonl(out)]
    await export(
        owner_dsn,
        tenant,
        out,
        "--event-type",
        "okr.objective.set.v1",
        "--event-type",
        "okr.key_result.added.v1",
    )
    by_type = [e["position"] for e in jsonl(out)]
    await export(owner_dsn, tenant, out, "--since", third.isoformat(), "--until", fifth.isoformat())
    by_time = [e["position"] for e in jsonl(out)]
    await export(owner_dsn, tenant, out, "--stream", str(objective), "--actor", "alice")
    by_stream = [e["position"] for e in jsonl(out)]

    assert by_bob == [4, 5]
    assert by_type == [2, 4]
    assert by_time == [3, 4]
    assert by_stream == [2, 3]


async def test_another_tenants_entries_never_appear(
    handler: Handler, owner_dsn: str, tenant: str, other_tenant: str, tmp_path: Path
) -> None:
    await a_story(handler, other_tenant)
    await cycles.start_cycle(
        cycles.StartCycle("Mine", date.today(), date.today() + timedelta(days=90)),
        ctx(tenant, "carol"),
        handler,
    )
    out = tmp_path / "log.jsonl"

    said = await export(owner_dsn, tenant, out, "--actor", "bob")
    mine = await export(owner_dsn, tenant, tmp_path / "all.jsonl")

    assert said == f"exported 0 entries to {out}"
    assert [e["actor"] for e in jsonl(tmp_path / "all.jsonl")] == ["carol"]
    assert mine.startswith("exported 1 entries")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--since", "2026-11-01T00:00:00"], "--since wants an ISO time with a time zone"),
        (["--until", "yesterday"], "--until wants an ISO time with a time zone"),
        (
            ["--since", "2026-11-02T00:00:00Z", "--until", "2026-11-01T00:00:00Z"],
            "--until is before --since",
        ),
        (["--format", "xml"], "Invalid value for '--format'"),
        (["--stream", "not-a-uuid"], "Invalid value for '--stream'"),
    ],
)
async def test_bad_input_exits_with_code_2_and_writes_nothing(
    owner_dsn: str, tenant: str, tmp_path: Path, args: list[str], says: str
) -> None:
    out = tmp_path / "log.csv"

    code, _, err = await okrledger(
        owner_dsn, "audit", "log", "--tenant", tenant, "--out", str(out), *args
    )

    assert code == 2
    assert says in err
    assert not out.exists()


async def test_a_malformed_tenant_id_exits_with_code_2(owner_dsn: str, tmp_path: Path) -> None:
    code, _, err = await okrledger(
        owner_dsn, "audit", "log", "--tenant", "Not A Tenant", "--out", str(tmp_path / "x")
    )

    assert code == 2
    assert "invalid tenant id" in err
