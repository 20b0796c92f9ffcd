"""Decision caching, for policies that declare themselves cacheable.

A Rego evaluation costs 0.1 to 0.3 ms, more than the rest of the sidecar's own work per
request, while the inputs that matter to a decision (model, workload, classification
outcome, offered routes) repeat all the time. A policy may therefore declare, in the
optional rule `data.llm_router.decision_cache` (policy contract v1; absent means no
caching):

    {"cacheable": true,
     "ignore": ["request.id", "request.time", "classification.tags"],
     "time_boundaries": ["2026-12-01T00:00:00Z"]}

- `ignore`: dotted input paths the decision does not read; everything else is the key.
- `time_boundaries`: RFC 3339 instants at which a decision may change (break-glass
  expiries); a decision is reused only while the request time stays between the same two.

The declaration is read once per policy revision, with an empty input, and a cache lives
inside one compiled revision, so a reload starts empty: a decision is never served by a
revision other than the one that made it. Only well-formed, allowed-or-denied decisions are
kept (never an engine failure), and the cache is a bounded LRU.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from sidecar.policy.model import Decision

CACHE_QUERY = "data.llm_router.decision_cache"
DEFAULT_CACHE_SIZE = 4096
ALWAYS_KEYED = frozenset({"routes", "alternatives"})
"""The offered routes are checked against every decision (parse_decision); a cached one
skips that check, so a declaration that would share decisions across offers is refused."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


_RFC3339 = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)


def rfc3339_ns(value: Any) -> int | None:
    """Nanoseconds since the epoch, exactly as Rego's time.parse_rfc3339_ns computes them;
    None for anything that is not an RFC 3339 time (with at most nanosecond digits)."""
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    day, clock, fraction, offset = match.groups()
    try:
        whole = datetime.fromisoformat(f"{day}T{clock}{'+00:00' if offset in 'Zz' else offset}")
    except ValueError:
        return None
    delta = whole - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    return seconds * 1_000_000_000 + int((fraction or "").ljust(9, "0"))


@dataclass(frozen=True, slots=True)
class CacheDeclaration:
    ignore: tuple[tuple[str, ...], ...]
    time_boundaries: tuple[int, ...]
    """Sorted, in nanoseconds since the epoch."""

    @classmethod
    def parse(cls, raw: Any) -> CacheDeclaration | None:
        """None, meaning no caching, unless the declaration is well formed and says
        `cacheable: true`. A boundary that cannot be read disables caching altogether:
        guessing when a decision changes is not an option."""
        if not isinstance(raw, dict) or raw.get("cacheable") is not True:
            return None
        ignore, boundaries = raw.get("ignore", []), raw.get("time_boundaries", [])
        if not isinstance(ignore, list) or not isinstance(boundaries, list):
            return None
        paths = []
        for path in ignore:
            if not isinstance(path, str) or not path or "" in path.split("."):
                return None
            if path.split(".")[0] in ALWAYS_KEYED:
                return None
            paths.append(tuple(path.split(".")))
        instants = [rfc3339_ns(b) for b in boundaries]
        if any(i is None for i in instants):
            return None
        return cls(tuple(paths), tuple(sorted(i for i in instants if i is not None)))


def _without(document: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """`document` without the value at `path`; copies only the dicts along the path."""
    head, rest = path[0], path[1:]
    if head not in document:
        return document
    out = dict(document)
    if not rest:
        del out[head]
    elif isinstance(out[head], dict):
        out[head] = _without(out[head], rest)
    return out


class DecisionCache:
    """A bounded LRU of decisions of one policy revision, keyed by a digest of the
    decision-relevant part of the input (serialised with sorted keys) and the time
    interval."""

    def __init__(self, declaration: CacheDeclaration, size: int = DEFAULT_CACHE_SIZE) -> None:
        self.declaration = declaration
        self.size = size
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, Decision] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, policy_input: dict[str, Any]) -> bytes | None:
        """None when this input cannot be cached (e.g. a request time that cannot be read
        while the policy has time boundaries)."""
        relevant = policy_input
        for path in self.declaration.ignore:
            relevant = _without(relevant, path)
        try:
            document = orjson.dumps(relevant, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        # A 128-bit digest rather than the ~1.5 KB document: a full cache stays a few MB.
        key = hashlib.blake2b(document, digest_size=16).digest()
        boundaries = self.declaration.time_boundaries
        if boundaries:
            request = policy_input.get("request")
            now = rfc3339_ns(request.get("time") if isinstance(request, dict) else None)
            if now is None:
                return None
            key += b"@%d" % bisect.bisect_right(boundaries, now)
        return key

    def get(self, key: bytes, eval_seconds: float) -> Decision | None:
        decision = self._entries.get(key)
        if decision is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return dataclasses.replace(decision, eval_seconds=eval_seconds, cached=True)

    def put(self, key: bytes, decision: Decision) -> None:
        if decision.fail_closed or self.size <= 0:
            return
        self._entries[key] = decision
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
