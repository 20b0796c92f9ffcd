"""The targets of issue 8 checked against a run, and the Markdown table the README shows."""

from __future__ import annotations

from typing import Any

Path = tuple[str, ...]

TARGETS: list[tuple[str, Path, str, float]] = [
    ("cpu_ms_per_request", ("cpu_ms_per_request",), "<=", 0.5),
    ("throughput_rps", ("throughput_rps",), ">=", 2000),
    ("added_p50_ms_c1", ("latency", "c1", "added_p50_ms"), "<=", 0.8),
    ("added_p99_ms_c1", ("latency", "c1", "added_p99_ms"), "<=", 2.0),
    ("cpu_us_per_chunk", ("streaming", "cpu_us_per_chunk"), "<=", 20),
    ("peak_rss_mb", ("peak_rss_mb",), "<=", 80),
    ("startup_s", ("startup_s",), "<=", 1.0),
    ("startup_cold_s", ("startup_cold_s",), "<=", 1.0),
]
"""Issue 8's targets for one sidecar process on one core, full pipeline."""


def dig(res: dict[str, Any], path: Path) -> Any:
    for key in path:
        res = res.get(key) if isinstance(res, dict) else None  # type: ignore[assignment]
    return res


def evaluate(res: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, path, op, bound in TARGETS:
        value = dig(res, path)
        met = value is not None and (value <= bound if op == "<=" else value >= bound)
        out[key] = {"value": value, "target": f"{op} {bound}", "met": met}
    return out


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{value * 100:.0f} %"
    if isinstance(value, int):
        return f"{value:,} {unit}".strip()
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}".strip()


ROWS: list[tuple[str, Path, str, bool]] = [
    ("CPU per non-streamed request (c=64)", ("cpu_ms_per_request",), "ms", True),
    ("CPU per non-streamed request (c=1)", ("latency", "c1", "cpu_ms_per_request"), "ms", True),
    ("max throughput, one core", ("throughput_rps",), "req/s", False),
    ("requests/s of a whole core (1 / CPU per request)", ("capacity_rps",), "req/s", False),
    ("added latency p50, c=1", ("latency", "c1", "added_p50_ms"), "ms", True),
    ("added latency p99, c=1", ("latency", "c1", "added_p99_ms"), "ms", True),
    ("added latency p50, c=16", ("latency", "c16", "added_p50_ms"), "ms", True),
    ("added latency p99, c=16", ("latency", "c16", "added_p99_ms"), "ms", True),
    ("added latency p50, c=64", ("latency", "c64", "added_p50_ms"), "ms", True),
    ("added latency p99, c=64", ("latency", "c64", "added_p99_ms"), "ms", True),
    ("streaming: added time to first byte p50", ("streaming", "ttfb", "added_p50_ms"), "ms", True),
    ("CPU per streamed chunk", ("streaming", "cpu_us_per_chunk"), "us", True),
    ("streams of 21 chunks per CPU-second", ("streaming", "streams_21_per_cpu_second"), "", False),
    ("RSS under load (peak)", ("peak_rss_mb",), "MB", True),
    ("start-up to ready (warm)", ("startup_s",), "s", True),
    ("start-up to ready (cold)", ("startup_cold_s",), "s", True),
    ("other load on the proxy's core, c=64", ("latency", "c64", "foreign_cpu_share"), "%", True),
    ("failed requests (non-200 or cut streams)", ("failed_requests",), "", True),
]
"""(label, value, unit, lower is better)."""


API_FIGURES: list[tuple[str, str, str, str]] = [
    ("added latency p50, non-streamed", "non_streamed", "added_p50_ms", "ms"),
    ("added latency p99, non-streamed", "non_streamed", "added_p99_ms", "ms"),
    ("CPU per non-streamed request", "non_streamed", "cpu_ms_per_request", "ms"),
    ("streamed: added time to first byte p50", "streamed", "added_ttfb_p50_ms", "ms"),
    ("streamed: added latency p50", "streamed", "added_p50_ms", "ms"),
    ("streamed: added latency p99", "streamed", "added_p99_ms", "ms"),
    ("CPU per streamed request", "streamed", "cpu_ms_per_request", "ms"),
]
"""(label, mode, figure, unit) of the Responses-vs-chat comparison; the benchmark reports
the ratio Responses / chat of each."""


NAMES = {"llm-router": "llm-router", "floor": "bare aiohttp floor", "litellm": "LiteLLM"}


def table(result: dict[str, Any]) -> str:
    """Markdown: one column per proxy measured, and how many times better llm-router did
    than LiteLLM when it was measured."""
    proxies = {n: r for n, r in result["proxies"].items() if "unavailable" not in r}
    ours, peer = proxies["llm-router"], proxies.get("litellm")
    targets = {path: f"{op} {bound:g}" for _, path, op, bound in TARGETS}
    head = "| | target | " + " | ".join(NAMES.get(n, n) for n in proxies) + " |"
    head += " LiteLLM / llm-router |" if peer else ""
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for label, path, unit, lower in ROWS:
        target = f"{targets[path]} {unit}".strip() if path in targets else ""
        row = f"| {label} | {target} | "
        row += " | ".join(_fmt(dig(r, path), unit) for r in proxies.values()) + " |"
        if peer:
            value, theirs = dig(ours, path), dig(peer, path)
            ratio = None
            if unit != "%" and value and theirs and value > 0 and theirs > 0:
                ratio = theirs / value if lower else value / theirs
            row += f" {ratio:.1f}x |" if ratio is not None else " - |"
        lines.append(row)
    c1 = ours["latency"]["c1"]["direct"]
    m = result["machine"]
    lines.append("")
    lines.append(f"Direct to the upstream, c=1: p50 {c1['p50_ms']} ms, p99 {c1['p99_ms']} ms.")
    lines.append(
        f"{m['cpus']} x {m['cpu']}, Linux {m['kernel']}, Python {m['python']}; {result['pinning']}."
    )
    for name, res in result["proxies"].items():
        if "unavailable" in res:
            lines.append(f"{NAMES.get(name, name)} not measured: {res['unavailable']}")
    misses = [k for k, v in result["targets"].items() if not v["met"]]
    lines.append("Targets met: " + ("all" if not misses else "all but " + ", ".join(misses)))
    if "responses_vs_chat" in ours:
        lines += ["", *api_table(ours["responses_vs_chat"])]
    return "\n".join(lines)


def api_table(apis: dict[str, Any]) -> list[str]:
    """llm-router's Responses API rows next to its chat rows, and the ratio of each."""
    lines = [
        "| llm-router, c=1 | chat completions | Responses API | Responses / chat |",
        "|---|---|---|---|",
    ]
    ratios = apis["ratio_responses_to_chat"]
    for label, mode, key, unit in API_FIGURES:
        chat, responses = apis["chat"][mode].get(key), apis["responses"][mode].get(key)
        ratio = ratios[mode].get(key)
        cells = [
            _fmt(chat, unit),
            _fmt(responses, unit),
            "n/a" if ratio is None else f"{ratio:.2f}x",
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    n = apis["requests_per_api"]
    lines.append("")
    lines.append(
        f"Per API {n['non_streamed']} non-streamed requests and {n['streamed']} streams of "
        f"{apis['stream_events']} events, in {apis['rounds']} rounds alternating the APIs; "
        f"failed: {apis['failed_requests']}."
    )
    return lines
