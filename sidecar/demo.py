"""`llm-router demo`: four requests, four decisions, no network and no keys.

Starts three loopback providers speaking OpenAI's wire format (an aggregator, a direct
provider with a DPA, a direct provider with a DPA and a BAA), a real sidecar in front of
them, and sends four requests with the real `openai` SDK, as an application would.
"""

from __future__ import annotations

import io
import secrets
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import openai
import orjson

from sidecar.app import Sidecar
from sidecar.config import Config
from sidecar.emulators.openai import OpenAIEmulator
from sidecar.serve import Running

PROVIDERS: dict[str, dict[str, Any]] = {
    "openrouter": {"kind": "aggregator", "compliance": {"regions": ["us"]}},
    "openai": {"kind": "direct", "compliance": {"dpa": True, "regions": ["us"]}},
    "google": {
        "kind": "direct",
        "compliance": {"dpa": True, "baa": True, "regions": ["us"]},
        # Gemini's OpenAI-compatible endpoint has Chat Completions only.
        "responses_api": "chat_completions",
    },
}
ROUTES = [
    {"provider": "openrouter", "model": "openai/gpt-4o"},
    {"provider": "openai", "model": "gpt-4o"},
    {"provider": "google", "model": "gemini-2.5-flash"},
]

REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("public prompt", "Write a haiku about autumn leaves.", {}),
    (
        "email + IBAN",
        "Draft a payment reminder to jane.doe@example.com for IBAN DE89 3704 0044 0532 0130 00.",
        {},
    ),
    (
        "SSN + diagnosis, declared PHI",
        "Patient SSN 536-22-8457 was diagnosed with type 2 diabetes. Summarise the care plan.",
        {"X-LLM-Data-Class": "phi"},
    ),
    (
        "AWS access key",
        "Why does boto3 reject my key AKIAZ4QJ7XK2MNB3PLRT in us-east-1?",
        {},
    ),
]


def demo_config(urls: dict[str, str], policies: Path) -> Config:
    providers = {
        name: {**spec, "base_url": urls[name], "api_key_env": f"DEMO_{name.upper()}_KEY"}
        for name, spec in PROVIDERS.items()
    }
    return Config.model_validate(
        {
            "listen": {"host": "127.0.0.1", "port": 0},
            "admin": {"host": "127.0.0.1", "port": 0},
            "providers": providers,
            "models": {"gpt-4o": {"aliases": ["openai/gpt-4o"], "routes": ROUTES}},
            "policy": {"path": str(policies)},
            "workload": {"namespace": "demo", "pod": "demo-app", "service_account": "demo"},
        }
    )


async def _send(client: openai.AsyncOpenAI, text: str, headers: dict[str, str]) -> dict[str, Any]:
    try:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": text}],
            extra_headers=headers,
        )
        completion = raw.parse()
        return {
            "status": raw.status_code,
            "decision_id": raw.headers.get("x-llm-router-decision-id", ""),
            "route": raw.headers.get("x-llm-router-route", ""),
            "answer": completion.choices[0].message.content or "",
        }
    except openai.APIStatusError as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        return {
            "status": exc.status_code,
            "decision_id": exc.response.headers.get("x-llm-router-decision-id", ""),
            "route": "-",
            "answer": str(body.get("message", exc.message)),
        }


async def run_demo(policies: Path) -> int:
    keys = {name: "demo-" + secrets.token_hex(12) for name in PROVIDERS}
    environ = {f"DEMO_{name.upper()}_KEY": key for name, key in keys.items()}
    audit = io.BytesIO()
    async with AsyncExitStack() as stack:
        urls = {}
        for name in PROVIDERS:
            emulator = await stack.enter_async_context(OpenAIEmulator(name, keys[name]))
            urls[name] = emulator.base_url
        sidecar = Sidecar.build(demo_config(urls, policies), audit_stream=audit, environ=environ)
        running = await Running(sidecar).start()
        stack.push_async_callback(running.stop)
        client = openai.AsyncOpenAI(
            base_url=running.app_url + "/v1", api_key="not-a-real-key", max_retries=0
        )
        stack.push_async_callback(client.close)
        results = [await _send(client, text, hdrs) for _, text, hdrs in REQUESTS]
        exposition = sidecar.metrics.exposition().decode()

    records = [orjson.loads(line) for line in audit.getvalue().splitlines()]
    _print_table(results, records)
    print("\nAudit records (one per request; no prompt text, no keys):")
    for raw in audit.getvalue().splitlines():
        print("  " + raw.decode())
    print("\nMetrics (excerpt from the admin listener's /metrics):")
    for line in exposition.splitlines():
        if line.startswith(
            (
                "llm_router_requests_total",
                "llm_router_findings_total",
                "llm_router_upstream_attempts_total",
                "llm_router_policy_revision",
            )
        ):
            print("  " + line)
    expected = [200, 200, 200, 403]
    ok = [r["status"] for r in results] == expected
    print("\nDemo " + ("passed: every request went where the policy said." if ok else "FAILED."))
    return 0 if ok else 1


def _print_table(results: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
    header = ("request", "decision id", "level", "tags", "route", "status")
    rows = []
    for (label, _, _), result, record in zip(REQUESTS, results, records, strict=True):
        cls = record.get("classification") or {}
        tags = ",".join(sorted(cls.get("tags", {}))) or "-"
        rows.append(
            (
                label,
                result["decision_id"][:12],
                cls.get("level", "-"),
                tags,
                result["route"] or "-",
                str(result["status"]),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print("\nWhy (policy reasons):")
    for (label, _, _), record in zip(REQUESTS, records, strict=True):
        reasons = (record.get("policy") or {}).get("reasons", [])
        print(f"  {label}: " + "; ".join(reasons))
