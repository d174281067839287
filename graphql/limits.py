"""How large a GraphQL request may be: depth, tokens, aliases, cost, body and answer bytes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from graphql import DocumentNode
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from okrledger.graphql.admission import CostLimits, admission
from okrledger.graphql.error_codes import CodeDocumentErrors
from okrledger.graphql.masking import MaskUnexpectedErrors
from okrledger.graphql.rate_limits import Budgets
from okrledger.graphql.text_input import RefuseControlCharacters

# Documents whose validation outcome is kept (an LRU shared by the process).
VALIDATED_DOCUMENTS = 512


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_tokens: int = 5000
    max_aliases: int = 30
    max_body_bytes: int = 1_000_000
    max_cost: int = CostLimits.max_cost
    max_response_bytes: int = CostLimits.max_response_bytes


_parsed: dict[tuple[str, tuple[tuple[str, object], ...]], DocumentNode] = {}


class ParseOnce(SchemaExtension):
    """Each document text is parsed once (per token limit, so the limit still applies).

    Not strawberry's ParserCache: that one parses inside the extension, so a document that
    does not parse escapes the errors GraphQL reports (and CodeDocumentErrors codes). Here
    only a document that parsed is kept, and a miss leaves the parse to strawberry.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        key = (context.query or "", tuple(sorted(context.parse_options.items())))
        cached = _parsed.get(key)
        if cached is not None:
            context.graphql_document = cached
        yield
        if cached is None and context.graphql_document is not None:
            if len(_parsed) >= VALIDATED_DOCUMENTS:
                del _parsed[next(iter(_parsed))]
            _parsed[key] = context.graphql_document


def schema_extensions(
    limits: Limits, budgets: Budgets | None = None
) -> list[type[SchemaExtension] | Callable[[], SchemaExtension]]:
    """Factories, so each request gets its own extension instances.

    Admission validates (with the outcome of each document kept) after costing the document
    and before charging the caller's budgets (graphql/admission.py).

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
        ParseOnce,
        admission(
            CostLimits(max_cost=limits.max_cost, max_response_bytes=limits.max_response_bytes),
            budgets,
            VALIDATED_DOCUMENTS,
        ),
        MaskUnexpectedErrors,
        CodeDocumentErrors,
        RefuseControlCharacters,
    ]
