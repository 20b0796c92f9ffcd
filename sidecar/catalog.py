"""Logical models, their aliases and their candidate routes, built once from the config.

The policy input's `routes` entries are precomputed here, so per request the sidecar only
filters out routes whose provider currently has no key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sidecar.config import Config
from sidecar.providers.upstream import Upstream


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    upstream: Upstream
    model: str
    policy_view: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LogicalModel:
    name: str
    aliases: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    fallbacks: tuple[str, ...] = ()

    def available(self) -> list[Candidate]:
        return [c for c in self.candidates if c.upstream.available]


class Catalog:
    def __init__(self, config: Config, upstreams: dict[str, Upstream]) -> None:
        self.credentials = tuple(up.credential for up in upstreams.values())
        """Every configured provider's key, routed or not: what an upstream error must never
        show the app (sidecar/scrub.py)."""
        self.models: dict[str, LogicalModel] = {}
        self._by_name: dict[str, LogicalModel] = {}
        for name, mc in config.models.items():
            candidates = []
            for route in mc.routes:
                up = upstreams[route.provider]
                view = {
                    "id": route.id,
                    "provider": route.provider,
                    "kind": up.kind,
                    "model": route.model,
                    "compliance": up.config.compliance.model_dump(mode="json"),
                }
                candidates.append(Candidate(route.id, up, route.model, view))
            model = LogicalModel(name, mc.aliases, tuple(candidates), mc.fallbacks)
            self.models[name] = model
            for alias in (name, *mc.aliases):
                self._by_name[alias] = model

    def resolve(self, requested: str) -> LogicalModel | None:
        return self._by_name.get(requested)

    def alternatives(self, model: LogicalModel) -> dict[str, list[Candidate]]:
        """Available routes of the models `model` may be rerouted to, by model name."""
        out = {}
        for name in model.fallbacks:
            available = self.models[name].available()
            if available:
                out[name] = available
        return out

    def listing(self) -> list[dict[str, Any]]:
        """OpenAI's model list shape, one entry per logical model and alias."""
        out = []
        for model in self.models.values():
            for name in (model.name, *model.aliases):
                out.append(
                    {
                        "id": name,
                        "object": "model",
                        "created": 0,
                        "owned_by": "llm-router",
                        "root": model.name,
                    }
                )
        return out
