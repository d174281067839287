"""Metrics shared by the processes of `serve --workers N`.

A scrape reaches whichever worker accepts the connection, so each worker's counters live
in files of one directory (prometheus-client's multiprocess mode) and every scrape sums
them all. The directory must be set before the workers import prometheus-client and must
start empty, or a previous run's counts would be added in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared_metrics(workers: int) -> Iterator[Path | None]:
    """For more than one worker: PROMETHEUS_MULTIPROC_DIR, emptied (a fresh temporary one,
    removed afterwards, unless the operator chose one). None for a single process."""
    if workers <= 1:
        yield None
        return
    chosen = os.environ.get(MULTIPROCESS_DIR)
    if chosen:
        folder = Path(chosen)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="okrledger-metrics-"))
    os.environ[MULTIPROCESS_DIR] = str(folder)
    try:
        yield folder
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(folder, ignore_errors=True)
