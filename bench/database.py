"""A throw-away database for one benchmark run: on DATABASE_URL's server, or embedded."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg

from okrledger.infra.embedded_pg import EmbeddedPostgres
from okrledger.infra.migrations.runner import migrate


@asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    """The owner DSN of a fresh, migrated database, dropped afterwards."""
    async with AsyncExitStack() as stack:
        server = os.environ.get("DATABASE_URL")
        if not server:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="okrl-bench-"))
            server = stack.enter_context(EmbeddedPostgres(Path(folder)))
        name = f"okrledger_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(server)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        dsn = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
        try:
            await migrate(dsn)
            yield dsn
        finally:
            admin = await asyncpg.connect(server)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def libpq_parts(dsn: str) -> dict[str, str]:
    """host, port, user, password and dbname of a URL DSN (a socket directory as host too)."""
    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    return {
        "host": parts.hostname or query.get("host", ["127.0.0.1"])[0],
        "port": str(parts.port or 5432),
        "user": parts.username or "postgres",
        "password": parts.password or "",
        "dbname": parts.path.lstrip("/") or "postgres",
    }


def machine() -> str:
    """A one-line description of where the figures were measured."""
    cores = os.cpu_count()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                "unknown CPU",
            )
    except OSError:
        model = "unknown CPU"
    return f"{cores} cores, {model}"
