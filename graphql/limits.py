"""How large a GraphQL request may be: depth, tokens, aliases and body bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from okrledger.graphql.error_codes import CodeDocumentErrors
from okrledger.graphql.masking import MaskUnexpectedErrors
from okrledger.graphql.text_input import RefuseControlCharacters

# Documents whose validation outcome is kept (an LRU shared by the process).
VALIDATED_DOCUMENTS = 512


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_tokens: int = 5000
    max_aliases: int = 30
    max_body_bytes: int = 1_000_000


def schema_extensions(
    limits: Limits,
) -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    """Factories, so each request gets its own extension instances.

    The depth and alias rules are made once: each limiter makes a new rule class, and
    the validation cache, keyed by document and rules, would then never answer.
    """
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    return [
        partial(AddValidationRules, rules),
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        # Keyed by the document's text and the token limit, so a limit still applies.
        partial(ParserCache, maxsize=VALIDATED_DOCUMENTS),
        partial(ValidationCache, maxsize=VALIDATED_DOCUMENTS),
        MaskUnexpectedErrors,
        CodeDocumentErrors,
        RefuseControlCharacters,
    ]
