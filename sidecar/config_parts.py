"""The parts of a running sidecar that come from its config, and that a config reload
replaces: the upstreams (keys and sessions), the catalog of models and routes, the
classifier, and the pipeline that uses them.

`Sidecar.build` and a reload (sidecar/config_reload.py) assemble them with these same
functions, so a reloaded file is checked and put together exactly as one read at start.
What outlives a config is `Shared` by every generation of parts: the policy engine (it
reloads on its own), the audit log and its hash chain, the metrics, the in-flight limit, and
the dispatcher with its circuit breakers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from sidecar.audit import AuditLog
from sidecar.catalog import Catalog
from sidecar.classify import Classifier
from sidecar.config import CircuitBreakerConfig, Config
from sidecar.config_loader import ConfigError
from sidecar.credentials import load_credential
from sidecar.dispatch import Dispatcher
from sidecar.limits import InFlight
from sidecar.metrics import Metrics
from sidecar.pipeline import Pipeline
from sidecar.policy.model import PolicyEngine
from sidecar.providers.upstream import Upstream
from sidecar.responses_flow import ResponsesFlow
from sidecar.workload import resolve_workload

log = structlog.get_logger("llm_router.app")


@dataclass(frozen=True, slots=True)
class Shared:
    """What every generation of config parts uses, built once at start."""

    engine: PolicyEngine
    dispatcher: Dispatcher
    audit: AuditLog
    metrics: Metrics
    admission: InFlight
    responses: ResponsesFlow
    """Which route stored each Responses API response: outlives every config."""


@dataclass(frozen=True, slots=True)
class Parts:
    """One generation: everything a request needs that the config decides."""

    config: Config
    revision: str
    upstreams: dict[str, Upstream]
    catalog: Catalog
    pipeline: Pipeline


def build_upstreams(
    config: Config, environ: Mapping[str, str], running: Mapping[str, Upstream] | None = None
) -> dict[str, Upstream]:
    """One `Upstream` per provider, its key read now. On a reload (`running` given) a
    provider whose settings did not change keeps its running `Upstream`, session and key
    included, and a provider that has a key now but would have none under the new settings
    is an error: a reload must never take away a key that works. A missing key is otherwise
    a warning, as at start: the provider is unavailable until its key appears."""
    upstreams: dict[str, Upstream] = {}
    for name, pc in config.providers.items():
        current = running.get(name) if running is not None else None
        if current is not None and current.config == pc:
            upstreams[name] = current
            continue
        cred = load_credential(name, pc.api_key_env, pc.api_key_file, environ)
        if cred.value is None:
            if current is not None and current.available:
                raise ConfigError(
                    f"providers.{name}: {cred.problem}, and the running key would be lost"
                )
            log.warning("provider_unavailable", provider=name, reason=cred.problem)
        upstreams[name] = Upstream(name, pc, cred)
    return upstreams


def route_breakers(catalog: Catalog) -> dict[str, CircuitBreakerConfig]:
    """Every route of the catalog, with its provider's circuit breaker settings."""
    return {
        cand.id: cand.upstream.config.circuit_breaker
        for model in catalog.models.values()
        for cand in model.candidates
    }


def build_parts(
    config: Config,
    revision: str,
    upstreams: dict[str, Upstream],
    classifier: Classifier,
    shared: Shared,
    environ: Mapping[str, str],
) -> Parts:
    catalog = Catalog(config, upstreams)
    pipeline = Pipeline(
        limits=config.limits,
        catalog=catalog,
        classifier=classifier,
        engine=shared.engine,
        dispatcher=shared.dispatcher,
        audit=shared.audit,
        metrics=shared.metrics,
        workload=resolve_workload(config.workload, environ),
        masks=dict(config.classification.masks),
        admission=shared.admission,
        config_revision=revision,
        responses=shared.responses,
    )
    return Parts(config, revision, upstreams, catalog, pipeline)
