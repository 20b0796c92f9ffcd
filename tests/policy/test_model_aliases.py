"""Model deny lists hold for every name of a model: every alias of every model of the
shipped configuration, against deny lists naming the logical model, an alias or an
upstream model id, through the request path's own policy input (parse, classify,
`build_policy_input`) and the embedded engine."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import orjson
import pytest

from sidecar.api.openai import CHAT_COMPLETIONS
from sidecar.classify import Classifier
from sidecar.config_loader import load_config
from sidecar.explain import _catalog
from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.loader import read_policy_dir
from sidecar.policy_input import build_policy_input
from tests.conftest import POLICIES, ROOT

CONFIG = load_config(ROOT / "deploy" / "config" / "default.yaml", environ={})
CATALOG = _catalog(CONFIG)
CLASSIFIER = Classifier()
CASES = [
    (model.name, requested, denied)
    for model in CATALOG.models.values()
    for requested in (model.name, *model.aliases)
    for denied in sorted({model.name, *model.aliases, *(c.model for c in model.candidates)})
]


def engine(denied: list[str]) -> EmbeddedEngine:
    source = read_policy_dir(POLICIES)
    data = orjson.loads(source.data)
    data["llm_router_config"]["denied_models"] = denied
    return EmbeddedEngine.from_source(
        dataclasses.replace(source, data=orjson.dumps(data).decode()), 50, cache_size=0
    )


def decide(requested: str, denied: list[str]) -> dict[str, Any]:
    parsed = CHAT_COMPLETIONS.parse(
        orjson.dumps({"model": requested, "messages": [{"role": "user", "content": "hi"}]}), 64
    )
    model = CATALOG.resolve(requested)
    assert model is not None
    policy_input = build_policy_input(
        request_id="t",
        api=CHAT_COMPLETIONS,
        parsed=parsed,
        declared=None,
        time="2026-12-07T00:00:00Z",
        workload={"namespace": "claims", "labels": {}},
        classification=CLASSIFIER.classify(parsed.segments).to_policy_input(),
        model=model,
        candidates=list(model.candidates),
        alternatives={},
    )
    decision = asyncio.run(engine(denied).decide(policy_input))
    return {"allow": decision.allow, "reasons": list(decision.reasons)}


@pytest.mark.parametrize(("logical", "requested", "denied"), CASES)
def test_a_model_denied_by_any_of_its_names_is_denied_by_all(
    logical: str, requested: str, denied: str
) -> None:
    decision = decide(requested, [denied])
    assert decision["allow"] is False, decision
    assert any("denied by policy" in r for r in decision["reasons"]), decision


@pytest.mark.parametrize("logical", sorted(CATALOG.models))
def test_a_deny_list_naming_another_model_leaves_this_one_alone(logical: str) -> None:
    others = [name for name in CATALOG.models if name != logical]
    own = CATALOG.models[logical]
    own_names = {own.name, *own.aliases, *(c.model for c in own.candidates)}
    others = [n for n in others if n not in own_names]
    assert decide(logical, others)["allow"] is True
