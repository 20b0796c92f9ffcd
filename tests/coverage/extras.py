"""Unknown fields: what a provider ships next month, today.

Providers add request fields every few weeks and the SDKs pass unknown ones through
(`extra_body`), so the sidecar must scan fields it has never heard of, at the top level and
inside messages, blocks and tools alike. Injection is a separate step from generation so that
the clean body can still be checked against the SDK's TypedDicts.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
from hypothesis import strategies as st

from tests.coverage.primitives import JSON, Draw, Rng, phrase, snake_key

_SEED = st.integers(0, 2**32)


def extra_value(rng: Rng, depth: int = 2) -> JSON:
    """A string, a number, or a small nested object (or array) of them."""
    kind = rng.randrange(5 if depth > 0 else 3)
    if kind == 0:
        return rng.choice((7, 42, 0.25, 3.5))
    if kind <= 2:
        return phrase(rng)
    if kind == 3:
        return [extra_value(rng, depth - 1) for _ in range(rng.randint(1, 2))]
    return {snake_key(rng): extra_value(rng, depth - 1) for _ in range(rng.randint(1, 2))}


def objects_in(body: JSON) -> list[dict[str, Any]]:
    """Every JSON object in `body`, the root first (iterative: bodies nest a dozen deep)."""
    found: list[dict[str, Any]] = []
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return found


def add_extras(body: dict[str, Any], rng: Rng, count: int, root: bool) -> dict[str, Any]:
    """A deep copy of `body` with unknown keys added to `count` objects picked by `rng`
    (messages, blocks, tools, sources...) and, if `root`, to the body itself; a key already
    there is never replaced."""
    out: dict[str, Any] = orjson.loads(orjson.dumps(body))  # a deep copy, never aliased
    objects = objects_in(out)
    targets = rng.sample(range(len(objects)), min(count, len(objects)))
    if root and 0 not in targets:
        targets.append(0)
    for index in targets:
        for _ in range(rng.randint(1, 2)):
            objects[index].setdefault(snake_key(rng), extra_value(rng))
    return out


def with_extras(bodies: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """`bodies`, most of them carrying unknown fields somewhere (a few stay clean)."""

    @st.composite
    def build(draw: Draw) -> dict[str, Any]:
        body = draw(bodies)
        count, root = draw(st.integers(0, 3)), draw(st.booleans())
        return add_extras(body, random.Random(draw(_SEED)), count, root)

    return build()
