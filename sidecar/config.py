"""The sidecar's YAML configuration, validated by pydantic (the audit and classification
sections live in config_audit.py and config_classification.py, re-exported here).

Unknown keys are errors, because a misspelt compliance attribute (say `bba: true`) that was
silently ignored would route regulated data by a contract nobody holds. Validation errors
name the key and the line of the file, so the operator finds them without guessing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    field_validator,
    model_validator,
)

from sidecar.config_audit import AuditConfig as AuditConfig
from sidecar.config_audit import HttpSinkConfig as HttpSinkConfig
from sidecar.config_base import Strict as _Strict
from sidecar.config_classification import ClassificationConfig as ClassificationConfig
from sidecar.config_classification import CustomDetectorConfig as CustomDetectorConfig
from sidecar.config_classification import KeywordListConfig as KeywordListConfig
from sidecar.config_endpoints import PassthroughEndpoint

ENV_PREFIX = "LLM_ROUTER__"
"""Environment overrides: LLM_ROUTER__listen__port=8081 sets listen.port."""


class Listen(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class AdminListen(_Strict):
    host: str = "0.0.0.0"
    port: int = Field(9090, ge=0, le=65535)
    max_connections: int = Field(64, ge=1)
    """Open connections to /metrics, /healthz and /readyz; more are closed at once. Probes
    and a scraper need a handful; the cap keeps a flood from costing the pod its file
    descriptors."""


class Compliance(_Strict):
    """Facts of the operator's own contracts with a provider. Nothing defaults to true."""

    dpa: bool = False
    baa: bool = False
    zdr: bool = False
    pci_dss: bool = False
    regions: tuple[str, ...] = ()


class Timeouts(_Strict):
    """Upstream deadlines in seconds. A slow or silent upstream must never hold a request
    (and its in-flight slot) forever, and an attempt that times out before the first byte
    reached the app can still fail over. The names without `_s` are accepted as aliases
    for configs written before `idle_s` existed."""

    connect_s: float = Field(5.0, gt=0, validation_alias=AliasChoices("connect_s", "connect"))
    """TCP connect to the upstream."""
    first_byte_s: float = Field(
        60.0, gt=0, validation_alias=AliasChoices("first_byte_s", "first_byte")
    )
    """From sending the request to the response headers and, for a stream, its first event
    (models can think for a while before the first token)."""
    idle_s: float | None = Field(None, gt=0)
    """Longest silence between two chunks of a response once it has started; unset, the
    same as `first_byte_s`."""
    total_s: float = Field(600.0, gt=0, validation_alias=AliasChoices("total_s", "total"))
    """The whole attempt, streams included; it caps the other three."""

    @property
    def idle(self) -> float:
        return self.first_byte_s if self.idle_s is None else self.idle_s


class CircuitBreakerConfig(_Strict):
    """Per route: after `failures` consecutive failures (connect errors, timeouts, 5xx,
    malformed responses, broken streams) the route is skipped for `cooldown_s`; then one
    request probes it, and a success closes the circuit again."""

    failures: int = Field(5, ge=1)
    cooldown_s: float = Field(30.0, gt=0)


class ProviderConfig(_Strict):
    api: Literal["openai", "anthropic", "azure_openai"] = "openai"
    kind: Literal["direct", "aggregator"]
    base_url: str
    api_key_env: str | None = None
    api_key_file: Path | None = None
    compliance: Compliance = Compliance()
    timeouts: Timeouts = Timeouts()
    circuit_breaker: CircuitBreakerConfig = CircuitBreakerConfig()
    headers: dict[str, str] = Field(default_factory=dict)
    """Static extra headers, e.g. OpenRouter's HTTP-Referer / X-Title attribution."""
    api_version: str | None = None
    """Azure OpenAI's `api-version` query parameter (required for api: azure_openai)."""
    anthropic_version: str = "2023-06-01"
    responses_api: Literal["native", "chat_completions"] = "native"
    """How an OpenAI-format upstream serves the app's Responses API requests: `native` (it
    has /responses: OpenAI, Azure OpenAI, OpenRouter) or `chat_completions` (translated,
    for Gemini's OpenAI-compatible endpoint and most self-hosted servers)."""
    default_max_tokens: int = Field(4096, gt=0)
    """max_tokens sent to Anthropic when an OpenAI-format request gives none (Anthropic
    requires it)."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_key_source(self) -> ProviderConfig:
        if self.api_key_env and self.api_key_file:
            raise ValueError("set api_key_env or api_key_file, not both")
        if self.api == "azure_openai" and not self.api_version:
            raise ValueError("api: azure_openai needs api_version")
        return self


class RouteConfig(_Strict):
    provider: str
    model: str

    @property
    def id(self) -> str:
        return f"{self.provider}:{self.model}"


class ModelConfig(_Strict):
    aliases: tuple[str, ...] = ()
    routes: tuple[RouteConfig, ...] = Field(min_length=1)
    fallbacks: tuple[str, ...] = ()
    """Models whose routes the policy may reroute to when none of this model's is allowed
    (offered as `input.alternatives`; the policy's `reroute` data decides)."""


class BundleConfig(_Strict):
    """An OPA bundle (.tar.gz with .manifest, *.rego, data.json) instead of `policy.path`."""

    file: Path | None = None
    url: str | None = None
    """Polled with If-None-Match; each new bundle is verified (compile + tests), then swapped."""
    token_env: str | None = None
    token_file: Path | None = None
    min_delay_s: float = Field(10.0, gt=0)
    max_delay_s: float = Field(60.0, gt=0)
    max_staleness_s: float | None = Field(None, gt=0)
    """Without a poll confirming the active bundle for this long, /readyz says degraded
    (still ready). Default: ten times max_delay_s."""

    @model_validator(mode="after")
    def _one_source(self) -> BundleConfig:
        if bool(self.file) == bool(self.url):
            raise ValueError("set exactly one of file or url")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        if self.min_delay_s > self.max_delay_s:
            raise ValueError("min_delay_s must not exceed max_delay_s")
        if self.max_staleness_s is not None and self.max_staleness_s <= self.max_delay_s:
            raise ValueError("max_staleness_s must exceed max_delay_s (one poll interval)")
        return self


class PolicyConfig(_Strict):
    engine: Literal["embedded", "opa"] = "embedded"
    path: Path = Path("policies")
    opa_url: str = "http://127.0.0.1:8181"
    timeout_ms: float = Field(50.0, gt=0)
    watch: bool = True
    """Re-read `path` when it changes (ConfigMap updates included); verify, then swap."""
    watch_interval_s: float = Field(1.0, gt=0)
    bundle: BundleConfig | None = None
    decision_cache_size: int = Field(4096, ge=0)
    """Decisions kept per policy revision when the policy declares itself cacheable
    (`decision_cache` rule); 0 evaluates every request."""


class Limits(_Strict):
    """What one app-facing request may cost the sidecar. Anything beyond gets a 4xx in the
    app's own API format and is never forwarded."""

    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_depth: int = Field(
        64, gt=1, le=512, validation_alias=AliasChoices("max_depth", "max_json_depth")
    )
    """JSON nesting depth (`max_json_depth` is accepted as an alias)."""
    max_messages: int = Field(2048, ge=1)
    """Messages in one chat or Messages request (OpenAI's own ceiling by default)."""
    max_in_flight: int = Field(256, ge=1)
    """Requests inside the sidecar at once (counted from when the body has been read);
    beyond it the app gets 429 with Retry-After at once. Nothing queues, so memory stays
    bounded however hard the app pushes."""
    max_connections: int = Field(1024, ge=1)
    """Open connections to the app-facing port; more are closed at once."""
    header_timeout_s: float = Field(10.0, gt=0)
    """A connection must deliver complete request headers within this time of opening, or of
    its previous response (so it also bounds idle keep-alive connections)."""
    body_timeout_s: float = Field(30.0, gt=0)
    """Reading the whole request body; a slower client gets 408."""

    @property
    def max_json_depth(self) -> int:
        return self.max_depth


class WorkloadConfig(_Strict):
    """Who this sidecar serves. In a pod the Downward API fills these (see workload.py)."""

    namespace: str = ""
    pod: str = ""
    service_account: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    labels_file: Path | None = None


class ResponsesConfig(_Strict):
    """The Responses API's continuations (see sidecar/continuations.py)."""

    max_remembered: int = Field(100_000, ge=1)
    """Response ids whose creating route is remembered (about 200 bytes each)."""
    remember_s: float = Field(30 * 86400, gt=0)
    """How long an id stays continuable; OpenAI keeps stored responses 30 days."""


class ReloadConfig(_Strict):
    """Re-reading this file while running (see sidecar/config_reload.py); SIGHUP also does."""

    watch: bool = True
    """Poll the file for changes (a ConfigMap's `..data` swap included)."""
    interval_s: float = Field(1.0, gt=0)


class Config(_Strict):
    listen: Listen = Listen()
    admin: AdminListen = AdminListen()
    providers: dict[str, ProviderConfig]
    models: dict[str, ModelConfig]
    policy: PolicyConfig = PolicyConfig()
    audit: AuditConfig = AuditConfig()
    limits: Limits = Limits()
    workload: WorkloadConfig = WorkloadConfig()
    classification: ClassificationConfig = ClassificationConfig()
    passthrough: tuple[PassthroughEndpoint, ...] = ()
    """Extra endpoints, each served by a configured model (see config_endpoints.py)."""
    shutdown_grace_s: float = Field(25.0, ge=0)
    """After SIGTERM: how long in-flight requests and streams may take to finish. Keep it
    below the pod's terminationGracePeriodSeconds (30 by default)."""
    reload: ReloadConfig = ReloadConfig()
    responses: ResponsesConfig = ResponsesConfig()

    @model_validator(mode="after")
    def _references(self) -> Config:
        seen: dict[str, str] = {}
        for name, model in self.models.items():
            for route in model.routes:
                if route.provider not in self.providers:
                    raise ValueError(
                        f"models.{name}: route provider {route.provider!r} is not defined"
                    )
            for fallback in model.fallbacks:
                if fallback not in self.models:
                    raise ValueError(f"models.{name}: fallback {fallback!r} is not a model")
            for alias in (name, *model.aliases):
                if alias in seen and seen[alias] != name:
                    raise ValueError(f"models.{name}: name {alias!r} is also used by {seen[alias]}")
                seen[alias] = name
        paths = [p.path for p in self.passthrough]
        for i, endpoint in enumerate(self.passthrough):
            where = f"passthrough.{i}"
            if paths.count(endpoint.path) > 1:
                raise ValueError(f"{where}: path {endpoint.path} is declared twice")
            served_by = self.models.get(endpoint.model)
            if served_by is None:
                raise ValueError(f"{where}: model {endpoint.model!r} is not a model")
            for route in served_by.routes:
                api = self.providers[route.provider].api
                family = "anthropic" if api == "anthropic" else "openai"
                if family != endpoint.format:
                    raise ValueError(
                        f"{where}: route provider {route.provider!r} speaks {api}, "
                        f"not {endpoint.format} (pass-through endpoints are not translated)"
                    )
        return self


def config_revision(config: Config) -> str:
    """A short digest of the validated configuration, in audit records and
    `llm_router_config_info`: which providers, compliance attributes and models decided.
    Keys are never part of the config (only where to find them), so nothing secret is in it."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:12]
