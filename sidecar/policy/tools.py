"""Tools for policy authors: `policy check`, `policy eval` and test coverage.

Human-readable output by default; `--json` prints one JSON document for scripts. Exit codes
follow the CLI's convention: 0 fine, 1 the policy has a problem, 2 the files cannot be read.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.errors import PolicyLoadError
from sidecar.policy.loader import compile_engine, read_policy_dir
from sidecar.policy.model import Decision


def _print_json(document: Any) -> None:
    print(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


def check(path: Path, as_json: bool) -> int:
    """Compile every module (tests included) and the data; then the decision must exist."""
    try:
        source = read_policy_dir(path)
        compile_engine(source, source.modules)
        engine = EmbeddedEngine.from_source(source, timeout_ms=10_000)
    except PolicyLoadError as exc:
        if as_json:
            _print_json({"ok": False, "error": str(exc)})
        else:
            print(f"FAIL {exc}")
        return 1
    report = {
        "ok": True,
        "revision": engine.revision,
        "modules": sorted(source.modules),
        "data": source.data is not None,
    }
    if as_json:
        _print_json(report)
    else:
        print(f"OK   {path}: {len(source.modules)} modules, revision {engine.revision}")
    return 0


def decision_document(decision: Decision) -> dict[str, Any]:
    return {
        "allow": decision.allow,
        "routes": list(decision.routes),
        "reasons": list(decision.reasons),
        "obligations": decision.obligations.to_dict(),
        **decision.annotations,
        "revision": decision.revision,
        "error": decision.error,
        "eval_ms": round(decision.eval_seconds * 1000, 3),
    }


def describe_decision(decision: Decision) -> str:
    lines = [
        f"decision: {'ALLOW' if decision.allow else 'DENY'}   (revision {decision.revision}, "
        f"{decision.eval_seconds * 1000:.2f} ms)"
    ]
    if decision.error:
        lines.append(f"  engine error: {decision.error} (fail closed)")
    lines.append("  routes, in order: " + (", ".join(decision.routes) or "none"))
    for reason in decision.reasons:
        lines.append(f"  why: {reason}")
    if decision.obligations.redact:
        lines.append("  redact before forwarding: " + ", ".join(decision.obligations.redact))
    if decision.obligations.provider_preferences:
        prefs = orjson.dumps(decision.obligations.provider_preferences).decode()
        lines.append(f"  aggregator preferences: {prefs}")
    for key, value in decision.annotations.items():
        lines.append(f"  {key}: {orjson.dumps(value).decode()}")
    return "\n".join(lines)


def evaluate(path: Path, input_file: Path, as_json: bool) -> int:
    """Decide one input document as the sidecar would (the sidecar's own checks included)."""
    try:
        engine = EmbeddedEngine.load(path, timeout_ms=10_000)
        policy_input = orjson.loads(input_file.read_bytes())
    except PolicyLoadError as exc:
        print(f"llm-router: {exc}", file=sys.stderr)
        return 2
    except (OSError, orjson.JSONDecodeError) as exc:
        print(f"llm-router: {input_file}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(policy_input, dict):
        print(f"llm-router: {input_file}: the input must be a JSON object", file=sys.stderr)
        return 2
    decision = asyncio.run(engine.decide(policy_input))
    if as_json:
        _print_json(decision_document(decision))
    else:
        print(describe_decision(decision))
    return 0
