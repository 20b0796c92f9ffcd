"""What reading a request costs before anything is sent: parse, extract, classify.

The whole-body walk scans every string, key and number of a request instead of a list of
content fields, so it must be measured where it could cost most: a plain 4 KB chat
request, a 4 KB request that is mostly tool schemas (many short strings and keys), and
256 KB conversations. It only calls `api.parse` and `Classifier.classify`, which older
trees have too, so the same script measures a checkout of an earlier commit:

    python benchmarks/extraction.py                        # this tree
    PYTHONPATH=/path/to/old/checkout python benchmarks/extraction.py
    python benchmarks/extraction.py --compare /path/to/old/checkout --rounds 5

Prints JSON: per body, microseconds per request at p50 and p99 for parse and for
parse + classify, the segment count, and the body size. With `--compare`, both trees run
in turn, `--rounds` times, each in a fresh process; what is reported is each tree's median
and the median of the per-round ratios (this machine's speed drifts by minutes, so only a
ratio taken within one round means much).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from sidecar.api.anthropic import MESSAGES
from sidecar.api.openai import CHAT_COMPLETIONS
from sidecar.classify import Classifier
from sidecar.config import ClassificationConfig

PROSE = (
    "The claimant reports that the parcel arrived damaged and asks for a replacement. "
    "Our policy allows a refund within thirty days when the item is returned unused. "
)


def _text(size: int, salt: int) -> str:
    out = (PROSE * (size // len(PROSE) + 1))[:size]
    return f"{salt} {out}"


def chat(size: int, messages: int = 6) -> dict[str, Any]:
    per = max(1, size // messages - 40)
    return {
        "model": "gpt-4o",
        "temperature": 0.2,
        "max_tokens": 512,
        "user": "customer-42",
        "messages": [
            {"role": "system", "content": "You are a support assistant."},
            *(
                {"role": "user" if i % 2 == 0 else "assistant", "content": _text(per, i)}
                for i in range(messages - 1)
            ),
        ],
    }


def tools(size: int) -> dict[str, Any]:
    body = chat(1024, 3)
    body["tools"] = []
    while len(orjson.dumps(body)) < size:
        n = len(body["tools"])
        body["tools"].append(
            {
                "type": "function",
                "function": {
                    "name": f"lookup_{n}",
                    "description": "Look up an order by its number and return its status.",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "order": {"type": "string", "description": "the order number"},
                            "detail": {"type": "string", "enum": ["short", "full"]},
                            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                        },
                        "required": ["order"],
                    },
                },
            }
        )
    return body


def anthropic(size: int) -> dict[str, Any]:
    body = chat(size)
    system = body["messages"].pop(0)["content"]
    return {"model": "claude-sonnet-5", "max_tokens": 512, "system": system, **body}


def measure(api: Any, body: dict[str, Any], classifier: Classifier, rounds: int) -> dict[str, Any]:
    raw = orjson.dumps(body)
    parse_us, total_us = [], []
    segments = 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        parsed = api.parse(raw, 64)
        t1 = time.perf_counter()
        classifier.classify(parsed.segments)
        t2 = time.perf_counter()
        parse_us.append((t1 - t0) * 1e6)
        total_us.append((t2 - t0) * 1e6)
        segments = len(parsed.segments)

    def pct(values: list[float], q: float) -> float:
        return round(sorted(values)[int(q * (len(values) - 1))], 1)

    return {
        "bytes": len(raw),
        "segments": segments,
        "parse_p50_us": round(statistics.median(parse_us), 1),
        "parse_p99_us": pct(parse_us, 0.99),
        "parse_classify_p50_us": round(statistics.median(total_us), 1),
        "parse_classify_p99_us": pct(total_us, 0.99),
    }


def run_here() -> dict[str, Any]:
    classifier = Classifier.from_config(ClassificationConfig())
    cases = {
        "chat_4k": (CHAT_COMPLETIONS, chat(4096), 2000),
        "tools_4k": (CHAT_COMPLETIONS, tools(4096), 2000),
        "chat_256k": (CHAT_COMPLETIONS, chat(256 * 1024, 40), 100),
        "tools_256k": (CHAT_COMPLETIONS, tools(256 * 1024), 100),
        "anthropic_4k": (MESSAGES, anthropic(4096), 2000),
    }
    for api, body, _ in cases.values():  # warm caches and lazy imports
        measure(api, body, classifier, 20)
    results = {name: measure(api, body, classifier, n) for name, (api, body, n) in cases.items()}
    return {"python": sys.version.split()[0], "results": results}


def _child(tree: Path | None) -> dict[str, Any]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    out = subprocess.run(
        [sys.executable, __file__], env=env, capture_output=True, check=True, cwd="/"
    ).stdout
    result: dict[str, Any] = json.loads(out)["results"]
    return result


def compare(old: Path, rounds: int) -> dict[str, Any]:
    here = Path(__file__).resolve().parent.parent
    runs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for _ in range(rounds):
        runs.append((_child(old), _child(here)))
    report: dict[str, Any] = {}
    for case in runs[0][0]:
        before = [b[case]["parse_classify_p50_us"] for b, _ in runs]
        after = [a[case]["parse_classify_p50_us"] for _, a in runs]
        report[case] = {
            "bytes": runs[0][1][case]["bytes"],
            "segments_before": runs[0][0][case]["segments"],
            "segments_after": runs[0][1][case]["segments"],
            "before_p50_us": round(statistics.median(before), 1),
            "after_p50_us": round(statistics.median(after), 1),
            "after_over_before": round(
                statistics.median(a / b for a, b in zip(after, before, strict=True)), 3
            ),
            "before_p99_us": round(
                statistics.median(b[case]["parse_classify_p99_us"] for b, _ in runs), 1
            ),
            "after_p99_us": round(
                statistics.median(a[case]["parse_classify_p99_us"] for _, a in runs), 1
            ),
        }
    return {"rounds": rounds, "compare": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare", type=Path, help="an older checkout to measure against")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = compare(args.compare, args.rounds) if args.compare else run_here()
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
