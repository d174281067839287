"""Scraping /metrics as Prometheus does, and reading samples out of the text."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 when the series does not exist yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def run(client: httpx.AsyncClient, headers: dict[str, str], document: str) -> None:
    """POST a named operation, as a client that sends no operationName does."""
    response = await client.post("/graphql", json={"query": document}, headers=headers)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
