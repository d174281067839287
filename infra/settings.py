"""Configuration, from environment variables (prefix-free names, as documented in the README)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

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
    log_level: str = Field(default="INFO", validation_alias="OKRLEDGER_LOG_LEVEL")
    development: bool = Field(
        default=False,
        validation_alias="OKRLEDGER_DEVELOPMENT",
        description="Development mode: serves GraphiQL at /graphql. Never in production.",
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

    graphql_max_depth: int = Field(default=12, validation_alias="OKRLEDGER_GRAPHQL_MAX_DEPTH")
    graphql_max_aliases: int = Field(default=30, validation_alias="OKRLEDGER_GRAPHQL_MAX_ALIASES")
    graphql_max_tokens: int = Field(default=5000, validation_alias="OKRLEDGER_GRAPHQL_MAX_TOKENS")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value
