"""The entity stage's cost: what names, street addresses and diagnoses add to a request.

    python benchmarks/entity_speed.py [--quick]

* Added latency on 4 KB prompts, p50 / p99 over many prompts: the stage's own time
  (`EntityStage.needed` and `run`, after the structured pass), always on and gated
  (`when_needed`), for three kinds of prompt: plain business text, text with names and
  addresses, and text whose structured findings already hold pii and phi (which the gate
  skips).
* Throughput on 256 KB, always on: English-like text with a planted name, address or
  diagnosis every ~1.5 KB, and a worst case with a name on every line.
* RSS of a fresh process that builds `Classifier.from_config` with `entities: off` and with
  the stage, and the difference.

Pinned to one core. Prompts are seeded English-like text (benchmarks/classify_speed.py)
with hand-written sentences planted in it. MB means 2**20 bytes. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from classify_speed import english  # noqa: E402

from sidecar.classify import Classifier, Segment  # noqa: E402
from sidecar.classify.entities.stage import EntityStage  # noqa: E402
from sidecar.config import ClassificationConfig  # noqa: E402

MB = 1 << 20
SEED = 20261207
PLANTED = (
    "Patient: Ilse Brandvold was seen today.",
    "Please ship to 17 Hawthorn Road, Leeds LS6 2AB before Friday.",
    "Mr. Okonjo called about his type 2 diabetes medication.",
    "Regards,\nTamsin Achterberg",
    "She lives at 2210 Larkspur Ave, Eugene, OR 97401 with her son.",
    "Diagnosis: major depressive disorder, recurrent.",
    "Hi Ruaridh, the invoice is attached.",
)
STRUCTURED = "Contact jane.roe@example.org, MRN: 00482913, about the follow-up."


def planted(size: int, seed: int, every: int = 1500) -> str:
    rng = random.Random(seed)
    base = english(size, seed)
    parts, at = [], 0
    while at < len(base):
        parts.append(base[at : at + every])
        parts.append(" " + rng.choice(PLANTED) + " ")
        at += every
    return "".join(parts)[:size]


def dense_names(size: int) -> str:
    line = "Customer Maria Okafor asked about order 1142; agent Tom Brophy replied.\n"
    return (line * (size // len(line) + 1))[:size]


def prompts(kind: str, count: int) -> list[str]:
    out = []
    for i in range(count):
        if kind == "plain":
            out.append(english(4096, SEED + i))
        elif kind == "entities":
            out.append(planted(4096, SEED + i, every=900))
        else:
            text = english(4096, SEED + i)
            out.append(text[:2000] + " " + STRUCTURED + " " + text[2000 : 4096 - 80])
    return out


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def stage_ms(classifier: Classifier, stage: EntityStage, texts: list[str]) -> list[float]:
    """Per prompt, the stage's own time after the structured pass (as classify runs it)."""
    out = []
    for text in texts:
        segments = [Segment(("messages", 0, "content"), text)]
        structured = classifier.scanner.scan_report(segments).findings
        t0 = time.perf_counter()
        if stage.needed(structured):
            stage.run(segments, structured, classifier.scanner.budget)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def latency(classifier: Classifier, stage: EntityStage, runs: int) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for mode in ("always", "when_needed"):
        stage.mode = mode
        for kind in ("plain", "entities", "structured_pii_phi"):
            texts = prompts(kind, runs)
            stage_ms(classifier, stage, texts[:20])  # warm
            times = stage_ms(classifier, stage, texts)
            result[f"{mode}/{kind}"] = {
                "p50_ms": round(statistics.median(times), 4),
                "p99_ms": round(percentile(times, 0.99), 4),
                "prompts": len(times),
            }
    return result


def mb_per_s(run: Callable[[], object], nbytes: int, min_seconds: float) -> float:
    run()
    count, t0 = 0, time.perf_counter()
    while True:
        run()
        count += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return round(nbytes * count / elapsed / MB, 2)


def throughput(classifier: Classifier, stage: EntityStage, quick: bool) -> dict[str, Any]:
    stage.mode = "always"
    seconds = 0.5 if quick else 2.0
    out: dict[str, Any] = {}
    for name, text in (
        ("planted", planted(256 << 10, SEED)),
        ("dense_names", dense_names(256 << 10)),
    ):
        segments = [Segment(("messages", 0, "content"), text)]
        structured = classifier.scanner.scan_report(segments).findings
        nbytes = len(text.encode())
        out[name] = {
            "stage_mb_s": mb_per_s(
                lambda s=segments, f=structured: stage.run(s, f, 1 << 30), nbytes, seconds
            ),
            "per_recognizer_mb_s": {
                type(r).__name__: mb_per_s(lambda r=r, t=text: r.find(t), nbytes, seconds)
                for r in stage.recognizers
            },
            "structured_pass_mb_s": mb_per_s(
                lambda s=segments: classifier.scanner.scan_report(s), nbytes, seconds
            ),
        }
    return out


_RSS_CHILD = """
import sys
sys.path.insert(0, {root!r})
from sidecar.classify import Classifier
from sidecar.config import ClassificationConfig
import ctypes
c = Classifier.from_config(ClassificationConfig(entities={mode!r}))
# Hyperscan's compiler frees what it used, but glibc keeps the pages: without a trim the
# figure is the compile's high-water mark, by chance of allocation order, not what the
# process holds.
ctypes.CDLL("libc.so.6").malloc_trim(0)
for line in open("/proc/self/status"):
    if line.startswith("VmRSS"):
        print(int(line.split()[1]) // 1024)
"""


def rss() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in ("off", "when_needed"):
        code = _RSS_CHILD.format(root=str(ROOT), mode=mode)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        out[f"entities_{mode}_mb"] = int(done.stdout.strip().splitlines()[-1])
    out["stage_adds_mb"] = out["entities_when_needed_mb"] - out["entities_off_mb"]
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer prompts, shorter runs")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    classifier = Classifier.from_config(ClassificationConfig(entities="always"))
    stage = classifier.entities
    assert stage is not None
    result = {
        "latency_4kb": latency(classifier, stage, 100 if args.quick else 1000),
        "throughput_256kb": throughput(classifier, stage, args.quick),
        "rss": rss(),
        "recognizers": [type(r).__name__ for r in stage.recognizers],
        "python": sys.version.split()[0],
        "cpu": _cpu(),
    }
    print(json.dumps(result, indent=2))


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
