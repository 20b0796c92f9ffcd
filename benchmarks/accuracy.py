"""Classifier accuracy on the labelled corpus: precision, recall and F1 per tag.

    python benchmarks/accuracy.py [--json] [--examples 3]

Reads tests/data/corpus.jsonl and tests/data/lookalikes.jsonl (generating both in memory
from the seeded generator when the files are absent), scans every line with one
`Classifier`, and scores findings against labels as `benchmarks/scoring.py` describes.
Prints a table and a JSON summary; `--json` prints only the JSON. The summary counts
findings on the look-alikes (lines where nothing should be found) and names the lines
that fired, and lists the tags below their target (`scoring.target`: 0.98 precision and
recall for checksum-validated types, 0.95 for the rest; tests/classify/test_corpus.py
asserts the same). Tags in the taxonomy that no detector emits yet show recall 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.scoring import (  # noqa: E402
    Report,
    Span,
    below_target,
    renamed,
    score_record,
    target,
)
from sidecar.classify import Classifier, Segment  # noqa: E402
from tests.data import corpus as gen  # noqa: E402

DATA = ROOT / "tests" / "data"


def implemented_tags() -> tuple[str, ...]:
    from sidecar.classify import detectors

    return tuple(getattr(detectors, "TAGS", ()))


def load_corpus(data_dir: Path = DATA) -> tuple[list[gen.Record], list[gen.Record], str]:
    """(corpus, lookalikes, source): the committed files, or a fresh in-memory copy."""
    corpus_path, look_path = data_dir / gen.CORPUS_NAME, data_dir / gen.LOOKALIKES_NAME
    if corpus_path.exists() and look_path.exists():
        return gen.load(corpus_path), gen.load(look_path), "files"
    corpus, lookalikes = gen.generate()
    return corpus, lookalikes, f"generated (seed {gen.SEED})"


def scan(classifier: Classifier, text: str) -> list[Span]:
    return [(f.tag, f.start, f.end) for f in classifier.scan([Segment(("t",), text)])]


def evaluate(
    corpus: Sequence[gen.Record],
    lookalikes: Sequence[gen.Record],
    classifier: Classifier | None = None,
    implemented: Sequence[str] | None = None,
) -> tuple[Report, list[dict[str, Any]], float]:
    """Score the corpus; return the report, the look-alike hits and the scan seconds."""
    classifier = classifier or Classifier()
    implemented = implemented_tags() if implemented is None else implemented
    report = Report()
    elapsed = 0.0
    for rec in corpus:
        t0 = time.perf_counter()
        found = scan(classifier, rec["text"])
        elapsed += time.perf_counter() - t0
        found = renamed(found, rec["labels"])
        score_record(report, rec["id"], rec["text"], rec["labels"], found, implemented)
    hits: list[dict[str, Any]] = []
    for rec in lookalikes:
        for tag, start, end in scan(classifier, rec["text"]):
            hits.append({"id": rec["id"], "tag": tag, "value": rec["text"][start:end]})
    return report, hits, elapsed


def _fmt(x: float | None) -> str:
    return "    -" if x is None else f"{x:5.3f}"


def table(report: Report, implemented: Sequence[str]) -> str:
    rows = [
        f"{'tag':30} {'impl':>4} {'support':>7} {'opt':>4} {'tp':>5} {'fp':>4} {'fn':>5} "
        f"{'dup':>4} {'shad':>4} {'prec':>5} {'recall':>6} {'f1':>5} {'target':>6}"
    ]
    for s in report.ordered(gen.TAGS):
        rows.append(
            f"{s.tag:30} {'yes' if s.tag in implemented else 'no':>4} {s.support:7d} "
            f"{s.optional:4d} {s.tp:5d} {s.fp:4d} {s.fn:5d} {s.duplicate:4d} {s.shadowed:4d} "
            f"{_fmt(s.precision)} {_fmt(s.recall):>6} {_fmt(s.f1)} {target(s.tag):6.2f}"
        )
    return "\n".join(rows)


def summary(
    report: Report,
    hits: list[dict[str, Any]],
    implemented: Sequence[str],
    source: str,
    lookalike_lines: int,
    seconds: float,
    examples: int,
) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for s in report.ordered(gen.TAGS):
        entry = s.as_dict()
        entry["implemented"] = s.tag in implemented
        if examples:
            for kind in ("fp", "fn"):
                entry[f"{kind}_examples"] = [
                    {"id": m.id, "value": m.value[:120]}
                    for m in report.examples(s.tag, kind, examples)
                ]
        tags[s.tag] = entry
    implemented_scores = [s for s in report.ordered(gen.TAGS) if s.tag in implemented]
    tp = sum(s.tp for s in implemented_scores)
    fp = sum(s.fp for s in implemented_scores)
    fn = sum(s.fn for s in implemented_scores)
    return {
        "corpus": source,
        "records": report.records,
        "scan_seconds": round(seconds, 3),
        "implemented_micro": {
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        },
        "below_target": below_target(report, implemented),
        "lookalikes": {
            "lines": lookalike_lines,
            "findings": len(hits),
            "ids": sorted({h["id"] for h in hits}),
            "hits": hits,
        },
        "tags": tags,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Classifier accuracy per tag.")
    parser.add_argument("--json", action="store_true", help="print only the JSON summary")
    parser.add_argument(
        "--examples", type=int, default=3, help="false positives and negatives shown per tag"
    )
    args = parser.parse_args(argv)

    corpus, lookalikes, source = load_corpus()
    implemented = implemented_tags()
    report, hits, seconds = evaluate(corpus, lookalikes, implemented=implemented)
    result = summary(report, hits, implemented, source, len(lookalikes), seconds, args.examples)
    if not args.json:
        print(f"corpus: {source}, {report.records} lines, scanned in {seconds:.2f} s")
        print(table(report, implemented))
        print(
            f"look-alikes: {len(hits)} findings on {len(lookalikes)} lines"
            + (f" ({', '.join(result['lookalikes']['ids'])})" if hits else "")
        )
        misses = result["below_target"]
        print("below target: " + ("; ".join(misses) if misses else "none"))
        print()
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
