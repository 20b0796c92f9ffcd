"""The embedded engine: Rego evaluated in-process by regorus, with no extra container.

A regorus Engine must stay on the thread that created it and holds the GIL while it
evaluates, so evaluation runs inline on the event loop (≈0.15 ms for a 6-route decision);
a worker thread would add a hop and buy no parallelism. Build the engine on the thread that
will call `decide` (the loop's thread); a call from any other thread denies instead of
tripping the engine's thread check.

A slow evaluation cannot be pre-empted either: it is measured, and one that overran
`timeout_ms` is discarded and denies, which keeps the rule "a timeout never sends anything
upstream". Rego `print` output is captured and dropped, since it may echo the input.

When the policy declares itself cacheable (`data.llm_router.decision_cache`, see
policy/cache.py), decisions are reused for inputs that differ only in what the policy said
it does not read; each compiled revision has its own cache.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import orjson

from sidecar.policy.cache import (
    CACHE_QUERY,
    DEFAULT_CACHE_SIZE,
    CacheDeclaration,
    DecisionCache,
)
from sidecar.policy.decision import failed_decision, parse_decision
from sidecar.policy.errors import PolicyLoadError, engine_message, reraise_if_fatal
from sidecar.policy.loader import PolicySource, compile_engine, read_policy_dir
from sidecar.policy.model import DECISION_QUERY, POLICY_INPUT_VERSION, Decision

SMOKE_INPUT: dict[str, Any] = {
    "version": POLICY_INPUT_VERSION,
    "request": {
        "id": "smoke",
        "api": "openai.chat_completions",
        "model": "m",
        "stream": False,
        "declared": {},
    },
    "workload": {"namespace": "", "pod": "", "service_account": "", "labels": {}},
    "classification": {
        "level": "public",
        "categories": [],
        "tags": {},
        "sources": ["content"],
        "truncated": False,
    },
    "routes": [],
}


class EmbeddedEngine:
    name = "embedded"

    def __init__(
        self,
        engine: Any,
        revision: str,
        timeout_ms: float,
        cache: DecisionCache | None = None,
    ) -> None:
        self._engine = engine
        self._revision = revision
        self._timeout = timeout_ms / 1000.0
        self._thread = threading.get_ident()
        self.cache = cache
        engine.set_gather_prints(True)

    @classmethod
    def load(
        cls, path: Path, timeout_ms: float, *, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> EmbeddedEngine:
        """Compile every non-test module of `path` plus its data.json, and check that a
        decision comes out for a sample input. Raises PolicyLoadError naming the file."""
        return cls.from_source(read_policy_dir(Path(path)), timeout_ms, cache_size=cache_size)

    @classmethod
    def from_source(
        cls, source: PolicySource, timeout_ms: float, *, cache_size: int = DEFAULT_CACHE_SIZE
    ) -> EmbeddedEngine:
        """The same from files already read (a directory snapshot or a bundle).
        `cache_size` 0 turns decision caching off even for a cacheable policy."""
        path = source.directory
        engine = compile_engine(source, source.without_tests())
        declaration = _cache_declaration(engine) if cache_size > 0 else None
        cache = DecisionCache(declaration, cache_size) if declaration else None
        loaded = cls(engine, source.revision, timeout_ms, cache)
        try:
            engine.set_input_json(orjson.dumps(SMOKE_INPUT).decode())
            raw = engine.eval_rule_as_json(DECISION_QUERY)
        except BaseException as exc:
            reraise_if_fatal(exc)
            raise PolicyLoadError(
                f"{path}: evaluating {DECISION_QUERY}: {engine_message(exc)}"
            ) from None
        finally:
            engine.take_prints()
        if not isinstance(orjson.loads(raw), dict):
            raise PolicyLoadError(
                f"{path}: {DECISION_QUERY} is undefined or not an object for a sample input"
            )
        return loaded

    @property
    def revision(self) -> str:
        return self._revision

    @property
    def ready(self) -> bool:
        return True

    async def decide(self, policy_input: dict[str, Any]) -> Decision:
        """Evaluate inline and never raise: every failure is a deny with `error` set."""
        started = time.perf_counter()
        if threading.get_ident() != self._thread:
            return self._failed("wrong_thread", started)
        if self._engine is None:
            return self._failed("closed", started)
        if self.cache is None:
            return self._evaluate(policy_input, started)
        key = self.cache.key(policy_input)
        if key is None:
            return self._evaluate(policy_input, started)
        cached = self.cache.get(key, time.perf_counter() - started)
        if cached is not None:
            return cached
        decision = self._evaluate(policy_input, started)
        self.cache.put(key, decision)
        return decision

    def _evaluate(self, policy_input: dict[str, Any], started: float) -> Decision:
        try:
            self._engine.set_input_json(orjson.dumps(policy_input).decode())
            raw = self._engine.eval_rule_as_json(DECISION_QUERY)
        except BaseException as exc:
            reraise_if_fatal(exc)
            return self._failed("evaluation_error", started)
        finally:
            self._drop_prints()
        elapsed = time.perf_counter() - started
        if elapsed > self._timeout:
            return self._failed("timeout", started)
        return parse_decision(raw, policy_input, self.name, self._revision, elapsed)

    def _drop_prints(self) -> None:
        if self._engine is None:
            return
        try:
            self._engine.take_prints()
        except BaseException as exc:
            reraise_if_fatal(exc)

    def _failed(self, error: str, started: float) -> Decision:
        return failed_decision(error, self.name, self._revision, time.perf_counter() - started)

    async def close(self) -> None:
        self.drop()

    def drop(self) -> None:
        """Drop the compiled engine now, on its own thread. The Rust engine may only be
        freed on the thread that made it; left to the garbage collector (when it sits in a
        reference cycle), it could be freed on whatever thread the collector runs on, e.g. a
        resolver thread, which the engine refuses with an error and a leak."""
        self._engine = None


def _cache_declaration(engine: Any) -> CacheDeclaration | None:
    """The policy's caching declaration, read with an empty input so that it can only
    depend on the policy and its data; anything unexpected means no caching."""
    try:
        engine.set_input_json("{}")
        raw = engine.eval_rule_as_json(CACHE_QUERY)
        return CacheDeclaration.parse(orjson.loads(raw))
    except BaseException as exc:
        reraise_if_fatal(exc)
        return None
    finally:
        engine.take_prints()
