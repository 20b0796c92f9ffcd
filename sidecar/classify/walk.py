"""Whole-body extraction: every string, key and number of a request is scanned, unless the
field it sits in is on a short list of fields that cannot carry free text and the value
passes that field's validator.

An allow-list of "fields we know carry text" loses to every field a provider adds next
month, so this is the inverse: a `Field` tree per API names only the exemptions (model,
roles, type discriminators, bounded ids, numeric parameters) and the few values that need
decoding first (JSON held in strings, data: URLs and base64 files). Anything the tree does
not describe, an unknown top-level field, a new content block, a key of `metadata`, is
walked with `ANY`: every string and number scanned, every key scanned. A value that fails
its validator is scanned like any other text; it is never forwarded unscanned.

Content that cannot be scanned (an image, audio, a URL the provider fetches, token ids, an
oversized PDF, an encrypted blob) is declared: its kind goes into `Extraction.unscanned`,
which becomes `input.classification.unscanned`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from sidecar.classify.model import DUMP, JSON, KEY, NUMBER, TEXT, JsonPath, Segment

Check = Callable[[Any], bool]
"""A leaf validator: True exempts the value from scanning."""
Special = Callable[[Any, JsonPath, "Extraction", Mapping[str, Any]], bool]
"""A handler for values that need decoding or declaring (media, token arrays), given the
value, its path, the extraction and the object holding it (a base64 `data` field means
something else next to `"type": "text"`): it adds segments and unscanned kinds itself and
returns True, or returns False to let the value be walked as usual."""

__all__ = ["JSON", "KEY", "NUMBER", "TEXT"]


@dataclass(slots=True)
class Field:
    """What is known about one position of a request body.

    `fields`: known keys of an object (the key names are constants of the API, so they are
    not scanned; their values are walked with the child). Keys not listed are scanned and
    their values walked with `ANY`. `values`: an open map (metadata, JSON-schema
    properties): every key is scanned, every value walked with this child. `items`: the
    child for array elements. `check`: exempts a scalar that passes it. `form`: how a
    string here is scanned (`json`: JSON text, whose escapes are decoded before scanning).
    `special`: decodes or declares the value (see `Special`). `bulk`: an object or array
    here is scanned whole, as its JSON serialisation (keys, strings and numbers alike): a
    tool schema or an unknown field is one segment instead of dozens, which is what keeps
    the walk cheap, and redaction rewrites that JSON and parses it back.
    """

    fields: dict[str, Field] | None = None
    values: Field | None = None
    items: Field | None = None
    check: Check | None = None
    form: str = TEXT
    special: Special | None = None
    bulk: bool = False

    def child(self, key: str) -> Field | None:
        """The child for `key`, or None when the key is not known here (scan it)."""
        if self.fields is not None:
            return self.fields.get(key)
        return None


ANY = Field(bulk=True)
"""Nothing known: every string, number and key below is scanned."""


@dataclass(slots=True)
class Extraction:
    segments: list[Segment] = field(default_factory=list)
    unscanned: set[str] = field(default_factory=set)
    exempt: list[Any] = field(default_factory=list)
    """Values a validator exempted: with `declared`, what leaves without a scan (the
    coverage tests check every forwarded value against these and the segments)."""
    declared: list[Any] = field(default_factory=list)
    """Values forwarded unscanned as content of a kind named in `unscanned`."""
    extract_seconds: float = 1.0
    """What is left of the request's budget for extracting text from files (PDFs): many
    files in one body share it, since extraction runs on the event loop."""

    def text(self, path: JsonPath, text: str, form: str = TEXT, codec: str | None = None) -> None:
        if text:
            self.segments.append(Segment(path, text, form, codec))

    def declare(self, kind: str, value: Any) -> None:
        """`value` is forwarded unscanned, as content of this kind."""
        self.unscanned.add(kind)
        self.declared.append(value)


_NO_PARENT: Mapping[str, Any] = {}


def walk(body: Mapping[str, Any], root: Field) -> Extraction:
    """Every scannable piece of `body`, in document order.

    Recursive, with one shared path list that is copied into a tuple only where a segment
    is made: this runs over every value of every request. The depth is bounded by the
    parser's nesting limit (`limits.max_json_depth`), checked before the walk.
    """
    out = Extraction()
    segments = out.segments
    exempt = out.exempt
    path: list[str | int] = []

    def visit(node: Any, spec: Field, parent: Mapping[str, Any]) -> None:
        special = spec.special
        if special is not None and special(node, tuple(path), out, parent):
            return
        kind = type(node)
        if spec.bulk and (kind is dict or kind is list):
            if node:
                segments.append(Segment(tuple(path), orjson.dumps(node).decode(), DUMP))
            return
        if kind is str:
            check = spec.check
            if check is not None and check(node):
                exempt.append(node)
            elif node:
                segments.append(Segment(tuple(path), node, spec.form))
        elif kind is dict:
            fields, open_map = spec.fields, spec.values
            for key, value in node.items():
                child = fields.get(key) if fields is not None else None
                if child is None:
                    if key:
                        segments.append(Segment((*path, key), key, KEY))
                    child = open_map if open_map is not None else ANY
                if child.special is None:  # the common leaves inline: no call per value
                    leaf = type(value)
                    if leaf is str:
                        check = child.check
                        if check is not None and check(value):
                            exempt.append(value)
                        elif value:
                            segments.append(Segment((*path, key), value, child.form))
                        continue
                    if leaf is bool or value is None:
                        continue
                path.append(key)
                visit(value, child, node)
                path.pop()
        elif kind is list:
            item = spec.items if spec.items is not None else ANY
            for index, value in enumerate(node):
                path.append(index)
                visit(value, item, parent)
                path.pop()
        elif kind is int or kind is float:
            check = spec.check
            if check is not None and check(node):
                exempt.append(node)
            else:
                segments.append(Segment(tuple(path), repr(node), NUMBER))
        # booleans and null: one bit at most, nothing to find

    visit(body, root, _NO_PARENT)
    return out


def known_keys(*trees: Field) -> frozenset[str]:
    """Every field name the trees know: constants of the API, never the app's text (an
    unknown key is scanned), so safe to name in an audit record."""
    keys: set[str] = set()
    seen: set[int] = set()
    stack = list(trees)
    while stack:
        spec = stack.pop()
        if id(spec) in seen:
            continue
        seen.add(id(spec))
        for key, child in (spec.fields or {}).items():
            keys.add(key)
            stack.append(child)
        stack.extend(c for c in (spec.values, spec.items) if c is not None)
    return frozenset(keys)


def named_fields(names: list[str], known: frozenset[str]) -> str:
    """`names` for an audit record: documented ones by name, the app's own only counted."""
    shown = [n for n in names if n in known]
    rest = len(names) - len(shown)
    if rest:
        shown.append(f"{rest} other field(s)")
    return ", ".join(shown)


# ---- building blocks of the per-API trees ---------------------------------------------


def obj(fields: dict[str, Field] | None = None, **named: Field) -> Field:
    return Field(fields={**(fields or {}), **named})


def free(*names: str) -> dict[str, Field]:
    """Known fields that carry free text: their names are constants, their values scanned."""
    return dict.fromkeys(names, ANY)


def array(item: Field) -> Field:
    return Field(items=item)


def open_map() -> Field:
    """An object whose keys are the app's own (metadata): keys and values scanned."""
    return ANY


def one_of(*values: str) -> Field:
    """An enum: exempt only when the value is one of `values`."""
    allowed = frozenset(values)
    return Field(check=lambda v: isinstance(v, str) and v in allowed)


def matching(pattern: str, max_length: int = 128) -> Field:
    """A bounded identifier (tool-call ids, file ids): exempt when it has that shape."""
    compiled = re.compile(pattern)

    def check(value: Any) -> bool:
        return (
            isinstance(value, str) and len(value) <= max_length and bool(compiled.fullmatch(value))
        )

    return Field(check=check)


_DIGIT_RUN = re.compile(r"[0-9]{4}")


def identifier(*prefixes: str) -> Field:
    """An id a provider minted (`call_…`, `toolu_…`): a prefix, `_`, then base-62
    characters, with no four digits in a row, so neither a card number, an SSN, a phone
    number nor a key fits in one; a minted id that happens to break that rule is scanned,
    which costs nothing but a segment."""
    shape = re.compile(f"(?:{'|'.join(map(re.escape, prefixes))})_[A-Za-z0-9]{{1,120}}")

    def check(value: Any) -> bool:
        return (
            isinstance(value, str)
            and shape.fullmatch(value) is not None
            and _DIGIT_RUN.search(value) is None
        )

    return Field(check=check)


def number(low: float, high: float, *, integer: bool = False) -> Field:
    """A numeric parameter: exempt inside its documented range (a card number sent as
    `max_tokens` is out of range, so it is scanned), and a float only when it is short
    (`0.7`, `0.95`: digits hidden after the point are scanned)."""

    def check(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if isinstance(value, float) and (integer or len(repr(value)) > 8):
            return False  # 0.4111111111111111 is a card number in a temperature
        return low <= value <= high

    return Field(check=check)


def either(*specs: Field) -> Field:
    """A position that takes several shapes (a string enum or an object, say): their
    fields merged, any check passing exempts. Merging is safe: a known key only means its
    name is not scanned, and every exemption keeps its own validator."""
    fields: dict[str, Field] = {}
    checks = [s.check for s in specs if s.check is not None]
    items = next((s.items for s in specs if s.items is not None), None)
    values = next((s.values for s in specs if s.values is not None), None)
    special = next((s.special for s in specs if s.special is not None), None)
    for spec in specs:
        fields.update(spec.fields or {})

    def check(value: Any) -> bool:
        return any(c(value) for c in checks)

    return Field(
        fields=fields or None,
        values=values,
        items=items,
        check=check if checks else None,
        form=next((s.form for s in specs if s.form != TEXT), TEXT),
        special=special,
        bulk=any(s.bulk for s in specs),
    )


MODEL_NAME = matching(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]*", 256)
"""The requested model. The pipeline answers a name the catalogue does not know with a 404
before anything is sent, and every route writes its own configured model id upstream."""
FLAG = Field()  # booleans and null are never scanned; a string here is
TEMPERATURE = number(0, 2)
PROBABILITY = number(0, 1)
PENALTY = number(-2, 2)
TOKENS = number(1, 2_000_000, integer=True)
SMALL_COUNT = number(0, 128, integer=True)
