"""Server-side request forgery: a webhook URL must resolve to public addresses only,
unless a network is explicitly allowed in settings."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import ip_network

import pytest

from okrledger.services.webhooks import UnsafeWebhookURL, check_destination


class Names:
    """A resolver answering from a fixed table (a DNS stand-in, as an attacker's DNS would)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def resolve(self, host: str) -> Sequence[str]:
        return self.table.get(host, [])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.5",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
async def test_a_host_resolving_to_a_non_public_address_is_refused(address: str) -> None:
    with pytest.raises(UnsafeWebhookURL):
        await check_destination("https://hooks.example/x", Names({"hooks.example": [address]}), ())


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    names = Names({"hooks.example": ["93.184.215.14", "10.0.0.7"]})

    with pytest.raises(UnsafeWebhookURL):
        await check_destination("https://hooks.example/x", names, ())


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeWebhookURL):
        await check_destination("https://nowhere.example/x", Names({}), ())


async def test_a_public_address_is_accepted() -> None:
    names = Names({"hooks.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]})

    await check_destination("https://hooks.example/x", names, ())


async def test_an_allowed_network_is_accepted_although_private() -> None:
    names = Names({"127.0.0.1": ["127.0.0.1"]})

    await check_destination("http://127.0.0.1:8080/x", names, (ip_network("127.0.0.0/8"),))
