"""`okrledger serve` as a user runs it: a real process, a real port, real signals."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

OKRLEDGER = [sys.executable, "-c", "from okrledger.infra.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data_dir: Path, port: int, database_url: str | None = None) -> subprocess.Popen[bytes]:
    """Start a server whose log goes to `<data_dir>.<port>.log`."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    with log_of(data_dir, port).open("wb") as log:
        return subprocess.Popen(
            [*OKRLEDGER, "serve", "--data-dir", str(data_dir), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def log_of(data_dir: Path, port: int) -> Path:
    return data_dir.with_name(f"{data_dir.name}.{port}.log")


def wait_ready(process: subprocess.Popen[bytes], port: int, timeout: float = 90) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}")
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server not ready in time")


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = " ".join(process.info["cmdline"] or [])
        except psutil.Error:
            continue
        if "postgres" in (process.info["name"] or "") and str(data_dir) in cmdline:
            found.append(process)
    return found


def stop(process: subprocess.Popen[bytes], data_dir: Path) -> None:
    """A normal stop (SIGTERM), then whatever PostgreSQL of `data_dir` is still left."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for left in postgres_processes(data_dir):
        with contextlib.suppress(psutil.Error):
            left.terminate()
    psutil.wait_procs(postgres_processes(data_dir), timeout=10)


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    data_dir, port = tmp_path / "data", free_port()
    process = serve(data_dir, port)
    yield process, port, data_dir
    stop(process, data_dir)


@pytest.mark.slow
def test_serve_with_no_database_url_starts_embedded_postgres_and_stops_it_on_sigterm(
    embedded_server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, port, data_dir = embedded_server

    ready = wait_ready(process, port)
    assert ready.json() == {"status": "ready"}
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
    assert postgres_processes(data_dir), "the embedded PostgreSQL runs from the data directory"

    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)

    assert postgres_processes(data_dir) == []


@pytest.mark.slow
def test_after_a_kill_9_the_restarted_server_stops_its_embedded_postgresql_on_a_normal_stop(
    embedded_server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    # Given a server killed with -9, which leaves its PostgreSQL running
    process, port, data_dir = embedded_server
    wait_ready(process, port)
    process.kill()
    process.wait(timeout=30)
    assert postgres_processes(data_dir)

    # When it is started again and then stopped normally
    restarted = serve(data_dir, port)
    try:
        wait_ready(restarted, port)
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
        left = postgres_processes(data_dir)
    finally:
        stop(restarted, data_dir)

    # Then its PostgreSQL is stopped too
    assert left == []


@pytest.mark.slow
def test_a_second_server_on_the_same_data_directory_is_refused_with_a_clear_message(
    embedded_server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, port, data_dir = embedded_server
    wait_ready(process, port)

    second_port = free_port()
    second = serve(data_dir, second_port)
    second.wait(timeout=60)

    assert second.returncode == 3
    assert "is in use by okrledger pid" in log_of(data_dir, second_port).read_text()
    assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200


@pytest.mark.slow
def test_serve_uses_the_server_that_database_url_names(owner_dsn: str, tmp_path: Path) -> None:
    port = free_port()
    process = serve(tmp_path / "data", port, database_url=owner_dsn)
    try:
        assert wait_ready(process, port).json() == {"status": "ready"}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert postgres_processes(tmp_path) == []


@pytest.mark.slow
def test_commands_share_the_embedded_postgresql_of_a_running_server(
    embedded_server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    process, port, data_dir = embedded_server
    wait_ready(process, port)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    demo = subprocess.run(
        [*OKRLEDGER, "demo", "--tenant", "shared", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    audit = subprocess.run(
        [*OKRLEDGER, "audit", "check", "--tenant", "shared", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert demo.returncode == 0, demo.stderr
    assert "4 objectives and 6 KPIs" in demo.stdout
    assert audit.returncode == 0, audit.stderr
    assert audit.stdout.startswith("ok: ")
    assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    assert postgres_processes(data_dir), "the server's PostgreSQL was left running"
