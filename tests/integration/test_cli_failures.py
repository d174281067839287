"""Commands that cannot do their work say why in one line, exit with a documented code
(2 usage or configuration, 4 database unreachable or not migrated; 1 stays "a check
failed") and leave no partial file behind."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from subprocess import PIPE

import pytest

from tests.databases import empty_database

OKRLEDGER = [sys.executable, "-c", "from okrledger.infra.cli import main; main()"]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=5"


async def okrledger(dsn: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *OKRLEDGER, *args, env={**os.environ, "DATABASE_URL": dsn}, stdout=PIPE, stderr=PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def left_in(folder: Path) -> list[str]:
    """The names of the files in `folder`: a partial or temporary file would show here."""
    return sorted(path.name for path in folder.iterdir())


def read(path: Path) -> str:
    return path.read_text()


def write(path: Path, text: str) -> None:
    path.write_text(text)


@pytest.fixture
async def unmigrated_dsn(server_dsn: str) -> AsyncIterator[str]:
    """A database on the same server that was never migrated."""
    async with empty_database(server_dsn, "okrledger_empty") as dsn:
        yield dsn


@pytest.mark.parametrize(
    "command",
    [
        ["audit", "export", "--tenant", "acme", "--out", "{out}"],
        ["audit", "log", "--tenant", "acme", "--format", "csv", "--out", "{out}"],
        ["audit", "check", "--tenant", "acme"],
        ["projections", "status"],
        ["projections", "rebuild"],
        ["tenants", "list"],
        ["demo"],
        ["migrate"],
    ],
    ids=lambda command: " ".join(c for c in command if not c.startswith("{")),
)
async def test_an_unreachable_database_is_one_line_and_exit_code_4_with_no_file(
    tmp_path: Path, command: list[str]
) -> None:
    out = tmp_path / "export.csv"

    code, _, stderr = await okrledger(UNREACHABLE, *(c.format(out=out) for c in command))

    assert code == 4
    assert one_line(stderr).startswith("okrledger: cannot reach the database:")
    assert left_in(tmp_path) == []


async def test_an_export_from_a_database_never_migrated_says_to_migrate_and_writes_nothing(
    unmigrated_dsn: str, tmp_path: Path
) -> None:
    out = tmp_path / "log.csv"

    code, _, stderr = await okrledger(
        unmigrated_dsn, "audit", "log", "--tenant", "acme", "--format", "csv", "--out", str(out)
    )

    assert code == 4
    assert "okrledger migrate" in one_line(stderr)
    assert left_in(tmp_path) == []


async def test_a_failed_export_leaves_the_file_it_would_replace_as_it_was(
    tmp_path: Path,
) -> None:
    out = tmp_path / "chain.jsonl"
    write(out, "yesterday's export\n")

    code, _, _ = await okrledger(
        UNREACHABLE, "audit", "export", "--tenant", "acme", "--out", str(out)
    )

    assert code == 4
    assert read(out) == "yesterday's export\n"
    assert left_in(tmp_path) == [out.name]


async def test_an_export_into_a_missing_directory_is_a_usage_error(
    owner_dsn: str, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "chain.jsonl"

    code, _, stderr = await okrledger(
        owner_dsn, "audit", "export", "--tenant", "acme", "--out", str(out)
    )

    assert code == 2
    assert one_line(stderr).startswith(f"okrledger: cannot write {out}")
    assert left_in(tmp_path) == []


async def test_an_unknown_event_type_is_refused_listing_the_valid_ones_and_writes_nothing(
    owner_dsn: str, tmp_path: Path
) -> None:
    out = tmp_path / "log.jsonl"

    code, _, stderr = await okrledger(
        owner_dsn, "audit", "log", "--tenant", "acme", "--out", str(out),
        "--event-type", "KPITargetSet",
    )  # fmt: skip

    assert code == 2
    line = one_line(stderr)
    assert "'KPITargetSet'" in line and "kpi.target.set.v1" in line and "kpi.*" in line
    assert left_in(tmp_path) == []


async def test_a_successful_export_leaves_only_the_file_asked_for(
    owner_dsn: str, tmp_path: Path, tenant: str
) -> None:
    out = tmp_path / "log.csv"

    code, stdout, _ = await okrledger(
        owner_dsn, "audit", "log", "--tenant", tenant, "--format", "csv", "--out", str(out),
        "--event-type", "okr.objective.*", "--event-type", "kpi.reading.recorded.v1",
    )  # fmt: skip

    assert code == 0, stdout
    assert left_in(tmp_path) == [out.name]
    assert read(out).startswith("position,recordedAt")
