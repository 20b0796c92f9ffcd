"""The classifier graded on the hand-written evaluation corpus, optionally beside Presidio.

    python benchmarks/evaluate.py [--split dev|test] [--peer presidio] [--examples N]

The corpus (tests/data/eval/, see its README) was written by hand, apart from every
detector's lexicon and generator: a development split to tune on and a held-apart test
split to report (the default). Each record is scanned as one text segment by the
classifier the sidecar builds, `Classifier.from_config(ClassificationConfig())`.
JSON goes to stdout, a Markdown table to stderr.

Scoring rule (span level). Findings below `--min-confidence` (default 0.5, the medium band
the default policy acts on) are dropped. A finding matches a label when their character
spans overlap and the finding's tag counts for the label's tag: the same tag; or, for the
generic secret labels (`secret.generic_high_entropy`, `secret.password_assignment`,
`secret.url_password`), any `secret.*` tag, since a provider-specific detector naming a
credential is the right answer; or `phi.clinical` for a `phi.diagnosis` label. Labels and
findings are then paired one to one by `benchmarks/scoring.py` (a maximum matching): a
paired finding is a TP, an unpaired label an FN, an unpaired finding that overlaps no label
of its tag an FP, one that overlaps an already paired label a duplicate (neither). A
finding wholly inside a label it does not count for (a host address inside a labelled
connection string), and a generic secret finding overlapping a labelled credential of a
specific kind (`user:<GitHub token>@host` found as a URL password), are set apart, neither
TP nor FP, and counted as `nested_findings`: labels do not nest.
Findings on look-alike records are FPs of their tag. Precision, recall and F1 are per tag.

Document level: a record is flagged when any kept finding has a regulated category (pii,
phi, pci, secret). Recall is over the records that carry a label; precision over every
flagged record; the look-alike rate is the share of look-alike records flagged.
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
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import presidio_peer  # noqa: E402

from benchmarks.scoring import (  # noqa: E402
    GENERIC_SECRET_LABELS,
    Report,
    Span,
    accepts,
    score_record,
)
from sidecar.classify import Classifier, Segment  # noqa: E402
from sidecar.classify.model import REGULATED_CATEGORIES  # noqa: E402
from sidecar.config import ClassificationConfig  # noqa: E402
from tests.data.eval import Label, Record, load  # noqa: E402

PRESIDIO_THRESHOLDS = (0.0, 0.5)
"""Presidio's own default (0: every result) and the floor our classifier is held to."""

Found = tuple[str, int, int, float]


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def canonical(found: Sequence[Span], labels: Sequence[Label]) -> tuple[list[Span], int]:
    """Rename a finding to the tag of the label it counts for (see the scoring rule), and
    set apart a finding that lies wholly inside a label it does not count for (the host
    address inside a labelled connection string), or a generic secret finding on a labelled
    credential of a specific kind (the `user:token@host` of a URL holding a GitHub token):
    neither is right or wrong, since labels do not nest. Returns the findings kept and the
    number set apart."""
    out: list[Span] = []
    nested = 0
    for tag, start, end in found:
        near = [lab for lab in labels if _overlaps(start, end, lab.start, lab.end)]
        if any(lab.tag == tag for lab in near):
            out.append((tag, start, end))
            continue
        other = next((lab.tag for lab in near if accepts(lab.tag, tag)), None)
        if other is not None:
            out.append((other, start, end))
        elif any(lab.start <= start and end <= lab.end for lab in near) or (
            tag in GENERIC_SECRET_LABELS and any(lab.category == "secret" for lab in near)
        ):
            nested += 1
        else:
            out.append((tag, start, end))
    return out, nested


def label_kind(record: Record, label: Label) -> str | None:
    """A sub-type for the breakdown: the label's own kind, or IPv4/IPv6 for addresses."""
    if label.kind:
        return f"{label.tag}#{label.kind}"
    if label.tag == "pii.ip_address":
        return "pii.ip_address#" + ("ipv6" if ":" in record.value(label) else "ipv4")
    return None


def grade(records: Sequence[Record], found: Sequence[Sequence[Span]]) -> dict[str, Any]:
    """Per-type and document-level figures for one system's spans, one list per record."""
    report = Report()
    kinds: dict[str, list[int]] = {}
    doc = {"tp": 0, "fn": 0, "fp": 0, "lookalike_flagged": 0}
    missed, flagged_lookalikes = [], []
    nested = 0
    for rec, spans in zip(records, found, strict=True):
        labels = [{"tag": lab.tag, "start": lab.start, "end": lab.end} for lab in rec.labels]
        flagged = any(t.split(".", 1)[0] in REGULATED_CATEGORIES for t, _, _ in spans)
        spans, inside = canonical(spans, rec.labels)
        nested += inside
        score_record(report, rec.id, rec.text, labels, spans)
        for lab in rec.labels:
            kind = label_kind(rec, lab)
            if kind:
                hit = any(t == lab.tag and _overlaps(s, e, lab.start, lab.end) for t, s, e in spans)
                groups = (kind, "secret.*#dsn") if lab.kind == "dsn" else (kind,)
                for group in groups:
                    kinds.setdefault(group, [0, 0])[0 if hit else 1] += 1
        if rec.regulated:
            doc["tp" if flagged else "fn"] += 1
            if not flagged:
                missed.append(rec.id)
        elif flagged:
            doc["fp"] += 1
            flagged_lookalikes.append(
                {"id": rec.id, "found": [[t, rec.text[s:e]] for t, s, e in spans]}
            )
    positives = doc["tp"] + doc["fn"]
    lookalikes = len(records) - positives
    return {
        "report": report,
        "tags": {s.tag: s.as_dict() for s in report.ordered()},
        "kinds": {
            k: {"support": hit + miss, "recall": round(hit / (hit + miss), 4)}
            for k, (hit, miss) in sorted(kinds.items())
        },
        "document": {
            "recall": _ratio(doc["tp"], positives),
            "precision": _ratio(doc["tp"], doc["tp"] + doc["fp"]),
            "flagged_positives": doc["tp"],
            "positives": positives,
            "flagged_lookalikes": doc["fp"],
            "lookalikes": lookalikes,
        },
        "lookalike_rate": _ratio(doc["fp"], lookalikes),
        "nested_findings": nested,
        "missed_documents": missed,
        "flagged_lookalikes": flagged_lookalikes,
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def build_classifier(entities: str = "always") -> tuple[Classifier, float]:
    """The classifier as the sidecar builds it at start, and how long that took. The entity
    stage runs on every record (`always`), so that names, addresses and diagnoses are
    graded as spans; with the default `when_needed` it is skipped once the structured pass
    found pii and phi, which leaves every record's level, and so the document figures, as
    they are (`--entities when_needed` shows it)."""
    t0 = time.perf_counter()
    classifier = Classifier.from_config(ClassificationConfig(entities=entities))  # type: ignore[arg-type]
    return classifier, time.perf_counter() - t0


def classifier_spans(
    classifier: Classifier, records: Sequence[Record], min_confidence: float
) -> tuple[list[list[Span]], float]:
    found: list[list[Span]] = []
    seconds = 0.0
    for rec in records:
        t0 = time.perf_counter()
        result = classifier.classify([Segment(("messages", 0, "content"), rec.text)])
        seconds += time.perf_counter() - t0
        found.append(
            [(f.tag, f.start, f.end) for f in result.findings if f.confidence >= min_confidence]
        )
    return found, seconds


def presidio_spans(raw: Sequence[Sequence[Any]], threshold: float) -> list[list[Span]]:
    return [
        [
            (presidio_peer.PRESIDIO_TO_TAG[kind], start, end)
            for kind, start, end, score in results
            if kind in presidio_peer.PRESIDIO_TO_TAG and score >= threshold
        ]
        for results in raw
    ]


def _speed(nbytes: int, seconds: float) -> dict[str, Any]:
    return {
        "seconds": round(seconds, 4),
        "mb_per_s": round(nbytes / seconds / 1e6, 3) if seconds else None,
    }


def _examples(graded: dict[str, Any], limit: int) -> dict[str, Any]:
    report: Report = graded["report"]
    out: dict[str, Any] = {}
    for score in report.ordered():
        for kind in ("fp", "fn"):
            rows = report.examples(score.tag, kind, limit)
            if rows:
                out.setdefault(score.tag, {})[kind] = [[m.id, m.value[:100]] for m in rows]
    return out


def summary(graded: dict[str, Any], examples: int) -> dict[str, Any]:
    out = {k: v for k, v in graded.items() if k != "report"}
    if examples:
        out["examples"] = _examples(graded, examples)
        out["missed_documents"] = out["missed_documents"][: examples * 5]
        out["flagged_lookalikes"] = out["flagged_lookalikes"][: examples * 5]
    else:
        out["missed_documents"] = len(out["missed_documents"])
        out["flagged_lookalikes"] = len(out["flagged_lookalikes"])
    return out


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def table(result: dict[str, Any]) -> str:
    systems: dict[str, Any] = result["systems"]
    names = list(systems)
    tags = sorted({t for s in systems.values() for t in s["tags"]})
    head = "| type | support | " + " | ".join(f"{n} P / R / F1" for n in names) + " |"
    rows = [head, "|" + "---|" * (2 + len(names))]
    for tag in tags:
        support = max(s["tags"].get(tag, {}).get("support", 0) for s in systems.values())
        cells = []
        for n in names:
            s = systems[n]["tags"].get(tag)
            cells.append(
                "-" if s is None else f"{_f(s['precision'])} / {_f(s['recall'])} / {_f(s['f1'])}"
            )
        rows.append(f"| {tag} | {support} | " + " | ".join(cells) + " |")
    rows.append("")
    rows.append("| document level | " + " | ".join(names) + " |")
    rows.append("|---|" + "---|" * len(names))
    for key, label in (("recall", "recall"), ("precision", "precision")):
        rows.append(
            f"| {label} | " + " | ".join(_f(systems[n]["document"][key]) for n in names) + " |"
        )
    rows.append(
        "| look-alikes flagged | "
        + " | ".join(_f(systems[n]["lookalike_rate"]) for n in names)
        + " |"
    )
    rows.append("| MB/s | " + " | ".join(_f(systems[n]["speed"]["mb_per_s"]) for n in names) + " |")
    kinds = sorted({k for s in systems.values() for k in s["kinds"]})
    if kinds:
        rows += ["", "| sub-type (recall) | support | " + " | ".join(names) + " |"]
        rows.append("|---|---|" + "---|" * len(names))
        for k in kinds:
            support = max(s["kinds"].get(k, {}).get("support", 0) for s in systems.values())
            vals = [_f(systems[n]["kinds"].get(k, {}).get("recall")) for n in names]
            rows.append(f"| {k} | {support} | " + " | ".join(vals) + " |")
    return "\n".join(rows)


def ratios(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, float | None]:
    def div(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    return {
        "document_recall": div(ours["document"]["recall"], peer["document"]["recall"]),
        "document_precision": div(ours["document"]["precision"], peer["document"]["precision"]),
        "speed": div(ours["speed"]["mb_per_s"], peer["speed"]["mb_per_s"]),
    }


def evaluate(
    split: str,
    peer: str | None,
    min_confidence: float,
    examples: int,
    venv: Path | None,
    entities: str = "always",
) -> dict[str, Any]:
    records = load(split)
    nbytes = sum(len(r.text.encode()) for r in records)
    classifier, build_seconds = build_classifier(entities)
    # Two passes: the first pays for what validators load lazily (the first MAC address
    # loads a manufacturer table); the second is the steady state the table reports.
    _, cold = classifier_spans(classifier, records, min_confidence)
    found, seconds = classifier_spans(classifier, records, min_confidence)
    ours = summary(grade(records, found), examples)
    ours["speed"] = {
        **_speed(nbytes, seconds),
        "first_pass": _speed(nbytes, cold),
        "build_seconds": round(build_seconds, 3),
    }
    result: dict[str, Any] = {
        "split": split,
        "entities": entities,
        "records": len(records),
        "positives": sum(r.regulated for r in records),
        "lookalikes": sum(r.lookalike for r in records),
        "bytes": nbytes,
        "min_confidence": min_confidence,
        "scoring": (__doc__ or "").split("Scoring rule (span level). ", 1)[-1].strip(),
        "systems": {"classifier": ours},
    }
    if peer == "presidio":
        raw = presidio_peer.run([r.text for r in records], venv)
        result["presidio"] = {
            "versions": raw["versions"],
            "nlp_engine": presidio_peer.NLP_NOTE,
            "recognizers": raw["recognizers"],
            "entity_map": presidio_peer.PRESIDIO_TO_TAG,
            "load_seconds": raw["load_seconds"],
        }
        result["ratios"] = {}
        for threshold in PRESIDIO_THRESHOLDS:
            name = f"presidio@{threshold:g}"
            graded = summary(grade(records, presidio_spans(raw["results"], threshold)), examples)
            graded["speed"] = _speed(nbytes, sum(raw["seconds"]))
            result["systems"][name] = graded
            result["ratios"][f"classifier/{name}"] = ratios(ours, graded)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--peer", choices=("presidio",), default=None)
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument(
        "--examples",
        type=int,
        default=None,
        help="errors shown per tag (default 5 on dev, 0 on test: do not tune on test)",
    )
    parser.add_argument("--presidio-venv", type=Path, default=None)
    parser.add_argument(
        "--entities",
        choices=("always", "when_needed"),
        default="always",
        help="the entity stage's gating (the document figures are the same either way)",
    )
    args = parser.parse_args(argv)
    examples = args.examples if args.examples is not None else (5 if args.split == "dev" else 0)
    try:
        result = evaluate(
            args.split, args.peer, args.min_confidence, examples, args.presidio_venv, args.entities
        )
    except presidio_peer.PresidioUnavailable as exc:
        sys.exit(f"presidio peer unavailable: {exc}")
    print(
        f"split {result['split']}: {result['positives']} regulated records, "
        f"{result['lookalikes']} look-alikes, {result['bytes']} bytes",
        file=sys.stderr,
    )
    if "presidio" in result:
        versions = result["presidio"]["versions"]
        print(f"Presidio {versions}: {presidio_peer.NLP_NOTE}", file=sys.stderr)
    print(table(result), file=sys.stderr)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
