"""Which media type a response is in, from the request's Accept header (GraphQL over HTTP).

`application/graphql-response+json` answers request errors (a document that does not parse
or validate, variables that do not coerce) with 400 and no `data`, so clients and proxies can
tell them from execution results by status; `application/json`, the legacy type existing
clients expect, answers every GraphQL result with 200.
"""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

# What each acceptable media range gives; wildcards get the legacy type.
_OFFERED = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE, JSON: JSON, "application/*": JSON, "*/*": JSON}


def negotiated(accept: str | None) -> str | None:
    """The media type to answer in, or None when the client accepts neither (406).

    No Accept header means application/json. Of the ranges the client accepts, the highest
    quality wins; on a tie, the more specific one, then the one listed first.
    """
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, int] | None = None
    chosen = None
    for index, part in enumerate(accept.split(",")):
        media_range, quality = _range_and_quality(part)
        offered = _OFFERED.get(media_range)
        if offered is None or quality <= 0:
            continue
        rank = (quality, 0 if "*" in media_range else 1, -index)
        if best is None or rank > best:
            best, chosen = rank, offered
    return chosen


def _range_and_quality(part: str) -> tuple[str, float]:
    media_range, *parameters = (piece.strip() for piece in part.split(";"))
    quality = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
    if not 0.0 <= quality <= 1.0:  # NaN too
        quality = 0.0
    return media_range.lower(), quality
