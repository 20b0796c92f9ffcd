"""The reliability settings in the config: defaults, older key names, strict errors that name
the key and the line, environment overrides."""

from __future__ import annotations

import pytest

from sidecar.config import (
    CircuitBreakerConfig,
    Config,
    Limits,
    Timeouts,
)
from sidecar.config_loader import ConfigError, parse_config
from tests.conftest import ROOT

DEFAULT = ROOT / "deploy" / "config" / "default.yaml"
MINIMAL = """
providers:
  p: {kind: direct, base_url: "http://127.0.0.1:1/v1"%s}
models:
  m: {routes: [{provider: p, model: m}]}
%s
"""


def config(provider_extra: str = "", top: str = "") -> Config:
    return parse_config(MINIMAL % (provider_extra, top), "cfg.yaml", {})


def test_defaults() -> None:
    cfg = config()
    timeouts = cfg.providers["p"].timeouts
    assert (timeouts.connect_s, timeouts.first_byte_s, timeouts.total_s) == (5, 60, 600)
    assert timeouts.idle_s is None and timeouts.idle == 60  # unset: as first_byte_s
    assert cfg.providers["p"].circuit_breaker == CircuitBreakerConfig(failures=5, cooldown_s=30)
    assert cfg.limits == Limits(
        max_body_bytes=10 * 1024 * 1024,
        max_depth=64,
        max_messages=2048,
        max_in_flight=256,
        header_timeout_s=10,
        body_timeout_s=30,
    )
    assert cfg.shutdown_grace_s == 25


def test_every_key_is_read() -> None:
    cfg = config(
        ", timeouts: {connect_s: 1, first_byte_s: 2, idle_s: 3, total_s: 4}"
        ", circuit_breaker: {failures: 2, cooldown_s: 0.5}",
        "limits: {max_body_bytes: 100, max_depth: 5, max_messages: 6, max_in_flight: 7,"
        " header_timeout_s: 8, body_timeout_s: 9, max_connections: 10}\nshutdown_grace_s: 11",
    )
    p = cfg.providers["p"]
    assert p.timeouts == Timeouts(connect_s=1, first_byte_s=2, idle_s=3, total_s=4)
    assert p.timeouts.idle == 3
    assert p.circuit_breaker == CircuitBreakerConfig(failures=2, cooldown_s=0.5)
    assert cfg.limits.model_dump() == {
        "max_body_bytes": 100,
        "max_depth": 5,
        "max_messages": 6,
        "max_in_flight": 7,
        "header_timeout_s": 8,
        "body_timeout_s": 9,
        "max_connections": 10,
    }
    assert cfg.shutdown_grace_s == 11


def test_older_key_names_still_work() -> None:
    cfg = config(", timeouts: {connect: 1, first_byte: 2, total: 4}", "limits: {max_json_depth: 9}")
    assert cfg.providers["p"].timeouts == Timeouts(connect_s=1, first_byte_s=2, total_s=4)
    assert cfg.limits.max_depth == cfg.limits.max_json_depth == 9


@pytest.mark.parametrize(
    ("provider_extra", "top", "key"),
    [
        (", timeouts: {connect_s: 1, connect: 2}", "", "providers.p.timeouts.connect"),
        (", timeouts: {idle: 3}", "", "providers.p.timeouts.idle"),
        (", circuit_breaker: {failures: 0}", "", "providers.p.circuit_breaker.failures"),
        (", circuit_breaker: {cooldown: 3}", "", "providers.p.circuit_breaker.cooldown"),
        ("", "limits: {max_in_flight: 0}", "limits.max_in_flight"),
        ("", "limits: {max_mesages: 10}", "limits.max_mesages"),
        ("", "limits: {header_timeout_s: -1}", "limits.header_timeout_s"),
        ("", "shutdown_grace_s: -1", "shutdown_grace_s"),
    ],
)
def test_bad_values_and_unknown_keys_name_the_key_and_line(
    provider_extra: str, top: str, key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config(provider_extra, top)
    message = str(caught.value)
    assert key in message and "(line " in message


def test_environment_overrides_reach_the_new_keys() -> None:
    cfg = parse_config(
        DEFAULT.read_text(),
        "cfg",
        {
            "LLM_ROUTER__limits__max_in_flight": "17",
            "LLM_ROUTER__shutdown_grace_s": "3",
            "LLM_ROUTER__providers__openai__circuit_breaker__failures": "9",
        },
    )
    assert cfg.limits.max_in_flight == 17 and cfg.shutdown_grace_s == 3
    assert cfg.providers["openai"].circuit_breaker.failures == 9
    assert cfg.providers["openai"].timeouts.idle_s == 30
