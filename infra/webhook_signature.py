"""How a delivery is signed: `Okrledger-Signature: t=<unix time>,v1=<hex>` where the hex is
HMAC-SHA256, keyed by the webhook's secret, over "<t>.<body>". During a rotation's grace
period a second v1 (the previous secret's) follows; a receiver accepts either.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

SIGNATURE_HEADER = "Okrledger-Signature"
DELIVERY_HEADER = "Okrledger-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])
