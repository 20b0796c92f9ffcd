"""Read the hand-written evaluation corpus: inline markup in, text and character offsets out.

The sources are written to be easy to author and to review by eye, so the labels sit inside
the text: ``Patient [[pii.person_name|Maria Okafor]] (DOB [[pii.date_of_birth|03/14/1962]])``.
An optional kind after ``#`` names a sub-type the tag alone does not show, e.g.
``[[secret.url_password#dsn|postgres://...]]`` for a database connection string or
``[[secret.generic_high_entropy#google|AIza...]]`` for a provider without its own tag.

Two source forms, both UTF-8:

* ``<split>/<kind>.txt`` and ``<split>/lookalikes/<kind>.txt``: records separated by header
  lines ``=== <name>``; a record's text is every line up to the next header, with the
  surrounding blank lines dropped. Lines before the first header are the file's notes.
* ``<split>/lookalikes/<kind>.lines``: one record per line; blank lines and lines starting
  with ``#`` are skipped.

A record outside ``lookalikes/`` must carry at least one label (it is regulated); a
look-alike carries none. Ids are ``<split>/<kind>/<name>`` (a line number for ``.lines``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
SPLITS = ("dev", "test")
LOOKALIKES = "lookalikes"
NEW_TAGS = ("pii.person_name", "pii.street_address", "phi.diagnosis")
"""Tags the entity stage adds; the rest of a label's tags come from the detector catalogue."""

_LABEL = re.compile(r"\[\[([a-z]+\.[a-z0-9_]+)(?:#([a-z0-9_-]+))?\|(.+?)\]\]", re.DOTALL)
_HEADER = re.compile(r"^=== (\S+)\s*$")


class MarkupError(ValueError):
    """A source line the loader cannot read unambiguously."""


@dataclass(frozen=True, slots=True)
class Label:
    tag: str
    start: int
    end: int
    kind: str | None = None

    @property
    def category(self) -> str:
        return self.tag.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    split: str
    kind: str
    text: str
    labels: tuple[Label, ...]
    lookalike: bool

    @property
    def regulated(self) -> bool:
        """The document-level truth: every label tag is pii, phi, pci or secret."""
        return bool(self.labels)

    def value(self, label: Label) -> str:
        return self.text[label.start : label.end]


def parse(markup: str) -> tuple[str, tuple[Label, ...]]:
    """Strip the markup; return the plain text and its labels with offsets into it."""
    parts: list[str] = []
    labels: list[Label] = []
    pos = 0
    length = 0
    for m in _LABEL.finditer(markup):
        before = markup[pos : m.start()]
        parts.append(before)
        length += len(before)
        value = m.group(3)
        if "[[" in value or "\n\n" in value:
            raise MarkupError(f"nested or unclosed label near {markup[m.start() : m.end()]!r}")
        labels.append(Label(m.group(1), length, length + len(value), m.group(2)))
        parts.append(value)
        length += len(value)
        pos = m.end()
    parts.append(markup[pos:])
    text = "".join(parts)
    if "[[" in text or "]]" in text:
        raise MarkupError(f"unparsed markup in {text[:80]!r}")
    return text, tuple(labels)


def _blocks(source: str) -> list[tuple[str, str]]:
    blocks: list[tuple[str, list[str]]] = []
    for line in source.splitlines():
        header = _HEADER.match(line)
        if header:
            blocks.append((header.group(1), []))
        elif blocks:
            blocks[-1][1].append(line)
    return [(name, "\n".join(lines).strip("\n")) for name, lines in blocks]


def _lines(source: str) -> list[tuple[str, str]]:
    return [
        (str(n), line.strip())
        for n, line in enumerate(source.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def load_file(path: Path, split: str) -> list[Record]:
    lookalike = path.parent.name == LOOKALIKES
    kind = path.stem if not lookalike else f"{LOOKALIKES}-{path.stem}"
    source = path.read_text(encoding="utf-8")
    entries = _lines(source) if path.suffix == ".lines" else _blocks(source)
    records = []
    for name, markup in entries:
        text, labels = parse(markup)
        records.append(Record(f"{split}/{kind}/{name}", split, kind, text, labels, lookalike))
    return records


def load(split: str, root: Path = ROOT) -> list[Record]:
    """Every record of one split, positives and look-alikes, in a stable order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    base = root / split
    paths = sorted(base.glob("*.txt")) + sorted((base / LOOKALIKES).glob("*.txt"))
    paths += sorted((base / LOOKALIKES).glob("*.lines"))
    records: list[Record] = []
    for path in paths:
        records.extend(load_file(path, split))
    return records
