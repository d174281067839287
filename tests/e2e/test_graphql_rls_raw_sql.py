"""Row-Level Security from a raw session as the application role, with no tenant set: every
table under RLS (found in pg_catalog, not listed by hand) shows no row, and refuses a row
copied from a real tenant."""

from __future__ import annotations

import json

import asyncpg
import pytest

from okrledger.infra.db import app_dsn, set_tenant
from tests.e2e.kpi_steps import define_kpi, record_reading
from tests.e2e.okr_steps import activate, add_key_result, set_objective
from tests.e2e.server import Api


async def rls_tables(connection: asyncpg.Connection) -> list[str]:
    rows = await connection.fetch(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND relrowsecurity"
        " AND relnamespace = 'public'::regnamespace ORDER BY 1"
    )
    return [row["relname"] for row in rows]


async def seed(editor: Api) -> None:
    objective = await set_objective(editor)
    key_result = await add_key_result(editor, objective["id"])
    await activate(editor, objective["id"])
    kpi = await define_kpi(editor)
    await record_reading(editor, kpi["id"], "5")
    await editor.mutate(
        "linkKeyResultToKpi",
        {"objectiveId": objective["id"], "keyResultId": key_result["id"], "kpiId": kpi["id"]},
        "",
    )


async def test_without_a_tenant_the_application_role_sees_no_row_of_any_rls_table(
    editor: Api, owner_dsn: str
) -> None:
    await seed(editor)
    raw = await asyncpg.connect(app_dsn(owner_dsn))
    try:
        tables = await rls_tables(raw)
        counts = {table: await raw.fetchval(f'SELECT count(*) FROM "{table}"') for table in tables}
    finally:
        await raw.close()

    assert len(tables) >= 10, tables
    assert counts == dict.fromkeys(tables, 0)


async def test_without_a_tenant_the_application_role_cannot_insert_into_any_rls_table(
    editor: Api, tenant: str, owner_dsn: str
) -> None:
    await seed(editor)
    owner = await asyncpg.connect(owner_dsn)
    try:
        tables = await rls_tables(owner)
        samples: dict[str, str] = {}
        async with owner.transaction():
            await set_tenant(owner, tenant)  # the owner may be a superuser, which RLS lets by
            for table in tables:
                row = await owner.fetchval(
                    f'SELECT row_to_json(t)::text FROM "{table}" t WHERE tenant_id = $1 LIMIT 1',
                    tenant,
                )
                if row is not None:
                    samples[table] = row
    finally:
        await owner.close()
    raw = await asyncpg.connect(app_dsn(owner_dsn))
    try:
        refused = []
        for table, row in samples.items():
            copy = f'INSERT INTO "{table}" SELECT * FROM json_populate_record(null::"{table}", $1)'
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await raw.execute(copy, row)
            refused.append(table)
    finally:
        await raw.close()

    assert len(refused) >= 8, samples.keys()
    assert json.loads(samples["events"])["tenant_id"] == tenant
