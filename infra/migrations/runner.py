"""Schema migrations: numbered SQL files applied in order, each once, under an advisory lock."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources

import asyncpg

from okrledger.infra.db import APP_ROLE

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every process that migrates.
_MIGRATION_LOCK = 0x6F6B726C  # "okrl"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    folder = resources.files("okrledger.infra.migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


async def migrate(owner_dsn: str, *, app_password: str | None = None) -> list[int]:
    """Apply pending migrations as the owner; returns the versions applied by this call.

    Safe when several processes start at once: they queue on an advisory lock,
    and the later ones find nothing left to do.
    """
    connection = await asyncpg.connect(owner_dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await connection.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version integer PRIMARY KEY,
                       name text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {
                r["version"]
                for r in await connection.fetch("SELECT version FROM schema_migrations")
            }
            applied = []
            for migration in available_migrations():
                if migration.version in done:
                    continue
                async with connection.transaction():
                    await connection.execute(migration.sql)
                    await connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
                    )
                log.info("migration applied", extra={"version": migration.version})
                applied.append(migration.version)
            await _grant_app_role(connection, app_password)
            return applied
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    finally:
        await connection.close()


async def _grant_app_role(connection: asyncpg.Connection, password: str | None) -> None:
    database = await connection.fetchval("SELECT current_database()")
    await connection.execute(f'GRANT CONNECT ON DATABASE "{database}" TO {APP_ROLE}')
    await connection.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    if password is not None:
        await connection.execute(f"ALTER ROLE {APP_ROLE} PASSWORD {_literal(password)}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def pending_migrations(owner_or_app_dsn: str) -> list[int]:
    """Versions not yet applied (all of them when the table does not exist)."""
    connection = await asyncpg.connect(owner_or_app_dsn)
    try:
        return await pending_on(connection)
    finally:
        await connection.close()


async def pending_on(connection: asyncpg.Connection) -> list[int]:
    exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    done: set[int] = set()
    if exists:
        done = {
            r["version"] for r in await connection.fetch("SELECT version FROM schema_migrations")
        }
    return [m.version for m in available_migrations() if m.version not in done]
