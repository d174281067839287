"""Configuration, from environment variables (prefix-free names, as documented in the README)
and, beneath them, an optional TOML file named by OKRLEDGER_CONFIG."""

from __future__ import annotations

import os
import tomllib
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from okrledger.infra.rate_limit import scheme_of

CONFIG_FILE_VARIABLE = "OKRLEDGER_CONFIG"


TRACE_EXPORTERS = frozenset({"otlp", "console", "none"})


class ConfigFileError(ValueError):
    """The file OKRLEDGER_CONFIG names is missing or is not TOML."""


def config_file_source(settings_cls: type[BaseSettings], path: Path) -> TomlConfigSettingsSource:
    if not path.is_file():
        raise ConfigFileError(f"{CONFIG_FILE_VARIABLE}={path}: no such file")
    try:
        return TomlConfigSettingsSource(settings_cls, toml_file=path)
    except tomllib.TOMLDecodeError as error:
        raise ConfigFileError(f"{path} is not valid TOML: {error}") from None


class Settings(BaseSettings):
    # Unknown keys (a typo in the configuration file) are errors, not silently ignored.
    model_config = SettingsConfigDict(env_file=None, extra="forbid", populate_by_name=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then the configuration file, then defaults."""
        sources = [init_settings, env_settings, dotenv_settings, file_secret_settings]
        config = os.environ.get(CONFIG_FILE_VARIABLE)
        if config:
            sources.insert(2, config_file_source(settings_cls, Path(config)))
        return tuple(sources)

    database_url: str | None = Field(
        default=None,
        description="Owner connection to PostgreSQL >= 15; unset means an embedded server.",
    )
    app_database_url: str | None = Field(
        default=None,
        description="Connection as the non-owner application role; derived from DATABASE_URL "
        "(user okrledger_app) when unset.",
    )
    app_db_password: str | None = Field(
        default=None, description="Password given to the okrledger_app role by migrations."
    )
    data_dir: Path = Field(
        default=Path(".okrledger"),
        validation_alias="OKRLEDGER_DATA_DIR",
        description="Where the embedded PostgreSQL and the development signing key live.",
    )
    host: str = Field(default="127.0.0.1", validation_alias="OKRLEDGER_HOST")
    port: int = Field(default=8000, validation_alias="OKRLEDGER_PORT")
    pool_min_size: int = Field(default=2, validation_alias="OKRLEDGER_POOL_MIN")
    pool_max_size: int = Field(default=10, validation_alias="OKRLEDGER_POOL_MAX")
    pool_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        validation_alias="OKRLEDGER_POOL_TIMEOUT",
        description="Longest wait for a database connection (or a serialized change's turn); "
        "past it the request is answered UNAVAILABLE (HTTP 503 with Retry-After).",
    )
    pool_per_tenant: int = Field(
        default=0,
        ge=0,
        validation_alias="OKRLEDGER_POOL_PER_TENANT",
        description="Most pooled connections one tenant's requests hold at once, so one busy "
        "tenant leaves connections to the others; 0 means half of OKRLEDGER_POOL_MAX.",
    )
    log_level: str = Field(default="INFO", validation_alias="OKRLEDGER_LOG_LEVEL")

    oidc_issuer: str | None = Field(
        default=None,
        validation_alias="OIDC_ISSUER",
        description="Issuer of access tokens; its keys are found by OIDC discovery "
        "({issuer}/.well-known/openid-configuration). Unset (with JWKS_URL unset) means the "
        "server is its own development issuer.",
    )
    jwks_url: str | None = Field(
        default=None,
        validation_alias="JWKS_URL",
        description="The issuer's JWKS, skipping discovery; OIDC_ISSUER must then name the "
        "issuer that tokens carry in 'iss'.",
    )
    audience: str = Field(
        default="okrledger",
        validation_alias="OKRLEDGER_AUDIENCE",
        description="The 'aud' every access token must name.",
    )
    token_leeway_seconds: int = Field(
        default=30,
        ge=0,
        le=300,
        validation_alias="OKRLEDGER_TOKEN_LEEWAY",
        description="Clock skew tolerated on a token's exp, nbf and iat.",
    )
    jwks_refresh_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias="OKRLEDGER_JWKS_REFRESH_INTERVAL",
        description="Least time between two JWKS fetches, however many unknown key ids arrive.",
    )
    jwks_max_age_seconds: float = Field(
        default=3600.0,
        gt=0,
        validation_alias="OKRLEDGER_JWKS_MAX_AGE",
        description="How long fetched keys are used before they are fetched again.",
    )
    tenant_claim: str = Field(
        default="tenant_id",
        validation_alias="OKRLEDGER_TENANT_CLAIM",
        description="The access-token claim naming the caller's tenant; a dotted path "
        "(a.b) reaches into nested claims when no claim has that exact name.",
    )
    roles_claim: str = Field(
        default="roles",
        validation_alias="OKRLEDGER_ROLES_CLAIM",
        description="The access-token claim listing the caller's roles "
        "(admin, editor, viewer, auditor, integrator; others are ignored); a dotted path "
        "(realm_access.roles) reaches into nested claims when no claim has that exact name.",
    )
    dev_issuer_url: str | None = Field(
        default=None,
        validation_alias="OKRLEDGER_DEV_ISSUER_URL",
        description="The development issuer's public URL (its 'iss'); derived from "
        "OKRLEDGER_HOST and OKRLEDGER_PORT when unset.",
    )
    tenant_mutations_per_minute: int = Field(
        default=6000,
        ge=0,
        validation_alias="OKRLEDGER_TENANT_MUTATIONS_PER_MINUTE",
        description="GraphQL mutations (each mutation field of a document counts) a tenant "
        "may run per minute, over HTTP and WebSocket alike; 0 turns the limit off.",
    )
    token_mutations_per_minute: int = Field(
        default=1200,
        ge=0,
        validation_alias="OKRLEDGER_TOKEN_MUTATIONS_PER_MINUTE",
        description="GraphQL mutations (each mutation field counts) one caller (tenant and "
        "subject) may run per minute; 0 turns the limit off.",
    )
    tenant_query_cost_per_minute: int = Field(
        default=2_000_000,
        ge=0,
        validation_alias="OKRLEDGER_TENANT_QUERY_COST_PER_MINUTE",
        description="The total cost (extensions.cost) of the queries a tenant may run per "
        "minute; answers from the response cache are free; 0 turns the limit off.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        validation_alias="OKRLEDGER_RATE_LIMIT_STORAGE",
        description="Where rate-limit budgets are counted: memory:// (each process its own) "
        "or redis://host:port/db (every process sharing one budget).",
    )

    webhook_allowed_networks: str = Field(
        default="",
        validation_alias="OKRLEDGER_WEBHOOK_ALLOWED_NETWORKS",
        description="Comma-separated networks (e.g. 127.0.0.0/8) webhook URLs may point at "
        "although not public; by default loopback, private and link-local are refused.",
    )
    webhook_worker: bool = Field(
        default=True,
        validation_alias="OKRLEDGER_WEBHOOK_WORKER",
        description="Whether this process delivers webhooks (any number of processes may).",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, validation_alias="OKRLEDGER_WEBHOOK_TIMEOUT"
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, le=100, validation_alias="OKRLEDGER_WEBHOOK_CONCURRENCY"
    )
    webhook_retry_window_seconds: float = Field(
        default=86400.0,
        gt=0,
        validation_alias="OKRLEDGER_WEBHOOK_RETRY_WINDOW",
        description="How long a failing delivery is retried before its webhook is paused.",
    )
    webhook_max_failures: int = Field(
        default=0,
        ge=0,
        validation_alias="OKRLEDGER_WEBHOOK_MAX_FAILURES",
        description="Pause a webhook after this many failed attempts in a row (0: only the "
        "retry window counts).",
    )

    @property
    def webhook_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(
            ip_network(part.strip(), strict=False)
            for part in self.webhook_allowed_networks.split(",")
            if part.strip()
        )

    @property
    def development_issuer_enabled(self) -> bool:
        """True when no real issuer is configured, so the server signs its own tokens."""
        return self.oidc_issuer is None and self.jwks_url is None

    @model_validator(mode="after")
    def _webhook_networks_parse(self) -> Self:
        self.webhook_networks  # noqa: B018 - raises ValueError on a malformed network
        return self

    @model_validator(mode="after")
    def _issuer_named_with_jwks_url(self) -> Self:
        if self.jwks_url is not None and self.oidc_issuer is None:
            raise ValueError("JWKS_URL needs OIDC_ISSUER: tokens' 'iss' must be checked against it")
        return self

    development: bool = Field(
        default=False,
        validation_alias="OKRLEDGER_DEVELOPMENT",
        description="Development mode: serves GraphiQL at /graphql and the console at "
        "/dev/console. Never in production.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        validation_alias="OKRLEDGER_CORS_ORIGINS",
        description="Comma-separated SPA origins allowed to call the API from a browser.",
    )
    max_request_bytes: int = Field(
        default=1_000_000,
        validation_alias="OKRLEDGER_MAX_REQUEST_BYTES",
        description="Larger GraphQL request bodies are refused with 413.",
    )
    max_response_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=0,
        validation_alias="OKRLEDGER_MAX_RESPONSE_BYTES",
        description="A GraphQL answer larger than this (its JSON) is replaced by the error "
        "RESPONSE_TOO_LARGE; 0 turns the limit off.",
    )

    subscriber_max_lag: int = Field(
        default=10_000,
        gt=0,
        validation_alias="OKRLEDGER_SUBSCRIBER_MAX_LAG",
        description="A subscriber this many events behind the log is ended (resume from its "
        "last position) rather than buffered without bound.",
    )

    metrics: bool = Field(
        default=True,
        validation_alias="OKRLEDGER_METRICS",
        description="Serve Prometheus metrics at /metrics on the API's port (totals only: no "
        "tenant ids, no payloads).",
    )
    metrics_token: str | None = Field(
        default=None,
        validation_alias="OKRLEDGER_METRICS_TOKEN",
        description="When set, /metrics answers only `Authorization: Bearer <this token>`.",
    )
    otel_traces_exporter: str | None = Field(
        default=None,
        validation_alias="OTEL_TRACES_EXPORTER",
        description="'otlp' (OTLP over HTTP/protobuf), 'console' or 'none'; tracing is on when "
        "this names an exporter or an OTLP endpoint is set, off otherwise.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="Base URL of the OTLP/HTTP receiver; traces go to {it}/v1/traces.",
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias="OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        description="Full URL for traces, overriding OTEL_EXPORTER_OTLP_ENDPOINT.",
    )

    response_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        validation_alias="OKRLEDGER_RESPONSE_CACHE_BYTES",
        description="Memory per process for query answers cached under each tenant's log "
        "position (never stale: a write moves the position); 0 turns the cache off.",
    )
    pace_resolution_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        validation_alias="OKRLEDGER_PACE_RESOLUTION",
        description="With the response cache on, current reads judge pace at the start of "
        "the current span of this many seconds (their judgedAt), so answers can be shared.",
    )

    graphql_max_depth: int = Field(default=12, validation_alias="OKRLEDGER_GRAPHQL_MAX_DEPTH")
    graphql_max_aliases: int = Field(default=30, validation_alias="OKRLEDGER_GRAPHQL_MAX_ALIASES")
    graphql_max_tokens: int = Field(default=5000, validation_alias="OKRLEDGER_GRAPHQL_MAX_TOKENS")
    graphql_max_cost: int = Field(
        default=100_000,
        ge=1,
        validation_alias="OKRLEDGER_GRAPHQL_MAX_COST",
        description="Documents costing more (each field 1, lists times their first) are "
        "refused before they run with QUERY_TOO_COMPLEX.",
    )

    @field_validator("otel_traces_exporter")
    @classmethod
    def _known_exporter(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in TRACE_EXPORTERS:
            raise ValueError(f"must be one of {', '.join(sorted(TRACE_EXPORTERS))}")
        return None if value is None else value.strip().lower()

    @field_validator("rate_limit_storage")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        scheme_of(value)  # raises a ValueError naming the accepted forms
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, origins: list[str]) -> list[str]:
        # A browser's Origin never has a path; "https://okr.example.com/" would never match.
        for origin in origins:
            if origin != "*" and not _is_origin(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: write it as scheme://host[:port], "
                    "e.g. https://okr.example.com, with no path"
                )
        return origins


def _is_origin(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    plain = not (parts.path or parts.query or parts.fragment or parts.username)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and plain
