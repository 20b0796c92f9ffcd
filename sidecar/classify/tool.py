"""`llm-router classify`: what the classifier finds in a text, for people tuning detectors.

Human output masks every value; `--jsonl` reads `{"id", "text"}` lines and writes one
flushed line per input with character offsets into the original text, so any labelled
corpus can be scored against it.
"""

from __future__ import annotations

import sys
from typing import IO, Any

import orjson

from sidecar.classify.classifier import Classifier
from sidecar.classify.model import Segment


def masked(value: str) -> str:
    if len(value) <= 6:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def classify_text(classifier: Classifier, text: str) -> dict[str, Any]:
    result = classifier.classify([Segment(("text",), text)])
    return {
        "level": result.level,
        "categories": list(result.categories),
        "truncated": result.truncated,
        "findings": [
            {"tag": f.tag, "start": f.start, "end": f.end, "confidence": f.confidence}
            for f in result.findings
        ],
    }


def run_jsonl(classifier: Classifier, source: IO[str], out: IO[str]) -> int:
    bad = 0
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
            text = item["text"]
            if not isinstance(text, str):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            print(f"line {number}: expected a JSON object with a string 'text'", file=sys.stderr)
            bad += 1
            continue
        report = classify_text(classifier, text)
        report.pop("truncated")
        out.write(orjson.dumps({"id": item.get("id"), **report}).decode() + "\n")
        out.flush()
    return 1 if bad else 0


def run_human(classifier: Classifier, text: str, out: IO[str]) -> int:
    report = classify_text(classifier, text)
    cats = ", ".join(report["categories"]) or "-"
    out.write(
        f"level: {report['level']}   categories: {cats}"
        f"{'   (truncated: scan budget reached)' if report['truncated'] else ''}\n"
    )
    if not report["findings"]:
        out.write("no findings\n")
    for f in report["findings"]:
        value = masked(text[f["start"] : f["end"]])
        out.write(
            f"  {f['tag']:<28} {f['start']:>6}-{f['end']:<6} {f['confidence']:.2f}  {value}\n"
        )
    return 0
