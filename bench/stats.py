"""Medians, percentiles and the table rows every benchmark reports."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.99 is p99)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass(frozen=True)
class Result:
    """One line of the report: a rate (median over runs) and latencies (over every operation)."""

    benchmark: str
    subject: str
    rate: float  # operations per second, median of the runs
    p50_ms: float
    p99_ms: float
    runs: int
    target: str = ""
    verdict: str = ""
    note: str = ""


def summarise(
    benchmark: str,
    subject: str,
    rates: Sequence[float],
    latencies_s: Sequence[float],
    *,
    target: str = "",
    verdict: str = "",
    note: str = "",
) -> Result:
    return Result(
        benchmark,
        subject,
        statistics.median(rates),
        percentile(latencies_s, 0.5) * 1000,
        percentile(latencies_s, 0.99) * 1000,
        len(rates),
        target,
        verdict,
        note,
    )
