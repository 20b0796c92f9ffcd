"""String sites of a request body, and planting a marker in one of them.

A site is any place a string can carry data: every string value and every object key (keys
count: metadata maps, JSON-schema property names and tool inputs are all keyed by app
data). The oracle plants a marker in one site per request and then looks for it upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import strategies as st

from tests.coverage.primitives import Draw

Path = tuple[str | int, ...]
HOWS = ("replace", "prefix", "suffix", "middle")
_HOWS = st.sampled_from(HOWS)


@dataclass(frozen=True)
class Site:
    """`path` leads from the body to a string value or, when `is_key`, to the value of the
    key that is the site (so its last element is the key itself)."""

    path: Path
    is_key: bool

    def __str__(self) -> str:
        where = "/".join(map(str, self.path)) or "<root>"
        return f"key {where}" if self.is_key else f"value {where}"


def string_sites(body: Any) -> list[Site]:
    """Every string value and every object key of `body`, in document order.

    Iterative, so a deeply nested body cannot exhaust the recursion limit."""
    sites: list[Site] = []
    stack: list[tuple[Path, Any]] = [((), body)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            sites.append(Site(path, is_key=False))
        elif isinstance(node, dict):
            children = []
            for key, value in node.items():
                sites.append(Site((*path, key), is_key=True))
                children.append(((*path, key), value))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(reversed([((*path, i), v) for i, v in enumerate(node)]))
    return sites


def value_at(body: Any, path: Path) -> Any:
    """The value `path` leads to."""
    node = body
    for step in path:
        node = node[step]
    return node


def insert(text: str, marker: str, how: str) -> str:
    """`text` with `marker` put in the way `how` names."""
    if how == "replace":
        return marker
    if how == "prefix":
        return marker + text
    if how == "suffix":
        return text + marker
    if how == "middle":
        half = len(text) // 2
        return text[:half] + marker + text[half:]
    raise ValueError(f"unknown way to plant: {how!r}")


def plant(body: dict[str, Any], site: Site, marker: str, how: str) -> dict[str, Any]:
    """A deep copy of `body` with `marker` planted at `site`: inserted into the string, or,
    for a key site, into the key's name (the value is kept, and so is the key's position,
    since some readers care about order)."""
    out: dict[str, Any] = orjson.loads(orjson.dumps(body))  # a deep copy, never aliased
    *parents, last = site.path
    parent = value_at(out, tuple(parents))
    if not site.is_key:
        parent[last] = insert(parent[last], marker, how)
        return out
    assert isinstance(last, str), site
    renamed = insert(last, marker, how)
    items = [(renamed if k == last else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)
    return out


def planted_site(site: Site, marker: str, how: str) -> Site:
    """Where the marker is in the planted body: a key site's last step is the new name."""
    if not site.is_key:
        return site
    *parents, last = site.path
    return Site((*parents, insert(str(last), marker, how)), is_key=True)


def planted(
    bodies: st.SearchStrategy[dict[str, Any]], marker: str
) -> st.SearchStrategy[tuple[dict[str, Any], Site]]:
    """(body, site): a drawn body with `marker` planted at one drawn site in one drawn way;
    `site` says where the marker now is (for a key site, the renamed key)."""

    @st.composite
    def build(draw: Draw) -> tuple[dict[str, Any], Site]:
        body = draw(bodies)
        sites = string_sites(body)
        site = sites[draw(st.integers(0, len(sites) - 1))]
        how = draw(_HOWS)
        return plant(body, site, marker, how), planted_site(site, marker, how)

    return build()
