"""Classifier speed: throughput, latency, a Python `re` baseline, and adversarial inputs.

    python benchmarks/classify_speed.py [--json] [--quick]

* Throughput of `Classifier().scan` at 1 KB, 16 KB, 256 KB and 1 MB of seeded English-like
  text, with four planted values per payload ("few") and with one every ~1.5 KB ("dense"),
  next to a pure-Python baseline running the identical detector set (`DEFAULT_DETECTORS`)
  with `re.finditer` on the dense text.
* Latency for 4 KB payloads: p50 / p99 over 2000 scans.
* Adversarial inputs of the kinds that hurt backtracking engines or candidate handling (long
  local parts before an "@", digit runs, "0-0-0-...", dotted and colon runs, base64 runs):
  the classifier at 64 KB, 256 KB and 1 MB (time per MB should stay flat), and the `re`
  baseline at 16 KB only, each case in a subprocess with a timeout.

MB means 2**20 bytes. Prints a short table and JSON; `--json` prints only the JSON.

The baseline is the engine's own `Scanner` with only the matcher swapped for
`re.finditer`: validators, context words, narrowing, overlap resolution, decoding and split
values are the same code. As `re.finditer` does, it takes one greedy match per start rather
than trying every end a pattern allows.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from sidecar.classify import Classifier, Finding, Segment
from sidecar.classify.detectors import DEFAULT_DETECTORS, Detector
from sidecar.classify.engine import Scanner

MB = 1 << 20
SIZES = (1 << 10, 16 << 10, 256 << 10, 1 << 20)
ADVERSARIAL_SIZES = (64 << 10, 256 << 10, 1 << 20)
BASELINE_ADVERSARIAL_SIZE = 16 << 10
BASELINE_TIMEOUT = 10.0
LATENCY_RUNS = 2000
SEED = 20261125

WORDS = (
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have",
    "an", "had", "they", "you", "were", "their", "one", "all", "we", "can", "her", "has",
    "there", "been", "if", "more", "when", "will", "would", "who", "so", "no", "report",
    "customer", "quarter", "growth", "support", "team", "product", "release", "meeting",
    "summary", "review", "project", "deadline", "budget", "analysis", "service", "request",
    "response", "feature", "performance", "latency", "deployment", "pipeline", "dashboard",
    "invoice", "contract", "schedule", "migration", "database", "cluster", "network",
    "please", "thanks", "update", "morning", "yesterday", "tomorrow", "weekly", "monthly",
    "improved", "reduced", "increased", "discussed", "agreed", "planned", "shipped", "fixed",
    "question", "answer", "example", "document", "draft", "final", "version", "notes",
    "London", "Berlin", "Monday", "Friday", "Acme", "Globex", "Q3", "2025", "42", "17",
)  # fmt: skip
PLANTED = (
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "DE89 3704 0044 0532 0130 00",
    "4111 1111 1111 1111",
    "81.2.69.142",
    "SSN 536-22-8457",
    "AKIAZ4QJ7XK2MNB3PLRT",
    "password=Tr0ub4dor&3x",
    "MRN 00482913",
    "ghp_" + "A1b2" * 9,
)
"""Planted values: the post-processing of real hits is part of the cost."""
DENSE_EVERY = 1500
"""Dense profile: a planted value every ~1.5 KB (168 in 256 KB), a worst case for the
Python-side confirmation of hits."""
FEW = 4
"""Few profile: four planted values per payload whatever its size, the issue's "realistic
text with a few planted values"."""


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------


def english(size: int, seed: int = SEED, every: int = DENSE_EVERY) -> str:
    """Seeded prose of `size` bytes with a planted value after every `every` bytes."""
    rng = random.Random(seed * 31 + size)
    parts: list[str] = []
    length = 0
    since_plant = 0
    while length < size:
        sentence = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
        if since_plant > every:
            sentence.insert(rng.randrange(len(sentence)), rng.choice(PLANTED))
            since_plant = 0
        text = " ".join(sentence)
        text = text[0].upper() + text[1:] + rng.choice((". ", ". ", "? ", "! ", ".\n"))
        parts.append(text)
        length += len(text)
        since_plant += len(text)
    return "".join(parts)[:size]


def _b64_run(n: int) -> str:
    rng = random.Random(SEED)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(alphabet) for _ in range(n))


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "local_part_then_at": lambda n: "a" * (n - 1) + "@",
    "local_part_then_domain": lambda n: "a" * (n - 12) + "@example.com",
    "digit_run": lambda n: "1" * n,
    "zero_dash": lambda n: "0-" * (n // 2),
    "spaced_digits": lambda n: "1 " * (n // 2),
    "dotted_digits": lambda n: "1." * (n // 2),
    "hex_colons": lambda n: "a:" * (n // 2),
    "at_pairs": lambda n: "a@" * (n // 2),
    "base64_run": _b64_run,
    "keyed_run": lambda n: "token=" + "a" * (n - 6),
}


# --------------------------------------------------------------------------------------
# The same detectors on Python's re
# --------------------------------------------------------------------------------------


class ReBaseline(Scanner):
    """The engine with its matcher swapped: every pattern of `DEFAULT_DETECTORS` runs with
    `re.finditer`, and each match goes through the engine's own confirmation, resolution,
    decoding and split-value steps. Only the matching differs, so the gap is Hyperscan's."""

    def __init__(self, detectors: Sequence[Detector] = DEFAULT_DETECTORS) -> None:
        super().__init__(detectors)
        self.compiled: list[tuple[re.Pattern[str], Detector]] = []
        self.skipped: list[str] = []
        for detector in self.detectors:
            flags = re.IGNORECASE if detector.caseless else 0
            for pattern in detector.patterns:
                try:
                    self.compiled.append((re.compile(pattern, flags), detector))
                except re.error:
                    self.skipped.append(f"{detector.tag}: {pattern}")

    def _candidates(self, text: str, depth: int, allowance: Any) -> list[tuple[int, int, Detector]]:
        out = []
        for regex, detector in self.compiled:
            for match in regex.finditer(text):
                if not allowance.take():
                    return out
                found = self._confirm(detector, text, match.start(), match.end())
                if found is not None:
                    out.append(found)
        return out

    def scan_text(self, text: str) -> list[Finding]:
        return self.scan([Segment(("messages", 0, "content"), text)])


# --------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------


def _label(size: int) -> str:
    return f"{size // MB} MB" if size >= MB else f"{size >> 10} KB"


def mb_per_s(scan: Callable[[str], object], text: str, min_seconds: float) -> float:
    scan(text)  # warm-up
    runs, elapsed = 0, 0.0
    while runs < 3 or elapsed < min_seconds:
        t0 = time.perf_counter()
        scan(text)
        elapsed += time.perf_counter() - t0
        runs += 1
        if elapsed > 4 * min_seconds:
            break
    return len(text.encode()) * runs / elapsed / MB


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def classifier_scan(classifier: Classifier) -> Callable[[str], object]:
    return lambda text: classifier.scan([Segment(("messages", 0, "content"), text)])


def throughput(classifier: Classifier, baseline: ReBaseline, quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    budget = 0.2 if quick else 0.6
    for size in SIZES:
        text = english(size)
        few = english(size, every=size // (FEW + 1))
        hs = mb_per_s(classifier_scan(classifier), text, budget)
        hs_few = mb_per_s(classifier_scan(classifier), few, budget)
        py = mb_per_s(baseline.scan_text, text, budget)
        rows.append(
            {
                "size": _label(size),
                "bytes": size,
                "hyperscan_mb_s": round(hs, 2),
                "hyperscan_few_mb_s": round(hs_few, 2),
                "re_mb_s": round(py, 2),
                "speedup": round(hs / py, 1),
                "findings": {
                    "hyperscan": len(classifier.scan([Segment(("t",), text)])),
                    "hyperscan_few": len(classifier.scan([Segment(("t",), few)])),
                    "re": len(baseline.scan_text(text)),
                },
            }
        )
    return rows


def latency_4kb(classifier: Classifier, runs: int) -> dict[str, Any]:
    payloads = [english(4 << 10, seed) for seed in range(16)]
    scan = classifier_scan(classifier)
    for text in payloads:
        scan(text)
    samples: list[float] = []
    for i in range(runs):
        text = payloads[i % len(payloads)]
        t0 = time.perf_counter_ns()
        scan(text)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return {
        "runs": runs,
        "p50_us": round(statistics.median(samples), 1),
        "p99_us": round(percentile(samples, 0.99), 1),
        "mean_us": round(statistics.fmean(samples), 1),
    }


def baseline_case_seconds(case: str, size: int) -> float | str:
    """Run the `re` baseline on one adversarial case in a subprocess; "timeout" if it takes
    longer than BASELINE_TIMEOUT."""
    command = [sys.executable, __file__, "--baseline-case", case, "--size", str(size)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=BASELINE_TIMEOUT, check=True
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    return round(float(json.loads(done.stdout)["seconds"]), 4)


def adversarial(classifier: Classifier, quick: bool) -> list[dict[str, Any]]:
    scan = classifier_scan(classifier)
    rows: list[dict[str, Any]] = []
    for case, make in ADVERSARIAL.items():
        per_size: dict[str, Any] = {}
        for size in ADVERSARIAL_SIZES:
            text = make(size)
            best = float("inf")
            for _ in range(1 if quick or size >= MB else 2):
                t0 = time.perf_counter()
                scan(text)
                best = min(best, time.perf_counter() - t0)
            per_size[_label(size)] = {
                "seconds": round(best, 4),
                "s_per_mb": round(best / (len(text) / MB), 4),
            }
        first, last = (
            per_size[_label(ADVERSARIAL_SIZES[0])],
            per_size[_label(ADVERSARIAL_SIZES[-1])],
        )
        rows.append(
            {
                "case": case,
                "hyperscan": per_size,
                "linearity": round(last["s_per_mb"] / max(first["s_per_mb"], 1e-9), 2),
                "re_16kb_seconds": baseline_case_seconds(case, BASELINE_ADVERSARIAL_SIZE),
            }
        )
    return rows


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{'size':>7} {'few MB/s':>9} {'dense MB/s':>11} {'re dense MB/s':>14} {'speed-up':>9}"
    ]
    for row in result["throughput"]:
        lines.append(
            f"{row['size']:>7} {row['hyperscan_few_mb_s']:9.2f} {row['hyperscan_mb_s']:11.2f} "
            f"{row['re_mb_s']:14.2f} {row['speedup']:8.1f}x"
        )
    lat = result["latency_4kb"]
    lines.append(f"4 KB latency: p50 {lat['p50_us']} us, p99 {lat['p99_us']} us")
    lines.append("")
    lines.append(
        f"{'adversarial':24} {'64 KB s/MB':>10} {'256 KB s/MB':>11} {'1 MB s/MB':>10} "
        f"{'linear':>7} {'re @16 KB':>10}"
    )
    for row in result["adversarial"]:
        hs = row["hyperscan"]
        re_s = row["re_16kb_seconds"]
        lines.append(
            f"{row['case']:24} {hs['64 KB']['s_per_mb']:10.4f} {hs['256 KB']['s_per_mb']:11.4f} "
            f"{hs['1 MB']['s_per_mb']:10.4f} {row['linearity']:7.2f} "
            f"{re_s if isinstance(re_s, str) else f'{re_s:.3f} s':>10}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Classifier throughput and latency.")
    parser.add_argument("--json", action="store_true", help="print only the JSON")
    parser.add_argument("--quick", action="store_true", help="shorter timing loops")
    parser.add_argument("--baseline-case", help=argparse.SUPPRESS)
    parser.add_argument(
        "--size", type=int, default=BASELINE_ADVERSARIAL_SIZE, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.baseline_case:  # child process of baseline_case_seconds
        text = ADVERSARIAL[args.baseline_case](args.size)
        baseline = ReBaseline()
        t0 = time.perf_counter()
        baseline.scan_text(text)
        print(json.dumps({"seconds": time.perf_counter() - t0}))
        return

    started = time.perf_counter()
    classifier = Classifier()
    baseline = ReBaseline()
    result: dict[str, Any] = {
        "unit": "MB = 2**20 bytes",
        "detectors": len(DEFAULT_DETECTORS),
        "patterns": sum(len(d.patterns) for d in DEFAULT_DETECTORS),
        "throughput": throughput(classifier, baseline, args.quick),
        "latency_4kb": latency_4kb(classifier, 500 if args.quick else LATENCY_RUNS),
        "adversarial": adversarial(classifier, args.quick),
        "baseline": {
            "engine": "the same Scanner with re.finditer per pattern as its matcher",
            "differs": "re takes one greedy match per start; the engine tries every end",
            "patterns_re_cannot_compile": baseline.skipped,
            "adversarial_size": _label(BASELINE_ADVERSARIAL_SIZE),
            "adversarial_timeout_s": BASELINE_TIMEOUT,
        },
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    if not args.json:
        print(table(result))
        print()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
