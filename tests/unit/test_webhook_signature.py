"""The signature header a receiver verifies."""

from __future__ import annotations

import hashlib
import hmac

from okrledger.infra.webhook_signature import signature_header


def test_the_header_names_the_time_and_an_hmac_over_time_and_body() -> None:
    body = b'{"type":"okr.objective.set.v1"}'

    header = signature_header(["whsec_a"], 1700000000, body)

    expected = hmac.new(b"whsec_a", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_during_a_rotation_both_secrets_sign() -> None:
    header = signature_header(["whsec_new", "whsec_old"], 1, b"{}")

    assert [part.split("=")[0] for part in header.split(",")] == ["t", "v1", "v1"]
