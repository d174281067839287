"""Query responses cached under the tenant's log position, so a cached answer is never stale.

A read model changes only when its tenant's log moves (every projection runs inline, in
the append transaction), so the same query from a caller with the same roles, read at
the same head position, gets the same answer. The key holds all of that: tenant, head,
roles, document, variables and operation name, and the moment pace is judged at (current
reads judge pace at the start of a time bucket, so a bucket's answers are all alike).

Only queries whose root fields all read the log's read models are cached: not `me`
(it names the caller), not webhooks (delivery attempts are not events), not the audit
chain check (it recomputes from the stored rows on purpose). Answers with errors or
extensions are never stored. Memory is bounded by bytes, least recently used first out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)

# Root query fields answered from the tenant's log alone (by position) and the schema.
CACHEABLE_ROOT_FIELDS = frozenset(
    {
        "cycles",
        "objective",
        "objectives",
        "okrTree",
        "keyResult",
        "kpi",
        "kpis",
        "goalHistory",
        "auditLog",
        "goalpostChanges",
        "events",
    }
)
# Fields that need no cache, allowed beside the others; alone they are not worth a lookup.
STATIC_ROOT_FIELDS = frozenset({"serverVersion", "__typename"})
# Per entry, beyond the answer's and the document's bytes: the key tuple and the dict slot.
ENTRY_OVERHEAD = 200
# What documents are remembered as (not) cacheable: at most 512 of 20,000 characters.
KNOWN_DOCUMENTS = 512
KNOWN_DOCUMENT_CHARS = 20_000

Key = tuple[str, int, int, tuple[str, ...], str, bytes, str | None]


@dataclass(frozen=True)
class ReadRequest:
    """What decides an answer besides the tenant's head: who asks, what, and when."""

    tenant_id: str
    roles: tuple[str, ...]
    query: str
    variables: Mapping[str, Any] | None
    operation_name: str | None
    bucket: int


class ResponseCache:
    """Encoded `data` of query answers, least recently used evicted past `max_bytes`."""

    def __init__(self, max_bytes: int, bucket_seconds: int) -> None:
        self.max_bytes = max_bytes
        self.bucket_seconds = bucket_seconds
        self.hits = 0
        self.misses = 0
        self.size = 0
        self._answers: OrderedDict[Key, bytes] = OrderedDict()
        self._documents: OrderedDict[str, frozenset[str | None]] = OrderedDict()

    def bucket(self, now: datetime) -> int:
        return int(now.timestamp()) // self.bucket_seconds

    def judged_at(self, bucket: int) -> datetime:
        """The moment current reads in `bucket` judge pace at: the bucket's start."""
        return datetime.fromtimestamp(bucket * self.bucket_seconds, UTC)

    def cacheable(self, query: str, operation_name: str | None) -> bool:
        """The operation is a query whose root fields all read the log's read models."""
        operations = self._documents.get(query)
        if operations is None:
            operations = cacheable_operations(query)
            if len(query) <= KNOWN_DOCUMENT_CHARS:
                self._documents[query] = operations
                if len(self._documents) > KNOWN_DOCUMENTS:
                    self._documents.popitem(last=False)
        else:
            self._documents.move_to_end(query)
        if operation_name is None:
            return None in operations
        return operation_name in operations

    def key(self, request: ReadRequest, head: int) -> Key:
        variables = orjson.dumps(request.variables or {}, option=orjson.OPT_SORT_KEYS)
        return (
            request.tenant_id,
            head,
            request.bucket,
            request.roles,
            request.query,
            variables,
            request.operation_name,
        )

    def get(self, key: Key) -> bytes | None:
        found = self._answers.get(key)
        if found is None:
            self.misses += 1
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return found

    def put(self, key: Key, data: bytes) -> None:
        cost = _cost(key, data)
        if cost > self.max_bytes or key in self._answers:
            return
        self._answers[key] = data
        self.size += cost
        while self.size > self.max_bytes:
            old_key, old_data = self._answers.popitem(last=False)
            self.size -= _cost(old_key, old_data)


def _cost(key: Key, data: bytes) -> int:
    return len(data) + len(key[4]) + len(key[5]) + ENTRY_OVERHEAD


def cacheable_operations(query: str) -> frozenset[str | None]:
    """The names of the document's cacheable query operations (None: the only operation)."""
    try:
        document = parse(query)
    except GraphQLError:
        return frozenset()
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str | None] = set()
    for operation in operations:
        if operation.operation is not OperationType.QUERY:
            continue
        roots = _root_fields(operation.selection_set, fragments, set())
        if roots is None or not roots - STATIC_ROOT_FIELDS:
            continue
        if not roots <= CACHEABLE_ROOT_FIELDS | STATIC_ROOT_FIELDS:
            continue
        if operation.name is not None:
            names.add(operation.name.value)
        if len(operations) == 1:
            names.add(None)
    return frozenset(names)


def _root_fields(
    selections: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> set[str] | None:
    """Field names at the root, through fragments; None if a fragment is unknown or loops."""
    names: set[str] = set()
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
            continue
        if isinstance(selection, InlineFragmentNode):
            inner = _root_fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                return None
            inner = _root_fields(fragment.selection_set, fragments, seen | {name})
        else:
            return None
        if inner is None:
            return None
        names |= inner
    return names
