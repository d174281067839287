"""Server-side request forgery: a webhook reaches public addresses only, unless a network is
explicitly allowed in settings. An IPv6 address that carries an IPv4 one (mapped, compatible,
translated, NAT64, 6to4, Teredo) is judged by the IPv4 address it carries as well."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest

from okrledger.domain.webhook import UnsafeWebhookURL, destination_refusal, embedded_ipv4
from okrledger.infra.dns import SystemResolver
from okrledger.services.webhooks import check_destination

# IPv4 addresses a webhook may never reach, one or more per special-purpose block.
REFUSED_IPV4 = {
    "0.0.0.0": "'this network'",
    "0.1.2.3": "'this network'",
    "10.1.2.3": "private",
    "100.64.0.1": "shared address space",
    "100.127.255.254": "shared address space",
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "169.254.169.254": "link-local",
    "172.16.0.5": "private",
    "172.31.255.255": "private",
    "192.0.0.8": "IETF protocol assignments",
    "192.0.2.10": "documentation",
    "192.88.99.1": "6to4 relay anycast",
    "192.168.1.1": "private",
    "198.18.0.1": "benchmarking",
    "198.19.255.255": "benchmarking",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
}

# IPv6 addresses refused for what they are.
REFUSED_IPV6 = {
    "::": "unspecified",
    "::1": "loopback",
    "fe80::1": "link-local",
    "fec0::1": "site-local",
    "fc00::1": "unique-local",
    "fd12:3456::1": "unique-local",
    "ff02::1": "multicast",
    "ff0e::1": "multicast",
    "100::1": "discard-only",
    "2001:db8::1": "documentation",
    "3fff::1": "documentation",
    "64:ff9b:1::5db8:d70e": "local-use NAT64",
    "2001:0:4136:e378:8000:63bf:a247:28f1": "IETF protocol assignments",  # Teredo, public client
    "::ffff:93.184.215.14": "IPv4-mapped",
    "::93.184.215.14": "IPv4-compatible",
    "::ffff:0:93.184.215.14": "IPv4-translated",
}


def teredo(client: str, server: str = "65.54.227.120") -> str:
    """The Teredo address of a client: its address is stored XOR 0xffffffff in the last 32 bits."""
    s, c = int(IPv4Address(server)), int(IPv4Address(client)) ^ 0xFFFFFFFF
    return str(ip_address((0x2001 << 112) | (s << 64) | c))


def sixtofour(v4: str) -> str:
    return str(ip_address((0x2002 << 112) | (int(IPv4Address(v4)) << 80) | 1))


def nat64(v4: str) -> str:
    return str(ip_address(int(ip_address("64:ff9b::")) | int(IPv4Address(v4))))


def nat64_local(v4: str) -> str:
    return str(ip_address(int(ip_address("64:ff9b:1::")) | int(IPv4Address(v4))))


# Every IPv6 form that embeds an IPv4 address, each with every refused IPv4 address.
FORMS: dict[str, Callable[[str], str]] = {
    "IPv4-mapped": lambda v4: f"::ffff:{v4}",
    "IPv4-compatible": lambda v4: f"::{v4}",
    "IPv4-translated": lambda v4: f"::ffff:0:{v4}",
    "NAT64": nat64,
    "NAT64 local-use": nat64_local,
    "6to4": sixtofour,
    "Teredo client": teredo,
}
EMBEDDED = [
    pytest.param(form(v4), v4, id=f"{name}-{v4}")
    for name, form in FORMS.items()
    for v4 in REFUSED_IPV4
    # :: and ::1 are themselves (unspecified, loopback), not IPv4-compatible 0.0.0.0/0.0.0.1
    if not (name == "IPv4-compatible" and int(IPv4Address(v4)) <= 1)
]


@pytest.mark.parametrize(("address", "kind"), REFUSED_IPV4.items())
def test_a_non_public_ipv4_address_is_refused_naming_its_kind(address: str, kind: str) -> None:
    reason = destination_refusal(ip_address(address))

    assert reason is not None and kind in reason


@pytest.mark.parametrize(("address", "kind"), REFUSED_IPV6.items())
def test_a_non_public_ipv6_address_is_refused_naming_its_kind(address: str, kind: str) -> None:
    reason = destination_refusal(ip_address(address))

    assert reason is not None and kind in reason


@pytest.mark.parametrize(("address", "v4"), EMBEDDED)
def test_an_ipv6_form_embedding_a_non_public_ipv4_address_is_refused_naming_it(
    address: str, v4: str
) -> None:
    reason = destination_refusal(ip_address(address))

    assert reason is not None and reason.startswith(f"embeds {v4} ("), reason


def test_teredo_embeds_its_client_address_inverted_and_its_server() -> None:
    address = IPv6Address("2001:0:4136:e378:8000:63bf:3fff:fdd2")

    assert embedded_ipv4(address) == [
        ("Teredo client", IPv4Address("192.0.2.45")),
        ("Teredo server", IPv4Address("65.54.227.120")),
    ]


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "8.8.8.8",
        "1.1.1.1",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "2a00:1450:4001:82b::200e",
        nat64("93.184.215.14"),  # what DNS64 answers an IPv6-only server for a public name
        sixtofour("93.184.215.14"),
    ],
)
def test_a_public_address_is_accepted(address: str) -> None:
    assert destination_refusal(ip_address(address)) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::ffff:127.0.0.1"])
def test_an_allowed_network_admits_its_addresses_also_ipv4_mapped(address: str) -> None:
    assert destination_refusal(ip_address(address), [ip_network("127.0.0.0/8")]) is None


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "::1", nat64("127.0.0.1"), sixtofour("127.0.0.1"), teredo("127.0.0.1")],
)
def test_an_allowed_network_admits_nothing_else_not_even_a_translator_route_to_it(
    address: str,
) -> None:
    assert destination_refusal(ip_address(address), [ip_network("127.0.0.0/8")]) is not None


class Names:
    """A resolver answering from a fixed table (a DNS stand-in, as an attacker's DNS would)."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    async def resolve(self, host: str) -> Sequence[str]:
        return self.table.get(host, [host] if _is_ip(host) else [])


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


async def test_a_host_resolving_to_a_non_public_address_is_refused_naming_the_setting() -> None:
    names = Names({"hooks.example": ["10.0.0.7"]})

    with pytest.raises(UnsafeWebhookURL) as refused:
        await check_destination("https://hooks.example/x", names, ())

    assert refused.value.message == (
        "the host 'hooks.example' resolves to 10.0.0.7, which is private (10.0.0.0/8):"
        " webhooks reach public addresses only, or a network listed in"
        " OKRLEDGER_WEBHOOK_ALLOWED_NETWORKS"
    )


async def test_an_ip_literal_url_is_refused_naming_what_it_embeds() -> None:
    with pytest.raises(UnsafeWebhookURL) as refused:
        await check_destination("http://[64:ff9b::7f00:1]:8080/x", Names({}), ())

    assert refused.value.message.startswith(
        "the address 64:ff9b::7f00:1 embeds 127.0.0.1 (NAT64), which is loopback (127.0.0.0/8)"
    )
    assert refused.value.field == "url"


async def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    names = Names({"hooks.example": ["93.184.215.14", "10.0.0.7"]})

    with pytest.raises(UnsafeWebhookURL):
        await check_destination("https://hooks.example/x", names, ())


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeWebhookURL):
        await check_destination("https://nowhere.example/x", Names({}), ())


async def test_a_host_resolving_to_public_addresses_only_is_accepted() -> None:
    names = Names({"hooks.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]})

    await check_destination("https://hooks.example/x", names, ())


async def test_an_allowed_network_is_accepted_although_private() -> None:
    await check_destination("http://127.0.0.1:8080/x", Names({}), (ip_network("127.0.0.0/8"),))


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/x",
        "http://2130706433/x",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/x",
        "http://0x7f.1/x",
        "http://017700000001/x",  # octal
        "http://127.1/x",
        "http://[::1]/x",
        "http://[fe80::1%25lo]/x",  # with a zone id
    ],
)
async def test_loopback_spelled_any_way_the_system_resolver_reads_is_refused(url: str) -> None:
    # The operating system's resolver reads these without asking any DNS server.
    with pytest.raises(UnsafeWebhookURL):
        await check_destination(url, SystemResolver(), ())
