"""Building blocks shared by the body generators: safe text, identifiers, ids, JSON.

Every free-text value is made of words from a fixed list of harmless nature words, spaces
and `.,-`: lower-case ASCII only, so an unplanted body never looks like regulated data by
accident (no digit runs, no `@`, no upper case, no trigger words such as "token" or
"passport", no run long enough to pass for a key). That is what lets the coverage oracle
read any finding on a planted body as the marker's, and any silence as a scanning gap.
(`st.text` would also be unsafe: hypothesis seeds it with string constants found in the code
under test, which here includes the detectors' own trigger words.)

Speed: hypothesis costs tens of microseconds per choice here, so leaves (phrases, ids, JSON
values, JSON Schemas) are pure functions of one drawn seed, and structure (which fields,
which blocks, how many) is what hypothesis explores and shrinks. A body is then well under
a hundred choices.
"""

from __future__ import annotations

import copy
import random
import string
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")
Draw = Callable[[st.SearchStrategy[Any]], Any]
JSON = Any
Rng = random.Random

SAFE_ALPHABET = string.ascii_lowercase + " .,-"
"""Every character a free-text value may contain."""

VOCABULARY = tuple(
    """amber anchor apple arch aspen bamboo basil beacon birch bloom breeze brook canyon
    cinder citrus clover cobalt comet cove crane crest dawn dune ember fern fjord flint
    forest frost garnet glade glen granite grove harbor hazel heron hollow indigo iris ivory
    jade juniper kelp lagoon lantern larch lark laurel lilac linen lotus maple marble meadow
    mesa mint mist moss nectar nimbus oak oasis olive onyx orchid otter pebble pine plume
    pond poppy prairie quartz quill raven reed ridge river robin rowan saffron sable shore
    sierra slate spruce stone summit thistle thyme tide timber topaz tulip tundra umber
    valley velvet violet willow wren yarrow zephyr""".split()
)
"""Harmless words, none of them a field name, enum value or detector context word of either
API, so a generated key can never shadow a real field."""

_ENDINGS = ("", "", ".", ",", "-")
_ID_CHARS = string.ascii_letters + string.digits


def phrase(rng: Rng) -> str:
    """One to four words: never empty, never padded (Anthropic refuses blank text)."""
    return " ".join(rng.choices(VOCABULARY, k=rng.randint(1, 4))) + rng.choice(_ENDINGS)


def identifier(rng: Rng) -> str:
    """snake_case: function and tool names, property names, JSON keys."""
    return "_".join(rng.choices(VOCABULARY, k=rng.randint(1, 2)))


def snake_key(rng: Rng) -> str:
    """An unknown field's name: two or three vocabulary words, never a documented field."""
    return "_".join(rng.choices(VOCABULARY, k=rng.randint(2, 3)))


def id_tail(rng: Rng, size: int) -> str:
    """Mixed-case alphanumerics with never two digits in a row, so an id cannot pass for a
    phone, card or record number."""
    out: list[str] = []
    for _ in range(size):  # starts with a letter: prefixes like `toolu_01` end in digits
        pool = string.ascii_letters if not out or out[-1].isdigit() else _ID_CHARS
        out.append(rng.choice(pool))
    return "".join(out)


def seeded(build: Callable[[Rng], T]) -> st.SearchStrategy[T]:
    """A strategy drawing one seed and building a value from it; shrinks to seed 0."""
    return st.integers(0, 2**32).map(lambda seed: build(random.Random(seed)))


words = st.sampled_from(VOCABULARY)
text = seeded(phrase)
identifiers = seeded(identifier)
snake_keys = seeded(snake_key)


def ids(prefix: str, size: int = 24) -> st.SearchStrategy[str]:
    """Provider-shaped ids: `call_...`, `toolu_01...`, `file-...`."""
    return seeded(lambda rng: prefix + id_tail(rng, size))


def url(rng: Rng, suffix: str = "") -> str:
    """An https URL on an example.com subdomain, path parts from the vocabulary."""
    parts = "/".join(rng.choices(VOCABULARY, k=rng.randint(1, 3)))
    return f"https://{rng.choice(VOCABULARY)}.example.com/{parts}{suffix}"


def urls(suffix: str = "") -> st.SearchStrategy[str]:
    return seeded(lambda rng: url(rng, suffix))


domains = words.map(lambda w: f"{w}.example.com")


def json_value(rng: Rng, depth: int = 3) -> JSON:
    """A JSON value; numbers stay below four digits (a number is not a string site, but a
    long one could look like an account number to a scanner that reads numbers too)."""
    kind = rng.randrange(8 if depth > 0 else 5)
    if kind == 0:
        return rng.randrange(1000)
    if kind == 1:
        return rng.choice((0.5, 1.25, -2.0, True, False, None))
    if kind <= 4:
        return phrase(rng)
    if kind == 5:
        return [json_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return json_object(rng, depth - 1)


def json_object(rng: Rng, depth: int = 3) -> dict[str, JSON]:
    """Tool inputs and arguments: always an object at the top, as both providers require."""
    return {identifier(rng): json_value(rng, depth) for _ in range(rng.randint(0, 3))}


def _dump_string(value: str, escaped: frozenset[str]) -> str:
    out = []
    for ch in value:
        if ch in escaped:
            out.append(f"\\u{ord(ch):04x}")
        elif ch in '"\\':
            out.append("\\" + ch)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def dump_json(value: JSON, escaped: frozenset[str] = frozenset(), spaced: bool = False) -> str:
    """JSON text for `value`, writing the characters in `escaped` as `\\uXXXX`.

    Models emit tool-call arguments with such escapes now and then; a scanner that matches on
    the raw text instead of the decoded value would miss a marker spelled that way.
    """
    colon, comma = (": ", ", ") if spaced else (":", ",")
    if isinstance(value, str):
        return _dump_string(value, escaped)
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + comma.join(dump_json(v, escaped, spaced) for v in value) + "]"
    items = (
        _dump_string(k, escaped) + colon + dump_json(v, escaped, spaced) for k, v in value.items()
    )
    return "{" + comma.join(items) + "}"


def json_text(rng: Rng) -> str:
    """JSON text of an object (tool-call arguments); half the time with some letters
    written as `\\uXXXX` escapes, nested objects and arrays now and then."""
    escaped = (
        frozenset(rng.sample(SAFE_ALPHABET, rng.randint(1, 4)))
        if rng.random() < 0.5
        else frozenset()
    )
    return dump_json(json_object(rng), escaped, spaced=rng.random() < 0.5)


json_objects = seeded(json_object)
json_texts = seeded(json_text)


def json_schema(rng: Rng, depth: int = 2) -> dict[str, JSON]:
    """An object JSON Schema with properties, required, enum, items, anyOf, $defs and
    descriptions: the shape of function `parameters` and tool `input_schema`.

    Descriptions, enum values and property names are all strings the model reads, so each is
    a place a marker can hide.
    """
    defs = {identifier(rng): _schema(rng, 0, ()) for _ in range(rng.randint(0, 2))}
    schema = _object_schema(rng, depth, tuple(defs))
    if defs:
        schema["$defs"] = defs
    return schema


_SCALARS = ("integer", "number", "boolean", "string")


def _schema(rng: Rng, depth: int, refs: Sequence[str]) -> dict[str, JSON]:
    kind = rng.randrange(4 if depth <= 0 else 8)
    if kind == 0:
        return {"type": "string", "enum": list(dict.fromkeys(rng.choices(VOCABULARY, k=3)))}
    if kind == 1 and refs:
        return {"$ref": f"#/$defs/{rng.choice(refs)}"}
    if kind == 7:
        return {"type": "array", "items": _schema(rng, 0, refs)}
    if kind <= 3:
        schema: dict[str, JSON] = {"type": rng.choice(_SCALARS)}
        if rng.random() < 0.5:
            schema["description"] = phrase(rng)
        return schema
    if kind == 4:
        return {"type": "array", "items": _schema(rng, depth - 1, refs)}
    if kind == 5:
        return {"anyOf": [_schema(rng, depth - 1, refs), _schema(rng, depth - 1, refs)]}
    return _object_schema(rng, depth - 1, refs)


def _object_schema(rng: Rng, depth: int, refs: Sequence[str]) -> dict[str, JSON]:
    props = {identifier(rng): _schema(rng, depth, refs) for _ in range(rng.randint(1, 3))}
    schema: dict[str, JSON] = {"type": "object", "properties": props}
    if props and rng.random() < 0.5:
        schema["required"] = [n for n in props if rng.random() < 0.5]
    if rng.random() < 0.5:
        schema["additionalProperties"] = False
    if rng.random() < 0.3:
        schema["description"] = phrase(rng)
    return schema


json_schemas = seeded(json_schema)

_INDEX = st.integers(0, 255)
_SEED = st.integers(0, 2**32)


def rng_for(draw: Draw) -> Rng:
    """The generator for a body's leaf values, from one drawn seed."""
    return random.Random(draw(_SEED))


def _spread(draw: Draw) -> int:
    # Hypothesis favours small integers; an odd multiplier modulo 256 (a bijection keeping
    # 0 at 0) spreads them, so the last options are not starved.
    return int(draw(_INDEX)) * 157 % 256


def pick(draw: Draw, options: Sequence[T]) -> T:
    """One of `options` (shrinks to the first); cheaper than a fresh `sampled_from`."""
    return options[_spread(draw) % len(options)]


def one_in(draw: Draw, n: int) -> bool:
    """True about one time in `n` (shrinks to False), for the rarer parts of a body."""
    return _spread(draw) % n == n - 1


def flags(draw: Draw, n: int) -> list[bool]:
    """`n` coin flips in one choice; shrinks towards all False.

    The drawn integer is scrambled by an odd multiplier (a bijection modulo 2**n that keeps
    0 at 0): hypothesis favours small integers, which would leave the high flags, the
    fields late in a table, almost never set."""
    mask = draw(st.integers(0, 2**n - 1)) * 0x9E3779B97F4A7C15 % 2**n
    return [bool(mask >> i & 1) for i in range(n)]


Options = Sequence[Any] | Callable[[Rng], Any]
Table = tuple[tuple[str, Options], ...]
"""Optional fields: each name with the values to choose from, or a function of the rng."""


def optional_fields(draw: Draw, rng: Rng, table: Table) -> dict[str, JSON]:
    """Optional fields whose values need no structure of their own: hypothesis chooses which
    are present (one choice, shrinking towards none), `rng` their values. Each entry gives
    the values to choose from, or a function building one from the rng."""
    out: dict[str, JSON] = {}
    for present, (key, options) in zip(flags(draw, len(table)), table, strict=True):
        if present:  # a copy: a constant shared between bodies must not be aliased
            out[key] = options(rng) if callable(options) else copy.deepcopy(rng.choice(options))
    return out
