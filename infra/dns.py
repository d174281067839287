"""Name resolution for webhooks, and connections only to the addresses it checked.

A webhook's host is resolved and every address checked (`check_host`) when the delivery
connects, and the connection goes to one of those addresses, not to whatever the name
resolves to a moment later: a name that answers a public address to the check and a
private one to the connection (DNS rebinding) cannot steer a delivery inside.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

from okrledger.domain.webhook import Network
from okrledger.services.webhooks import Resolver, check_host


class SystemResolver:
    async def resolve(self, host: str) -> list[str]:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError):
            return []
        return sorted({str(info[4][0]) for info in found})


class CheckedNetwork(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to checked addresses (raises `UnsafeWebhookURL`)."""

    def __init__(
        self,
        resolver: Resolver,
        allowed: Sequence[Network],
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.resolver = resolver
        self.allowed = tuple(allowed)
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await check_host(host, self.resolver, self.allowed)
        options = list(socket_options or ())
        failure: OSError | httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, options
                )
            except (OSError, httpcore.ConnectError) as error:
                failure = error
        assert failure is not None, "check_host returns at least one address"
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks connect over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (TLS verified against the URL's host name), connecting
    through `CheckedNetwork`. No proxy and no environment settings: a delivery goes
    straight to the checked address."""

    def __init__(self, resolver: Resolver, allowed: Sequence[Network]) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend; its pool, built the same way, does.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            network_backend=CheckedNetwork(resolver, allowed),
        )


def checked_client(resolver: Resolver, allowed: Sequence[Network]) -> httpx.AsyncClient:
    """An HTTP client for webhook deliveries: no redirects, no proxies, checked addresses."""
    return httpx.AsyncClient(
        transport=CheckedTransport(resolver, allowed), follow_redirects=False, trust_env=False
    )
