"""`okrledger serve` as a real process for load and crash tests: started, killed, restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from okrledger.infra.auth import development_issuer
from okrledger.infra.settings import Settings
from okrledger.services.identity import Role
from tests.e2e.server import free_port

OKRLEDGER = [sys.executable, "-c", "from okrledger.infra.cli import main; main()"]

# Rate limits off (the clients are the load), webhooks to the test's loopback receiver.
LOAD_ENVIRONMENT = {
    "OKRLEDGER_TENANT_MUTATIONS_PER_MINUTE": "0",
    "OKRLEDGER_TOKEN_MUTATIONS_PER_MINUTE": "0",
    "OKRLEDGER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
    "OKRLEDGER_LOG_LEVEL": "WARNING",
}


@dataclass
class ServedProcess:
    """One server on a fixed port and data directory, which can be killed and started again."""

    data_dir: Path
    database_url: str
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir.with_name(f"{self.data_dir.name}.log")

    def start(self) -> None:
        env = {**os.environ, **LOAD_ENVIRONMENT, **self.extra_env}
        env["DATABASE_URL"] = self.database_url
        self.starts += 1
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*OKRLEDGER, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    async def wait_ready(self, within: float = 90) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, self.log_tail()
                if await ready(http, self.url) == 200:
                    return
                await asyncio.sleep(0.1)
        raise AssertionError(f"server not ready in time\n{self.log_tail()}")

    def kill(self) -> None:
        """kill -9: no shutdown handler runs, in-flight requests and deliveries just stop."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def bearer(self, tenant_id: str, subject: str, *roles: Role) -> dict[str, str]:
        issuer = development_issuer(Settings(data_dir=self.data_dir))
        token = issuer.mint(tenant_id, subject, [r.value for r in roles or (Role.EDITOR,)])
        return {"Authorization": f"Bearer {token}"}

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


async def ready(http: httpx.AsyncClient, url: str) -> int | None:
    """The /readyz status code, or None when nothing answers."""
    try:
        return (await http.get(f"{url}/readyz")).status_code
    except httpx.TransportError:
        return None
