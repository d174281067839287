"""Prometheus metrics: what the server counts, and the text a scrape of /metrics returns.

Labels are bounded: no tenant ids, GraphQL operation names capped (see `OperationNames`),
event types from the public contract. With several server processes (`serve --workers N`)
a scrape reaches any one of them, so counters go through prometheus-client's multiprocess
mode (see metrics_processes.py) and each scrape sums every process's files.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from okrledger.graphql.observe import Operation
from okrledger.infra.metrics_processes import MULTIPROCESS_DIR
from okrledger.infra.outbox import PUBLIC_BY_EVENT_TYPE

_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class OperationNames:
    """Operation names are chosen by clients: the first `limit` well-formed ones become
    labels, later ones count as "other"; unnamed operations are "anonymous"."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if name is None:
            return "anonymous"
        if name in self._seen:
            return name
        if not _OPERATION_NAME.match(name) or len(self._seen) >= self.limit:
            return "other"
        self._seen.add(name)
        return name


@dataclass(frozen=True)
class ProjectionLag:
    projection: str
    events_behind: int
    tenants_behind: int


@dataclass(frozen=True)
class DatabaseState:
    """Read at scrape time; empty when the database did not answer."""

    projection_lag: Sequence[ProjectionLag] = ()
    webhook_backlog: Mapping[str, int] = field(default_factory=dict)
    answered: bool = True


class _DatabaseCollector(Collector):
    """Yields the state last read from the database (set just before each scrape)."""

    def __init__(self) -> None:
        self.state = DatabaseState(answered=False)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "okrledger_metrics_database_up", "Whether the scrape could read the database."
        )
        up.add_metric([], 1 if self.state.answered else 0)
        yield up
        if not self.state.answered:
            return
        events = GaugeMetricFamily(
            "okrledger_projection_lag_events",
            "Events the projection has yet to apply, summed over tenants.",
            labels=["projection"],
        )
        tenants = GaugeMetricFamily(
            "okrledger_projection_lag_tenants",
            "Tenants whose log the projection has not caught up with.",
            labels=["projection"],
        )
        for lag in self.state.projection_lag:
            events.add_metric([lag.projection], lag.events_behind)
            tenants.add_metric([lag.projection], lag.tenants_behind)
        yield events
        yield tenants
        backlog = GaugeMetricFamily(
            "okrledger_webhook_backlog",
            "Webhook deliveries not yet acknowledged: due now, waiting to retry, or paused.",
            labels=["state"],
        )
        for state, count in self.state.webhook_backlog.items():
            backlog.add_metric([state], count)
        yield backlog


class Metrics:
    """One per server process. Its own registry unless in multiprocess mode, so that
    several apps in one process (tests) never share counters."""

    def __init__(self, operation_names: OperationNames | None = None) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_DIR))
        self.registry = CollectorRegistry()
        registry = None if self.multiprocess else self.registry
        self.operation_names = operation_names or OperationNames()
        self.http_requests = Counter(
            "okrledger_http_requests",
            "HTTP requests answered, by method, endpoint and status code.",
            ["method", "endpoint", "status"],
            registry=registry,
        )
        self.graphql_duration = Histogram(
            "okrledger_graphql_operation_duration_seconds",
            "GraphQL operations from parsing to result, by operation name and type.",
            ["operation", "type"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.graphql_errors = Counter(
            "okrledger_graphql_operation_errors",
            "GraphQL operations that answered with errors (not typed UserError results).",
            ["operation", "type"],
            registry=registry,
        )
        self.events_appended = Counter(
            "okrledger_events_appended",
            "Events appended to the log, by public event type ('internal' for the rest).",
            ["event_type"],
            registry=registry,
        )
        self.pool_connections = Gauge(
            "okrledger_db_pool_connections",
            "Connections of the asyncpg pools: open, idle, in use, and the most allowed.",
            ["pool", "state"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._database = _DatabaseCollector()
        if self.multiprocess:
            # prometheus_client.multiprocess carries no annotations.
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        self.registry.register(self._database)

    @contextmanager
    def observe(self) -> Iterator[Operation]:
        """The GraphQL observer: times the operation and counts its errors."""
        operation = Operation()
        began = time.perf_counter()
        try:
            yield operation
        finally:
            labels = (self.operation_names.label(operation.name), operation.type)
            self.graphql_duration.labels(*labels).observe(time.perf_counter() - began)
            if operation.errors:
                self.graphql_errors.labels(*labels).inc()

    def appended(self, event_types: Iterable[str]) -> None:
        """The event store's observer, called after each committed append."""
        for event_type in event_types:
            self.events_appended.labels(PUBLIC_BY_EVENT_TYPE.get(event_type, "internal")).inc()

    def answered(self, method: str, endpoint: str, status: int) -> None:
        self.http_requests.labels(method, endpoint, str(status)).inc()

    def pools(self, pools: Mapping[str, PoolUse]) -> None:
        for name, use in pools.items():
            for state, value in use.items():
                self.pool_connections.labels(name, state).set(value)

    def exposition(self, state: DatabaseState) -> bytes:
        self._database.state = state
        return generate_latest(self.registry)

    def close(self) -> None:
        """This process stops: its live gauges stop counting in the other processes' scrapes."""
        if self.multiprocess:
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


PoolUse = Mapping[str, int]
