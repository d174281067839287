"""A rebuild's bulk paths: read models replayed in pages as small as one run's worth equal
the ones kept inline, a whole rebuild keeps every index the live tables had, and rows
copied in as COPY text read back as the values an INSERT stores."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from okrledger.infra import copy_text, rebuild
from okrledger.projections import catalog
from okrledger.services.handling import Handler

from .read_models import read_model_rows
from .test_okr_projection_rebuild import TABLES, live_handler, play

__all__ = ["live_handler"]  # the fixture, used by name

PROGRAM = [
    ("add_kr", 0, 1, 4),
    ("check_in", 0, 0, 3),
    ("check_in", 0, 1, 5),
    ("link", 0, 1, 2),
    ("follow", 0, 1, 7),
    ("check_in", 0, 1, 0),
    ("revise_kr", 0, 0, 3),
    ("check_in", 0, 0, 8),
    ("unlink", 0, 1, 2),
    ("check_in", 0, 2, 1),
    ("remove_kr", 0, 2, 0),
    ("check_in", 0, 1, 9),
] * 2


@pytest.mark.parametrize("page", [1, 2, 3, 7])
async def test_a_rebuild_in_small_pages_equals_the_read_models_kept_inline(
    live_handler: Handler,
    owner_dsn: str,
    tenant: str,
    page: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await play(live_handler, tenant, PROGRAM)
    inline = await read_model_rows(owner_dsn, tenant, TABLES)

    monkeypatch.setattr(rebuild, "BATCH", page)
    await rebuild.rebuild(owner_dsn, catalog.projections(), tenant_id=tenant)

    assert await read_model_rows(owner_dsn, tenant, TABLES) == inline


async def _index_shapes(owner_dsn: str) -> set[tuple[str, str, str]]:
    connection = await asyncpg.connect(owner_dsn)
    try:
        rows = await connection.fetch(
            """SELECT tablename, indexname, indexdef FROM pg_indexes
               WHERE schemaname = 'public' AND tablename = ANY($1::text[])""",
            list(TABLES),
        )
    finally:
        await connection.close()
    return {(r["tablename"], *r["indexdef"].partition(" USING ")[::2]) for r in rows}


async def test_a_whole_rebuild_keeps_every_index_of_the_live_tables(
    live_handler: Handler, owner_dsn: str, tenant: str
) -> None:
    await play(live_handler, tenant, PROGRAM[:6])
    before = {(table, tail) for table, _, tail in await _index_shapes(owner_dsn)}

    await rebuild.rebuild(owner_dsn, catalog.projections())

    after = await _index_shapes(owner_dsn)
    assert {(table, tail) for table, _, tail in after} == before
    # The ones only readers use are built after the replay, under their own names.
    names = {head.split()[-3] for _, head, _ in after}
    assert {"okr_key_results_cycle", "change_log_actor"} <= names


VALUES: dict[str, tuple[str, list[Any]]] = {
    "t": ("text", ["plain", "tab\there", "back\\slash", "line\nbreak", "cr\rhere", "\\N", ""]),
    "b": ("bigint", [0, -5, 2**62]),
    "u": ("uuid", [uuid.uuid4(), uuid.UUID(int=0)]),
    "ts": (
        "timestamptz",
        [datetime.now(UTC), datetime(2020, 2, 29, 23, 59, tzinfo=timezone(timedelta(hours=5)))],
    ),
    "n": ("numeric", [Decimal("1.50"), Decimal("1E+3"), Decimal("-0.000"), Decimal("5E-7")]),
    "f": ("boolean", [True, False]),
    "d": ("date", [date(2026, 1, 1)]),
    "j": ("jsonb", ['{"a": "x\\ty"}', "[]"]),
}


@pytest.mark.parametrize("rows", [1, 2, 40])
async def test_rows_copied_as_text_read_back_as_the_values_an_insert_stores(
    owner_dsn: str, rows: int
) -> None:
    records = [
        tuple(
            None if (n + k) % 5 == 4 else v[(n * 7 + k) % len(v)]
            for k, (_, v) in enumerate(VALUES.values())
        )
        for n in range(rows)
    ]
    columns = ", ".join(f"{name} {kind}" for name, (kind, _) in VALUES.items())
    connection = await asyncpg.connect(owner_dsn)
    try:
        await connection.execute(
            f"CREATE TEMP TABLE copied ({columns}); CREATE TEMP TABLE inserted ({columns})"
        )

        async def data() -> Any:
            yield copy_text.encode(records)

        await connection.copy_to_table("copied", source=data(), columns=list(VALUES), format="text")
        placeholders = ", ".join(f"${n}" for n in range(1, len(VALUES) + 1))
        await connection.executemany(f"INSERT INTO inserted VALUES ({placeholders})", records)
        copied = [tuple(r) for r in await connection.fetch("SELECT * FROM copied")]
        inserted = [tuple(r) for r in await connection.fetch("SELECT * FROM inserted")]
    finally:
        await connection.close()
    assert copied == inserted


async def test_a_rebuild_over_damaged_read_models_puts_back_exactly_the_inline_rows(
    live_handler: Handler, owner_dsn: str, tenant: str
) -> None:
    await play(live_handler, tenant, PROGRAM[:8])
    inline = await read_model_rows(owner_dsn, tenant, TABLES)
    connection = await asyncpg.connect(owner_dsn)
    try:
        async with connection.transaction():
            await connection.execute("SELECT set_config('okrledger.tenant_id', $1, true)", tenant)
            # A changed value, a changed scale, a lost row and a stray one.
            await connection.execute(
                """UPDATE change_log SET summary = 'tampered'
                   WHERE tenant_id = $1 AND position = (SELECT min(position) FROM change_log)""",
                tenant,
            )
            await connection.execute(
                """UPDATE okr_key_results SET target_value = target_value::numeric(20, 4)
                   WHERE tenant_id = $1""",
                tenant,
            )
            await connection.execute(
                """DELETE FROM okr_objectives WHERE tenant_id = $1
                   AND valid_from_position = (SELECT max(valid_from_position) FROM okr_objectives
                                              WHERE tenant_id = $1)""",
                tenant,
            )
            await connection.execute(
                """INSERT INTO change_log (tenant_id, position, stream_id, stream_type, version,
                                           event_type, actor, recorded_at, command_id, summary)
                   VALUES ($1, 999999, gen_random_uuid(), 'X', 1, 'X', 'x', now(), 'c', 's')""",
                tenant,
            )
    finally:
        await connection.close()
    assert await read_model_rows(owner_dsn, tenant, TABLES) != inline

    await rebuild.rebuild(owner_dsn, catalog.projections(), tenant_id=tenant)

    rebuilt = await read_model_rows(owner_dsn, tenant, TABLES)
    assert rebuilt == inline
    # Equal as Decimals is not enough: the scale is back as it was.
    assert [str(v) for row in rebuilt["okr_key_results"] for v in row] == [
        str(v) for row in inline["okr_key_results"] for v in row
    ]
