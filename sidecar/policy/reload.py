"""Hot reload: a new policy revision serves only after it compiled and passed its own tests.

`PolicyManager` is the engine the pipeline talks to. It holds one active EmbeddedEngine and
replaces it with a single reference assignment, so a request, which makes exactly one
`decide` call on the engine it found, is decided entirely by one revision (and a cached
decision lives inside the engine of its revision, so it can only come from that revision).
A candidate that fails to compile, has no decision, or fails any of its `test_*` rules is
rejected: the last good revision keeps serving, the error is logged and
`llm_router_policy_reload_errors_total` counts it.

`DirectoryWatcher` notices changes by polling a fingerprint (names, sizes, mtimes and the
resolved `..data` link that Kubernetes swaps atomically when a ConfigMap changes), which
works the same on every filesystem and for symlink swaps that inotify reports badly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

import structlog

from sidecar.metrics import Metrics
from sidecar.policy.bundle.errors import BundleError, FailureReason
from sidecar.policy.cache import DEFAULT_CACHE_SIZE
from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.errors import PolicyLoadError
from sidecar.policy.loader import PolicySource, read_policy_dir
from sidecar.policy.model import Decision
from sidecar.policy.testrunner import run_source_tests

log = structlog.get_logger("llm_router.policy")


class PolicyManager:
    name = "embedded"

    def __init__(
        self,
        engine: EmbeddedEngine,
        metrics: Metrics,
        timeout_ms: float,
        *,
        awaiting_bundle: bool = False,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._active = engine
        self._cache_size = cache_size
        self.awaiting_bundle = awaiting_bundle
        """With a bundle URL, not ready until the first bundle has been verified and swapped
        in (the bootstrap policy from `path` decides meanwhile, but the pod is not ready)."""
        self._metrics = metrics
        self._timeout_ms = timeout_ms
        self.rejected: str | None = None
        """Revision of the last candidate that was refused (for /readyz and operators)."""
        metrics.set_policy_revision(self.name, engine.revision)

    @property
    def engine(self) -> EmbeddedEngine:
        return self._active

    @property
    def revision(self) -> str:
        return self._active.revision

    @property
    def ready(self) -> bool:
        return self._active.ready and not self.awaiting_bundle

    async def decide(self, policy_input: dict[str, Any]) -> Decision:
        return await self._active.decide(policy_input)

    def activate(self, source: PolicySource) -> bool:
        """Verify `source` (compile, decision defined, every test passes), then swap.
        Must run on the event-loop thread: the engine is bound to the thread that made it."""
        return self._activate(source) is None

    def _activate(self, source: PolicySource) -> BundleError | None:
        """None once `source` serves, else why not (already counted and logged)."""
        if source.revision == self._active.revision:
            self.awaiting_bundle = False
            return None
        try:
            candidate = EmbeddedEngine.from_source(
                source, self._timeout_ms, cache_size=self._cache_size
            )
            report = run_source_tests(source)
        except PolicyLoadError as exc:
            return self._refuse(source.revision, "compile_error", str(exc))
        if report.failed:
            failed = [r.name for r in report.results if not r.passed]
            message = f"{len(failed)} policy tests failed: {failed[:5]}"
            return self._refuse(source.revision, "test_failure", message)
        retired = self._active
        previous, self._active = retired.revision, candidate
        retired.drop()  # on this (the loop) thread, see EmbeddedEngine.close
        self.rejected = None
        self.awaiting_bundle = False
        self._metrics.set_policy_revision(self.name, candidate.revision)
        self._metrics.policy_reloads.inc()
        log.info(
            "policy_activated", revision=candidate.revision, previous=previous, tests=report.passed
        )
        return None

    def _refuse(self, revision: str, reason: FailureReason, message: str) -> BundleError:
        self.reject(revision, message)
        return BundleError(reason, message)

    def reject(self, revision: str, reason: str) -> bool:
        """Count and log a candidate that will not serve; the active revision stays."""
        self.rejected = revision
        self._metrics.policy_reload_errors.inc()
        log.error("policy_rejected", revision=revision, active=self._active.revision, reason=reason)
        return False

    async def apply(self, source: PolicySource) -> bool:
        """For the bundle poller (which awaits its callback); runs on the loop thread. A
        refusal raises BundleError, whose reason (compile_error, test_failure) the poller
        counts it under."""
        refusal = self._activate(source)
        if refusal is not None:
            raise refusal
        return True

    async def close(self) -> None:
        await self._active.close()


def fingerprint(directory: Path) -> tuple[Any, ...]:
    """What changes when any policy file (or the ConfigMap's `..data` link) changes."""
    link = directory / "..data"
    target = os.path.realpath(link) if link.exists() else ""
    entries = []
    for path in [*sorted(directory.glob("*.rego")), directory / "data.json"]:
        with contextlib.suppress(OSError):
            st = path.stat()
            entries.append((path.name, st.st_size, st.st_mtime_ns))
    return (target, tuple(entries))


class DirectoryWatcher:
    def __init__(self, directory: Path, manager: PolicyManager, interval: float = 1.0) -> None:
        self.directory = directory
        self.manager = manager
        self.interval = interval
        self._seen = fingerprint(directory)
        self._task: asyncio.Task[None] | None = None

    def check(self) -> bool | None:
        """One look: None when nothing changed, else whether the change was activated."""
        current = fingerprint(self.directory)
        if current == self._seen:
            return None
        self._seen = current
        try:
            source = read_policy_dir(self.directory)
        except PolicyLoadError as exc:
            return self.manager.reject("unreadable", str(exc))
        return self.manager.activate(source)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.check()
            except Exception as exc:  # a watcher bug must not stop serving the last good policy
                log.error("policy_watch_failed", error_type=type(exc).__name__)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
