"""The line builder: templates filled with generated values, labelled as they are put in."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable

from tests.data.corpus.common import (
    CITIES,
    COMPANIES,
    COUNTRIES,
    FIRST_NAMES,
    HOSTS,
    LAST_NAMES,
    MONTHS,
    PRODUCTS,
    STATES,
    WEEKDAYS,
)
from tests.data.corpus.model import (
    MIXED_LINES,
    NEGATIVE_SHARE,
    PRIMARY_PER_TAG,
    TAGS,
    Label,
    Record,
    Value,
)
from tests.data.corpus.templates import NEGATIVE_TEMPLATES, TEMPLATES
from tests.data.corpus.values import GENERATORS
from tests.data.corpus.values.phi import CONDITIONS, TREATMENTS

FILLERS: dict[str, Callable[[random.Random], str]] = {
    # Unlabelled words a template asks for by name: `{name}`, `{amount}`, `{acct}`...
    "first": lambda r: r.choice(FIRST_NAMES),
    "last": lambda r: r.choice(LAST_NAMES),
    "name": lambda r: f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}",
    "company": lambda r: r.choice(COMPANIES),
    "city": lambda r: r.choice(CITIES),
    "weekday": lambda r: r.choice(WEEKDAYS),
    "month": lambda r: r.choice(MONTHS),
    "product": lambda r: r.choice(PRODUCTS),
    "state": lambda r: r.choice(STATES),
    "country": lambda r: r.choice(COUNTRIES),
    "amount": lambda r: f"{r.randint(12, 9800):,}.{r.randint(0, 99):02d}",
    "count": lambda r: str(r.randint(2, 480)),
    "time": lambda r: (
        f"{r.randint(1, 12)}:{r.choice(('00', '15', '30', '45'))} " + r.choice(("am", "pm"))
    ),
    "host": lambda r: r.choice(HOSTS),
    "condition": lambda r: r.choice(CONDITIONS),
    "treatment": lambda r: r.choice(TREATMENTS),
    "acct": lambda r: "".join(r.choice(string.digits) for _ in range(r.randint(8, 10))),
}

_TOKEN = re.compile(r"\{([a-z][a-z0-9_.]*)\}|\[\[|\]\]")

IDENTIFYING = ("pii.", "phi.mrn", "phi.mbi", "phi.npi")
"""Tags that identify a person: clinical words only count as PHI next to one of these."""
CASED_CATEGORIES = ("pii.", "phi.", "pci.pan", "pci.cvv", "pci.expiry")
"""Prose templates whose wording may appear upper- or lower-cased; secrets, config syntax
and track data keep their case."""


class Line:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.labels: list[Label] = []
        self.clinical: list[tuple[int, int]] = []
        """[[...]] regions: phi.clinical labels if the line identifies a person."""
        self.length = 0

    def text(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def value(self, tag: str, value: Value) -> None:
        text, inner = (value, ()) if isinstance(value, str) else value
        for inner_tag, start, end in inner:
            self.labels.append(
                {"tag": inner_tag, "start": self.length + start, "end": self.length + end}
            )
        self.labels.append({"tag": tag, "start": self.length, "end": self.length + len(text)})
        self.text(text)

    def render(self) -> tuple[str, list[Label]]:
        labels = list(self.labels)
        if any(_identifies(lab, labels) for lab in labels):
            labels += [{"tag": "phi.clinical", "start": s, "end": e} for s, e in self.clinical]
        labels.sort(key=lambda lab: (lab["start"], -lab["end"], lab["tag"]))
        return "".join(self.parts), labels


def _identifies(label: Label, labels: list[Label]) -> bool:
    """Whether a label names a person. The `client_email` inside a service-account key is
    a robot's address: an identifier nested in a secret identifies nobody."""
    return label["tag"].startswith(IDENTIFYING) and not any(
        other["tag"].startswith("secret.")
        and other["start"] <= label["start"]
        and label["end"] <= other["end"]
        for other in labels
    )


def _case(rng: random.Random, tag: str | None) -> Callable[[str], str]:
    roll = rng.random()
    if tag is None or not tag.startswith(CASED_CATEGORIES):
        return str
    if roll < 0.07:
        return str.upper
    if roll < 0.14:
        return str.lower
    return str


def fill(rng: random.Random, line: Line, template: str, tag: str | None) -> None:
    """Append `template` to `line`: `{v}` is a value of `tag`, `{pii.phone}` a value of that
    tag, `{name}` an unlabelled filler, and `[[...]]` a clinical region."""
    case = _case(rng, tag)
    pos = 0
    region = -1
    for match in _TOKEN.finditer(template):
        line.text(case(template[pos : match.start()]))
        slot = match.group(1)
        if match.group(0) == "[[":
            region = line.length
        elif match.group(0) == "]]":
            line.clinical.append((region, line.length))
        elif slot == "v":
            assert tag is not None
            line.value(tag, GENERATORS[tag](rng))
        elif slot in GENERATORS:
            line.value(slot, GENERATORS[slot](rng))
        else:
            line.text(FILLERS[slot](rng))
        pos = match.end()
    line.text(case(template[pos:]))


def record(id_: str, line: Line) -> Record:
    text, labels = line.render()
    return {"id": id_, "text": text, "labels": labels}


def positive_line(rng: random.Random, tag: str) -> Line:
    line = Line()
    fill(rng, line, rng.choice(TEMPLATES[tag]), tag)
    return line


def mixed_line(rng: random.Random) -> Line:
    tags = rng.sample(TAGS, rng.randint(2, 4))
    line = Line()
    for i, tag in enumerate(tags):
        if i:
            line.text(rng.choice((" ", "\n", " | ", "; ", "\n\n")))
        fill(rng, line, rng.choice(TEMPLATES[tag]), tag)
    return line


def negative_line(rng: random.Random) -> Line:
    line = Line()
    for i in range(rng.randint(1, 3)):
        if i:
            line.text(" ")
        fill(rng, line, rng.choice(NEGATIVE_TEMPLATES), None)
    return line


def build_corpus(rng: random.Random) -> list[Record]:
    records: list[Record] = []
    for tag in TAGS:
        short = tag.split(".", 1)[1]
        for n in range(PRIMARY_PER_TAG):
            records.append(record(f"{short}-{n:03d}", positive_line(rng, tag)))
    for n in range(MIXED_LINES):
        records.append(record(f"mixed-{n:03d}", mixed_line(rng)))
    negatives = round(len(records) * NEGATIVE_SHARE / (1 - NEGATIVE_SHARE))
    for n in range(negatives):
        records.append(record(f"negative-{n:04d}", negative_line(rng)))
    return records
