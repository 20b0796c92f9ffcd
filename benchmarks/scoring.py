"""Score classifier findings against labelled spans, per tag.

Matching is by overlap within a tag: a finding and a label of the same tag match when their
character spans overlap, and each label and each finding is matched at most once (a maximum
matching, so one long finding cannot hide a second label it also overlaps).

* TP: a matched finding.
* FN: a required label left unmatched.
* FP: an unmatched finding that overlaps no label of its tag.
* duplicate: an unmatched finding that overlaps a label of its tag already matched by another
  finding (a value reported in pieces); neither TP nor FP.
* shadowed: an unmatched finding lying wholly inside a label of another tag that is not
  implemented yet (e.g. the e-mail-shaped ``pass@host`` inside a credential URL before the
  URL detector exists). The engine drops a candidate inside a longer accepted one, so such
  a finding is expected to disappear once the enclosing tag is detected; until then it is
  counted apart rather than as an FP. With ``implemented=None`` nothing is shadowed.

A label lying wholly inside a label of another tag (the PAN inside track data, the PEM
block inside a service-account JSON) is optional: matching it is a TP, missing it is not an
FN, since the engine drops the inner candidate once it accepts the outer one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Span = tuple[str, int, int]
"""(tag, start, end) with character offsets."""


@dataclass
class TagScore:
    tag: str
    support: int = 0
    """Required labels."""
    optional: int = 0
    """Labels nested inside a label of another tag."""
    tp: int = 0
    fp: int = 0
    fn: int = 0
    duplicate: int = 0
    shadowed: int = 0

    @property
    def precision(self) -> float | None:
        found = self.tp + self.fp
        return self.tp / found if found else None

    @property
    def recall(self) -> float | None:
        relevant = self.tp + self.fn
        return self.tp / relevant if relevant else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if r is None:
            return None
        if not p or not r:
            return 0.0
        return 2 * p * r / (p + r)

    def as_dict(self) -> dict[str, Any]:
        def rounded(x: float | None) -> float | None:
            return None if x is None else round(x, 4)

        return {
            "support": self.support,
            "optional": self.optional,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "duplicate": self.duplicate,
            "shadowed": self.shadowed,
            "precision": rounded(self.precision),
            "recall": rounded(self.recall),
            "f1": rounded(self.f1),
        }


@dataclass(frozen=True)
class Miss:
    """One error, for the report: where, what, and the text it is about."""

    kind: str  # "fp" or "fn"
    id: str
    tag: str
    start: int
    end: int
    value: str


@dataclass
class Report:
    tags: dict[str, TagScore] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    records: int = 0

    def tag(self, name: str) -> TagScore:
        score = self.tags.get(name)
        if score is None:
            score = self.tags[name] = TagScore(name)
        return score

    def ordered(self, order: Sequence[str] = ()) -> list[TagScore]:
        """Scores in `order` first, then any other tag alphabetically."""
        rest = sorted(t for t in self.tags if t not in order)
        return [self.tag(t) for t in (*order, *rest)]

    def examples(self, tag: str, kind: str, limit: int) -> list[Miss]:
        return [m for m in self.misses if m.tag == tag and m.kind == kind][:limit]


GENERIC_SECRET_LABELS = frozenset(
    {"secret.generic_high_entropy", "secret.password_assignment", "secret.url_password"}
)
"""Labels a provider-specific secret finding also answers: naming the credential inside a
connection URL ("a GitHub token") is as right as naming the URL."""
ALIASES = {"phi.clinical": "phi.diagnosis"}
"""Finding tag -> the label tag it also counts for."""


def accepts(label_tag: str, finding_tag: str) -> bool:
    """Whether a finding of `finding_tag` counts for a label of `label_tag`."""
    if finding_tag == label_tag or ALIASES.get(finding_tag) == label_tag:
        return True
    return label_tag in GENERIC_SECRET_LABELS and finding_tag.startswith("secret.")


def renamed(found: Sequence[Span], labels: Sequence[dict[str, Any]]) -> list[Span]:
    """Each finding under the tag of the label it overlaps and counts for (see `accepts`)."""
    out: list[Span] = []
    for tag, start, end in found:
        near = [lab for lab in labels if start < lab["end"] and lab["start"] < end]
        if any(lab["tag"] == tag for lab in near):
            out.append((tag, start, end))
            continue
        other = next((lab["tag"] for lab in near if accepts(lab["tag"], tag)), tag)
        out.append((other, start, end))
    return out


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


def _max_matching(
    findings: Sequence[tuple[int, int]],
    labels: Sequence[tuple[int, int]],
    taken: dict[int, int],
) -> None:
    """Kuhn's augmenting paths: extend `taken` (label index -> finding index) to a maximum
    matching between overlapping findings and labels. Free findings only are tried."""
    edges = [[j for j, lab in enumerate(labels) if _overlaps(f, lab)] for f in findings]
    matched_findings = set(taken.values())

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in taken or augment(taken[j], seen):
                taken[j] = i
                return True
        return False

    for i in range(len(findings)):
        if i not in matched_findings:
            augment(i, set())


def score_record(
    report: Report,
    record_id: str,
    text: str,
    labels: Iterable[Mapping[str, Any]],
    findings: Iterable[Span],
    implemented: Collection[str] | None = None,
) -> None:
    """Add one record's counts and misses to `report`."""
    report.records += 1
    all_labels: list[Span] = [(lab["tag"], lab["start"], lab["end"]) for lab in labels]
    all_findings = list(findings)
    optional = {
        i
        for i, (tag, s, e) in enumerate(all_labels)
        if any(
            o_tag != tag and _inside((s, e), (os_, oe)) and (s, e) != (os_, oe)
            for o_tag, os_, oe in all_labels
        )
    }
    tags = {t for t, _, _ in all_labels} | {t for t, _, _ in all_findings}
    for tag in sorted(tags):
        score = report.tag(tag)
        label_idx = [i for i, lab in enumerate(all_labels) if lab[0] == tag]
        required = [i for i in label_idx if i not in optional]
        nested = [i for i in label_idx if i in optional]
        score.support += len(required)
        score.optional += len(nested)
        spans = [(s, e) for t, s, e in all_findings if t == tag]

        # Required labels first, so a finding prefers a label that would otherwise be an FN.
        taken_required: dict[int, int] = {}
        _max_matching(spans, [all_labels[i][1:] for i in required], taken_required)
        used = set(taken_required.values())
        free = [i for i in range(len(spans)) if i not in used]
        taken_nested: dict[int, int] = {}
        _max_matching([spans[i] for i in free], [all_labels[i][1:] for i in nested], taken_nested)
        used |= {free[i] for i in taken_nested.values()}

        score.tp += len(used)
        for j, i in enumerate(required):
            if j not in taken_required:
                score.fn += 1
                _, s, e = all_labels[i]
                report.misses.append(Miss("fn", record_id, tag, s, e, text[s:e]))
        for i, span in enumerate(spans):
            if i in used:
                continue
            if any(_overlaps(span, all_labels[j][1:]) for j in label_idx):
                score.duplicate += 1
            elif implemented is not None and any(
                o_tag != tag and o_tag not in implemented and _inside(span, (s, e))
                for o_tag, s, e in all_labels
            ):
                score.shadowed += 1
            else:
                score.fp += 1
                report.misses.append(Miss("fp", record_id, tag, *span, text[span[0] : span[1]]))


CHECKSUM_VALIDATED: frozenset[str] = frozenset(
    {
        "pii.ssn",  # SSA rules
        "pii.itin",  # IRS rules
        "pii.iban",  # mod-97 and the country's length
        "pii.swift_bic",  # ISO 9362 structure and country
        "pii.aba_routing",  # 3-7-1 checksum
        "pci.pan",  # Luhn and IIN ranges
        "pci.track_data",  # the embedded PAN
        "phi.npi",  # Luhn over 80840
        "phi.dea",  # DEA checksum
        "phi.mbi",  # CMS character positions
    }
)
"""Tags whose values a checksum or an issuing body's rules confirm: held to a higher bar."""
CHECKSUM_TARGET = 0.98
OTHER_TARGET = 0.95


def target(tag: str) -> float:
    """The precision and recall a tag must reach on the labelled corpus."""
    return CHECKSUM_TARGET if tag in CHECKSUM_VALIDATED else OTHER_TARGET


def below_target(report: Report, tags: Iterable[str]) -> list[str]:
    """One line per tag in `tags` that misses its target; a tag with no labels in the
    corpus, or with no finding at all, misses it too (it cannot pass by being absent)."""
    failures: list[str] = []
    for tag in tags:
        score = report.tag(tag)
        goal = target(tag)
        if score.support == 0:
            failures.append(f"{tag}: no labels in the corpus")
            continue
        precision = score.precision or 0.0
        recall = score.recall or 0.0
        if precision < goal or recall < goal:
            failures.append(
                f"{tag}: precision {precision:.3f}, recall {recall:.3f} "
                f"(target {goal:.2f}; {score.fp} FP, {score.fn} FN)"
            )
    return failures
