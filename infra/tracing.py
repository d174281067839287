"""OpenTelemetry traces, only when an exporter is configured: a span per GraphQL operation
(its name and type, the tenant as an attribute) with a child span per database transaction.

Configured by the standard variables (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; the exporter itself reads OTEL_EXPORTER_OTLP_HEADERS,
…_TIMEOUT and …_COMPRESSION, the resource OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES).
With none of them set nothing here imports the SDK, so tracing off costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from importlib.metadata import version
from typing import TYPE_CHECKING

from okrledger.graphql.observe import Operation
from okrledger.infra.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

Attributes = Mapping[str, str | bool | int]


def tracing_wanted(settings: Settings) -> bool:
    """On when an exporter is named, or an OTLP endpoint is set and the exporter not 'none'."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = settings.otel_traces_exporter
    if exporter is not None:
        return exporter != "none"
    return bool(settings.otel_exporter_otlp_traces_endpoint or settings.otel_exporter_otlp_endpoint)


def traces_endpoint(settings: Settings) -> str | None:
    """The URL spans are posted to, as the OTLP specification derives it."""
    if settings.otel_exporter_otlp_traces_endpoint:
        return settings.otel_exporter_otlp_traces_endpoint
    if settings.otel_exporter_otlp_endpoint:
        return settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
    return None


class Tracing:
    """The process's tracer; `close()` exports what is still buffered."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer("okrledger", version("okrledger"))

    @contextmanager
    def observe(self) -> Iterator[Operation]:
        """The GraphQL observer: one span around the whole operation."""
        operation = Operation()
        with self.tracer.start_as_current_span("graphql.operation") as span:
            try:
                yield operation
            finally:
                _describe(span, operation)

    def span(self, name: str, attributes: Attributes) -> AbstractContextManager[Span]:
        return self.tracer.start_as_current_span(name, attributes=attributes)

    def close(self) -> None:
        self.provider.shutdown()


def _describe(span: Span, operation: Operation) -> None:
    from opentelemetry.trace import StatusCode

    named = f" {operation.name}" if operation.name else ""
    span.update_name(f"{operation.type}{named}")
    span.set_attribute("graphql.operation.type", operation.type)
    if operation.name:
        span.set_attribute("graphql.operation.name", operation.name)
    if operation.tenant_id:
        span.set_attribute("okrledger.tenant_id", operation.tenant_id)
    if operation.request_id:
        span.set_attribute("okrledger.request_id", operation.request_id)
    if operation.errors:
        span.set_status(StatusCode.ERROR, f"{operation.errors} error(s)")


def _exporter(settings: Settings) -> SpanExporter:
    if settings.otel_traces_exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=traces_endpoint(settings))


def start_tracing(settings: Settings) -> Tracing | None:
    """A tracer exporting in the background, or None when tracing is not configured.

    It is this process's own provider, not the global one: the app's spans are the app's,
    whatever else in the process uses OpenTelemetry.
    """
    if not tracing_wanted(settings):
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {"service.version": version("okrledger")}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "okrledger"
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(_exporter(settings)))
    return Tracing(provider)
