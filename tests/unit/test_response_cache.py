"""Which answers the response cache may hold, and how its memory stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from okrledger.graphql.response_cache import ReadRequest, ResponseCache


def request(query: str = "{ cycles { id } }", tenant_id: str = "t-1") -> ReadRequest:
    return ReadRequest(tenant_id, ("viewer",), query, {"c": 1}, None, 0)


def test_a_query_reading_only_the_read_models_is_cacheable() -> None:
    cache = ResponseCache(1_000_000, 60)

    assert cache.cacheable("query($c: UUID!) { okrTree(cycle: $c) { judgedAt } }", None)


def test_mutations_and_subscriptions_are_not_cacheable() -> None:
    cache = ResponseCache(1_000_000, 60)

    assert not cache.cacheable("mutation { startCycle { __typename } }", None)
    assert not cache.cacheable("subscription { goalEvents { type } }", None)


def test_a_query_naming_the_caller_or_webhook_deliveries_is_not_cacheable() -> None:
    cache = ResponseCache(1_000_000, 60)

    assert not cache.cacheable("{ me { subject } }", None)
    assert not cache.cacheable("{ serverVersion webhooks { totalCount } }", None)
    assert not cache.cacheable("{ verifyAuditChain { ok } }", None)


def test_root_fields_behind_fragments_count() -> None:
    cache = ResponseCache(1_000_000, 60)

    assert not cache.cacheable("{ ...F } fragment F on Query { me { subject } }", None)
    assert not cache.cacheable("{ ... on Query { me { subject } } }", None)
    assert cache.cacheable("{ ...F } fragment F on Query { cycles { id } }", None)


def test_in_a_document_of_several_operations_only_the_named_queries_are_cacheable() -> None:
    cache = ResponseCache(1_000_000, 60)
    document = "query A { cycles { id } } mutation B { startCycle { __typename } }"

    assert cache.cacheable(document, "A")
    assert not cache.cacheable(document, "B")
    assert not cache.cacheable(document, None)


def test_a_query_of_the_server_version_alone_is_not_worth_caching() -> None:
    cache = ResponseCache(1_000_000, 60)

    assert not cache.cacheable("{ serverVersion __typename }", None)
    assert cache.cacheable("{ serverVersion cycles { id } }", None)


def test_a_document_that_does_not_parse_is_not_cacheable() -> None:
    assert not ResponseCache(1_000_000, 60).cacheable("{ okrTree(", None)


def test_the_least_recently_used_answer_is_evicted_past_the_byte_budget() -> None:
    cache = ResponseCache(2_000, 60)
    first, second, third = (cache.key(request(), head) for head in (1, 2, 3))
    cache.put(first, b"x" * 500)
    cache.put(second, b"y" * 500)
    assert cache.get(first) is not None  # now the most recently used

    cache.put(third, b"z" * 500)

    assert cache.get(second) is None
    assert cache.get(first) == b"x" * 500 and cache.get(third) == b"z" * 500
    assert cache.size <= 2_000


def test_an_answer_larger_than_the_budget_is_not_stored() -> None:
    cache = ResponseCache(1_000, 60)
    key = cache.key(request(), 1)

    cache.put(key, b"x" * 1_000)

    assert cache.get(key) is None and cache.size == 0


def test_keys_differ_by_tenant_head_and_variables() -> None:
    cache = ResponseCache(1_000_000, 60)
    base = cache.key(request(), 7)

    assert cache.key(request(tenant_id="t-2"), 7) != base
    assert cache.key(request(), 8) != base
    assert cache.key(ReadRequest("t-1", ("viewer",), "{ cycles { id } }", {}, None, 0), 7) != base


def test_pace_is_judged_at_the_start_of_its_bucket() -> None:
    cache = ResponseCache(1_000_000, 60)
    moment = datetime(2026, 11, 3, 10, 17, 42, 123_000, tzinfo=UTC)

    assert cache.judged_at(cache.bucket(moment)) == datetime(2026, 11, 3, 10, 17, tzinfo=UTC)
