"""`llm-router explain`: what the sidecar would decide for a request, without sending it.

Parses the request exactly as the app-facing API would, classifies it, builds the policy
input from the config's model catalogue and evaluates the policy. Nothing is sent upstream
and no key is needed: routes are offered as if every provider had one.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sidecar.api.anthropic import MESSAGES
from sidecar.api.base import ClientApi
from sidecar.api.openai import CHAT_COMPLETIONS, COMPLETIONS, EMBEDDINGS
from sidecar.api.responses import RESPONSES_API
from sidecar.catalog import Catalog
from sidecar.classify import Classifier
from sidecar.config import Config
from sidecar.credentials import Credential
from sidecar.errors import RouterError
from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.tools import decision_document, describe_decision
from sidecar.policy_input import build_policy_input
from sidecar.providers.upstream import Upstream
from sidecar.responses_flow import policy_facts
from sidecar.workload import Workload

APIS: dict[str, ClientApi] = {
    "openai": CHAT_COMPLETIONS,
    "openai-embeddings": EMBEDDINGS,
    "openai-completions": COMPLETIONS,
    "openai-responses": RESPONSES_API,
    "anthropic": MESSAGES,
}


def _catalog(config: Config) -> Catalog:
    upstreams = {
        name: Upstream(name, pc, Credential(name, value="explain"))
        for name, pc in config.providers.items()
    }
    return Catalog(config, upstreams)


def explain(
    config: Config,
    request: bytes,
    *,
    api_name: str,
    workload: Workload,
    declared: str | None,
    as_json: bool,
) -> int:
    api = APIS[api_name]
    try:
        parsed = api.parse(request, config.limits.max_json_depth)
    except RouterError as exc:
        print(
            f"llm-router: the request is invalid ({exc.status} {exc.code}): {exc.message}",
            file=sys.stderr,
        )
        return 1
    catalog = _catalog(config)
    model = catalog.resolve(parsed.model)
    if model is None:
        print(f"llm-router: model {parsed.model!r} is not configured", file=sys.stderr)
        return 1
    classifier = Classifier.from_config(config.classification)
    classification = classifier.classify(
        parsed.segments, declared, workload.floor, parsed.unscanned
    )
    alternatives = catalog.alternatives(model)
    policy_input = build_policy_input(
        request_id="explain-" + uuid.uuid4().hex[:8],
        api=api,
        parsed=parsed,
        declared=declared,
        time=datetime.now(UTC).isoformat(timespec="milliseconds"),
        workload=workload.to_policy_input(),
        classification=classification.to_policy_input(),
        model=model,
        candidates=list(model.candidates),
        alternatives=alternatives,
        # explain has no continuation map: a continuation is shown as of an unknown route
        facts=policy_facts(parsed, classification, None),
    )
    engine = EmbeddedEngine.load(config.policy.path, config.policy.timeout_ms)
    decision = asyncio.run(engine.decide(policy_input))
    findings = [
        {
            "tag": f.tag,
            "segment": ".".join(map(str, parsed.segments[f.segment].path)),
            "start": f.start,
            "end": f.end,
        }
        for f in classification.findings
    ]
    if as_json:
        document: dict[str, Any] = {
            "findings": findings,
            "input": policy_input,
            "decision": decision_document(decision),
        }
        print(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
        return 0
    cls = policy_input["classification"]
    print(
        f"classification: {cls['level']}   categories: {', '.join(cls['categories']) or '-'}"
        f"   sources: {', '.join(cls['sources'])}"
    )
    if cls["unscanned"]:
        print(f"unscanned (forwarded without a scan): {', '.join(cls['unscanned'])}")
    for f in findings:
        print(f"  {f['tag']:<28} at {f['segment']} [{f['start']}:{f['end']}]")
    print("policy input:")
    print(
        "  " + orjson.dumps(policy_input, option=orjson.OPT_INDENT_2).decode().replace("\n", "\n  ")
    )
    print(describe_decision(decision))
    return 0


def read_request(path: str) -> bytes:
    return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
