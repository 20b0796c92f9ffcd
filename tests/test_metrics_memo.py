"""Label children are looked up once per label set; counting still lands in the right series."""

from __future__ import annotations

from sidecar.metrics import Metrics


def test_memoized_labels_count_into_their_own_series() -> None:
    m = Metrics()
    a = m.upstream_attempts.labels(provider="openai", outcome="ok")
    assert m.upstream_attempts.labels(provider="openai", outcome="ok") is a
    a.inc()
    m.upstream_attempts.labels(provider="openai", outcome="ok").inc()
    m.upstream_attempts.labels(provider="openrouter", outcome="timeout").inc()
    text = m.exposition().decode()
    assert 'llm_router_upstream_attempts_total{outcome="ok",provider="openai"} 2.0' in text
    assert 'llm_router_upstream_attempts_total{outcome="timeout",provider="openrouter"} 1.0' in text


def test_two_sidecars_do_not_share_children() -> None:
    one, two = Metrics(), Metrics()
    one.tokens.labels(provider="openai", model="gpt-4o", type="prompt").inc(5)
    series = 'llm_router_tokens_total{model="gpt-4o",provider="openai",type="prompt"} 5.0'
    assert series in one.exposition().decode()
    assert series not in two.exposition().decode()
