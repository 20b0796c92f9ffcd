"""Config hot reload: a changed config file serves only once it has been validated and built
in full; until then, and if it never is, the running config keeps serving.

Why: the compliance attributes in the config (`dpa`, `baa`, ...) decide where regulated data
may go. An operator who withdraws a claim must see it take effect without restarting every
pod, and a broken file must be noticed while the old config still serves, not at the next
restart, which would fail. It works as the policy's hot reload (sidecar/policy/reload.py):

- the file is polled every `reload.interval_s` (its resolved path, inode, size and mtime, so
  the `..data` swap of a ConfigMap counts), and SIGHUP reloads at once;
- the new file is read and validated as at start, keys that need a restart keep their
  running values (config_restart.py), a provider must not lose a key that works, and the new
  parts are built off to the side (config_parts.py; a changed classifier compiles on a worker
  thread, so requests keep flowing meanwhile);
- the parts are then swapped by plain assignments on the event loop: a request runs to its
  end on the pipeline (catalog, upstreams, classifier, config revision) it started on, and
  the next request gets the new one;
- an upstream that was replaced is closed once the old pipeline has no request left, or at
  the latest after the longest time a request could still use it.

A rejected file changes nothing: it is logged, counted (`llm_router_config_reload_errors_total`)
and shown on `/readyz` (still ready: the running config serves) until a good file is applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from sidecar.catalog import Catalog
from sidecar.classify import Classifier
from sidecar.classify.custom import CustomDetectorError
from sidecar.config import Config, config_revision
from sidecar.config_loader import ConfigError, load_config
from sidecar.config_parts import Parts, Shared, build_parts, build_upstreams, route_breakers
from sidecar.config_restart import carry_over
from sidecar.pipeline import Pipeline
from sidecar.providers.upstream import Upstream

if TYPE_CHECKING:
    from sidecar.app import Sidecar

log = structlog.get_logger("llm_router.config")


def fingerprint(path: Path) -> tuple[Any, ...]:
    """What changes when the file, or the ConfigMap version it links to, changes."""
    try:
        st = path.stat()
    except OSError as exc:
        return ("unreadable", exc.errno)
    return (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns)


def longest_use(config: Config, catalog: Catalog) -> float:
    """How long a request that started on `catalog` may still use its upstreams: its body,
    then every route it may try (its model's and its fallbacks'), each attempt within its
    provider's `total_s`. Past this no request can legitimately need a retired session."""
    worst = 0.0
    for model in catalog.models.values():
        tried = [*model.candidates]
        for name in model.fallbacks:
            tried.extend(catalog.models[name].candidates)
        worst = max(worst, sum(c.upstream.config.timeouts.total_s for c in tried))
    return config.limits.body_timeout_s + worst


class ConfigReloader:
    def __init__(self, sidecar: Sidecar, path: Path, environ: Mapping[str, str]) -> None:
        self.sidecar = sidecar
        self.path = path
        self.environ = environ
        self.error: str | None = None
        """Why the last file was rejected; None once a good one is in force."""
        self.restart_required: list[str] = []
        """Changed keys of the file that wait for the next start."""
        self._seen = fingerprint(path)
        self._lock = asyncio.Lock()
        self._watch: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._retiring: list[Upstream] = []
        self._replaced: list[Pipeline] = []
        """Pipelines swapped out that may still have requests running."""

    def status(self) -> dict[str, Any]:
        """For /readyz: degraded information only, a rejected file leaves the pod ready."""
        return {
            "revision": self.sidecar.pipeline.config_revision,
            "error": self.error,
            "restart_required": self.restart_required,
        }

    # ---- triggers ---------------------------------------------------------------------

    def start(self) -> None:
        self._watch = asyncio.get_running_loop().create_task(self._run())

    def trigger(self) -> None:
        """SIGHUP: reload now, changed or not."""
        self._spawn(self.reload())

    async def check(self) -> bool | None:
        """One look: None when the file did not change, else whether it was applied."""
        return await self.reload(force=False)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.sidecar.config.reload.interval_s)
            if not self.sidecar.config.reload.watch:
                continue
            try:
                await self.check()
            except Exception as exc:  # a watcher bug must not stop the running config
                log.error("config_watch_failed", error_type=type(exc).__name__)

    # ---- one reload ---------------------------------------------------------------------

    async def reload(self, *, force: bool = True) -> bool | None:
        """Read, validate and build the file, then swap; False if it was rejected (the
        running config stays) or the sidecar is shutting down. Without `force`, None when
        the file did not change since it was last read."""
        async with self._lock:
            seen = fingerprint(self.path)
            if not force and seen == self._seen:
                return None
            self._seen = seen
            if self.sidecar.draining:
                return False
            started = time.perf_counter()
            try:
                staged = await self._stage()
            except (ConfigError, CustomDetectorError) as exc:
                return self._reject(str(exc))
            except Exception as exc:  # a bug must not replace a working config
                return self._reject(f"the config could not be built ({type(exc).__name__})")
            if self.sidecar.draining:  # shutdown began while the classifier compiled
                return False
            if staged is not None:
                self._swap(staged, time.perf_counter() - started)
            self.error = None
            return True

    async def _stage(self) -> Parts | None:
        """The new parts, built but not in use; None when nothing that can change did."""
        sidecar = self.sidecar
        running = sidecar.config
        loaded = load_config(self.path, self.environ)
        effective, kept = carry_over(running, loaded, str(self.path))
        self._note_restart_required(kept)
        revision = config_revision(effective)
        if revision == sidecar.pipeline.config_revision:
            return None
        upstreams = build_upstreams(effective, self.environ, running=sidecar.upstreams)
        if effective.classification == running.classification:
            classifier = sidecar.pipeline.classifier
        else:
            classifier = await asyncio.to_thread(Classifier.from_config, effective.classification)
        shared = Shared(
            sidecar.engine,
            sidecar.dispatcher,
            sidecar.audit,
            sidecar.metrics,
            sidecar.admission,
            sidecar.pipeline.responses,
        )
        return build_parts(effective, revision, upstreams, classifier, shared, self.environ)

    def _swap(self, new: Parts, seconds: float) -> None:
        """Plain assignments on the loop thread, no await in between: every request sees
        either the old parts or the new ones, never a mix."""
        sidecar = self.sidecar
        old_config, old_catalog, old_pipeline = sidecar.config, sidecar.catalog, sidecar.pipeline
        kept = {id(up) for up in new.upstreams.values()}
        retired = [up for up in sidecar.upstreams.values() if id(up) not in kept]
        for up in new.upstreams.values():
            up.open_session()
        sidecar.config, sidecar.upstreams = new.config, new.upstreams
        sidecar.catalog, sidecar.pipeline = new.catalog, new.pipeline
        sidecar.audit.config_revision = new.revision
        sidecar.admission.limit = new.config.limits.max_in_flight
        sidecar.breakers.retain(route_breakers(new.catalog))
        metrics = sidecar.metrics
        metrics.set_config_revision(new.revision)
        metrics.in_flight_limit.set(new.config.limits.max_in_flight)
        metrics.config_reloads.inc()
        log.info(
            "config_applied",
            revision=new.revision,
            previous=old_pipeline.config_revision,
            changed=[
                k for k in Config.model_fields if getattr(old_config, k) != getattr(new.config, k)
            ],
            replaced_providers=sorted(up.name for up in retired),
            seconds=round(seconds, 4),
        )
        # An upstream kept by earlier reloads may serve requests of older pipelines too.
        self._replaced = [p for p in (*self._replaced, old_pipeline) if p.users.count]
        if retired:
            self._retiring.extend(retired)
            grace = longest_use(old_config, old_catalog)
            self._spawn(self._retire(list(self._replaced), retired, grace))

    async def _retire(
        self, pipelines: list[Pipeline], upstreams: list[Upstream], grace: float
    ) -> None:
        """Close the sessions of replaced upstreams once no request of an older pipeline can
        still be using them."""
        deadline = time.monotonic() + grace
        for pipeline in pipelines:
            if not await pipeline.users.wait_idle(max(0.0, deadline - time.monotonic())):
                log.warning("config_retired_in_use", in_flight=pipeline.users.count)
                break
        await self._close(upstreams)
        # A request of the old pipeline may have re-created the breaker of a route that is gone.
        self.sidecar.breakers.retain(route_breakers(self.sidecar.catalog))

    def _note_restart_required(self, kept: dict[str, list[str]]) -> None:
        paths = sorted(p for changed in kept.values() for p in changed)
        for key, changed in kept.items():
            if not set(changed) <= set(self.restart_required):
                self.sidecar.metrics.config_restart_required.labels(key=key).inc()
        if paths and paths != self.restart_required:
            log.warning("config_restart_required", keys=paths, file=str(self.path))
        self.restart_required = paths

    def _reject(self, reason: str) -> bool:
        self.error = reason
        self.sidecar.metrics.config_reload_errors.inc()
        log.error(
            "config_rejected",
            file=str(self.path),
            active=self.sidecar.pipeline.config_revision,
            reason=reason,
        )
        return False

    # ---- lifecycle ----------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, upstreams: list[Upstream]) -> None:
        await asyncio.gather(*(up.close() for up in upstreams))
        closed = {id(up) for up in upstreams}
        self._retiring = [up for up in self._retiring if id(up) not in closed]

    async def stop(self) -> None:
        """Stop watching; close whatever is still retiring (the sidecar is closing)."""
        for task in [t for t in (self._watch, *self._tasks) if t is not None]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._watch = None
        await self._close(list(self._retiring))
