"""The issuer's signing keys: fetched over HTTP (OIDC discovery or a JWKS URL), or trusted directly.

Keys are cached. A token naming a key id the cache does not hold triggers a refetch, so a key the
issuer rotated in is picked up without a restart; refetches are spaced at least
`refresh_interval` apart, so a flood of tokens with made-up key ids costs the issuer one request
per interval, not one per token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, RSAKey

DISCOVERY_PATH = "/.well-known/openid-configuration"
_ACCEPTED_KEY_TYPES: dict[str, type[RSAKey] | type[ECKey]] = {"RSA": RSAKey, "EC": ECKey}
_MAX_DOCUMENT_BYTES = 256 * 1024

log = logging.getLogger(__name__)


class KeysUnavailable(Exception):
    """The issuer's discovery document or key set could not be fetched or understood."""


class KeySource(Protocol):
    async def key(self, kid: str) -> Key | None:
        """The verification key with id `kid`, or None when the issuer has no such key."""
        ...


def key_set_from_jwks(document: object) -> KeySet:
    """The RSA and EC signature keys of a JWKS document; other keys are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeysUnavailable("the JWKS document has no 'keys' list")
    keys: list[Key] = []
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        key_class = _ACCEPTED_KEY_TYPES.get(str(entry.get("kty")))
        if key_class is None or not isinstance(entry.get("kid"), str):
            continue
        try:
            key = key_class.import_key(entry)
        except (JoseError, ValueError, TypeError):
            continue
        if key.is_private:
            # A private key in a published set is the issuer's mistake; never verify with it.
            key = key_class.import_key(key.as_dict(private=False))
        keys.append(key)
    return KeySet(keys)


def _find(keys: KeySet, kid: str) -> Key | None:
    return next((key for key in keys if key.kid == kid), None)


class StaticKeys:
    """Keys known in-process (the development issuer's), trusted without HTTP."""

    def __init__(self, keys: KeySet) -> None:
        self._keys = keys

    async def key(self, kid: str) -> Key | None:
        return _find(self._keys, kid)


class RemoteKeys:
    """The JWKS of an issuer, found by OIDC discovery (`issuer`) or given directly (`jwks_url`)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        issuer: str | None = None,
        jwks_url: str | None = None,
        refresh_interval: float = 30.0,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if issuer is None and jwks_url is None:
            raise ValueError("RemoteKeys needs an issuer (for discovery) or a JWKS URL")
        self._client = client
        self._issuer = issuer
        self._jwks_url = jwks_url
        self._refresh_interval = refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: KeySet | None = None
        self._loaded_at = float("-inf")
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0  # refresh attempts (discovery + JWKS); for tests and metrics

    async def key(self, kid: str) -> Key | None:
        if (
            self._keys is None
            or self._since(self._loaded_at) >= self._max_age
            or _find(self._keys, kid) is None
        ):
            await self._refresh()
        if self._keys is None:
            raise KeysUnavailable("the issuer's keys have not been fetched yet")
        return _find(self._keys, kid)

    def _since(self, moment: float) -> float:
        return self._clock() - moment

    async def _refresh(self) -> None:
        async with self._lock:
            # Also true for a caller that waited on the lock while another one refreshed.
            if self._since(self._attempted_at) < self._refresh_interval:
                return
            self._attempted_at = self._clock()
            self.fetches += 1
            try:
                self._keys = key_set_from_jwks(await self._get_json(await self._jwks_uri()))
                self._loaded_at = self._attempted_at
            except KeysUnavailable:
                if self._keys is None:
                    raise
                # Keep verifying with the keys we have rather than refuse everyone meanwhile.
                log.warning("refreshing the issuer's keys failed", exc_info=True)

    async def _jwks_uri(self) -> str:
        if self._jwks_url is None:
            assert self._issuer is not None
            document = await self._get_json(self._issuer.rstrip("/") + DISCOVERY_PATH)
            if not isinstance(document, dict) or document.get("issuer") != self._issuer:
                raise KeysUnavailable("the discovery document names another issuer")
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise KeysUnavailable("the discovery document has no jwks_uri")
            self._jwks_url = jwks_uri
        return self._jwks_url

    async def _get_json(self, url: str) -> Any:
        try:
            response = await self._client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            if len(response.content) > _MAX_DOCUMENT_BYTES:
                raise KeysUnavailable(f"{url} answered with an oversized document")
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise KeysUnavailable(f"could not fetch {url}: {error}") from error
