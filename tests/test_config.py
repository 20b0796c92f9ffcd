"""Configuration: strict schema, errors that name key and line, env overrides, key sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from sidecar.config_loader import ConfigError, load_config, parse_config
from sidecar.credentials import load_credential
from tests.conftest import ROOT, run_cli

DEFAULT = ROOT / "deploy" / "config" / "default.yaml"


def test_default_config_is_valid() -> None:
    config = load_config(DEFAULT, environ={})
    assert {"openai", "google", "openrouter"} <= set(config.providers)
    assert config.providers["openrouter"].kind == "aggregator"
    assert config.listen.host == "127.0.0.1"


def test_unknown_key_names_key_and_line() -> None:
    text = DEFAULT.read_text().replace("dpa: true, baa: false", "dpa: true, bba: false", 1)
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cfg.yaml", {})
    message = str(caught.value)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "bba" in ln)
    assert "providers.openai.compliance.bba" in message
    assert f"line {line}" in message


def test_undefined_provider_in_route_is_an_error() -> None:
    text = DEFAULT.read_text().replace(
        "{provider: openai, model: gpt-4o}", "{provider: opneai, model: gpt-4o}"
    )
    with pytest.raises(ConfigError, match="opneai"):
        parse_config(text, "cfg.yaml", {})


def test_environment_overrides() -> None:
    config = parse_config(
        DEFAULT.read_text(),
        "cfg",
        {"LLM_ROUTER__listen__port": "8181", "LLM_ROUTER__policy__timeout_ms": "75"},
    )
    assert config.listen.port == 8181 and config.policy.timeout_ms == 75


def test_key_from_file_is_reread_on_rotation(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("first-key\n")
    cred = load_credential("openai", None, key_file, {})
    assert cred.current() == "first-key"
    assert "first-key" not in repr(cred)
    key_file.write_text("second-key\n")
    import os

    os.utime(key_file, (1, 1))
    cred._checked = 0.0
    assert cred.current() == "second-key"


def test_missing_env_key_is_unavailable_not_fatal() -> None:
    cred = load_credential("openai", "NOPE_KEY", None, {})
    assert cred.current() is None and "NOPE_KEY" in (cred.problem or "")


def test_serve_with_bad_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("providers: {}\nmodels: {}\nlisten: {hots: 1}\n")
    proc = run_cli("serve", "--config", str(bad))
    assert proc.returncode == 2
    assert "listen.hots (line 3): unknown key" in proc.stderr
