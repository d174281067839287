"""`okrledger serve --workers 2 --config …` as an operator runs it: both workers read the
file, and a scrape reaching either worker reports the counts of both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import free_port

OKRLEDGER = [sys.executable, "-c", "from okrledger.infra.cli import main; main()"]


def scraped(port: int, name: str, **labels: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def wait_for(condition: object, timeout: float = 90) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("the servers did not get there in time")


@pytest.mark.slow
def test_two_workers_read_the_config_file_and_one_scrape_counts_both(
    owner_dsn: str, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "okrledger.toml"
    config.write_text(f"port = {port}\nOKRLEDGER_POOL_MAX = 3\nwebhook_worker = false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OKRLEDGER_", "PROMETHEUS"))}
    env["DATABASE_URL"] = owner_dsn
    command = [*OKRLEDGER, "serve", "--workers", "2", "--config", str(config)]
    command += ["--data-dir", str(tmp_path / "data")]
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        # Each worker reports its pool's maximum (3, from the file) once it has started.
        pool = {"pool": "requests", "state": "max"}
        wait_for(lambda: scraped(port, "okrledger_db_pool_connections", **pool) == 6)

        for _ in range(12):
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200

        healthz = {"method": "GET", "endpoint": "/healthz", "status": "200"}
        counts = {scraped(port, "okrledger_http_requests_total", **healthz) for _ in range(6)}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

    assert counts == {12.0}
