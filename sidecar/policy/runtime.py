"""The policy side of a running sidecar, built from `policy:` in the config.

- `engine: embedded` (default): a PolicyManager over regorus, fed by the policy directory
  (watched for changes), a bundle file, or a bundle URL (polled); every new revision is
  verified (compile + its own tests) before it serves.
- `engine: opa`: an OPA server next to the sidecar; OPA loads and reloads the policy itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sidecar.config import PolicyConfig
from sidecar.credentials import load_credential
from sidecar.metrics import Metrics
from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.model import PolicyEngine
from sidecar.policy.reload import DirectoryWatcher, PolicyManager

if TYPE_CHECKING:  # imported when configured: ~35 ms and several MB at start for nothing
    from sidecar.policy.bundle.poller import BundlePoller
    from sidecar.policy.opa import OPAEngine


@dataclass
class PolicyRuntime:
    engine: PolicyEngine
    manager: PolicyManager | None = None
    watcher: DirectoryWatcher | None = None
    poller: BundlePoller | None = None
    opa: OPAEngine | None = None

    @property
    def rejected(self) -> str | None:
        return self.manager.rejected if self.manager else None

    def health(self) -> dict[str, Any]:
        """For /readyz: a stale bundle makes the policy degraded, never unready, since the
        last good policy keeps deciding; `bundle` is the polled bundle's health."""
        if self.poller is None:
            return {"degraded": False, "degraded_reason": None, "bundle": None}
        reason = self.poller.health.degraded()
        return {
            "degraded": reason is not None,
            "degraded_reason": reason,
            "bundle": self.poller.health.status(),
        }

    async def start(self) -> None:
        if self.opa is not None:
            await self.opa.start()
        if self.watcher is not None:
            self.watcher.start()
        if self.poller is not None:
            self.poller.start()

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        if self.watcher is not None:
            await self.watcher.stop()
        await self.engine.close()


def build_policy(
    cfg: PolicyConfig, metrics: Metrics, environ: Mapping[str, str] | None = None
) -> PolicyRuntime:
    """Raises PolicyLoadError when the initial policy does not compile: start-up must stop."""
    if cfg.engine == "opa":
        from sidecar.policy.opa import OPAEngine

        opa = OPAEngine(cfg.opa_url, cfg.timeout_ms)
        metrics.set_policy_revision(opa.name, opa.revision)
        return PolicyRuntime(engine=opa, opa=opa)
    bundle, cache_size = cfg.bundle, cfg.decision_cache_size
    if bundle is not None and bundle.file is not None:
        from sidecar.policy.bundle.archive import load_bundle_file

        source = load_bundle_file(bundle.file)
        engine = EmbeddedEngine.from_source(source, cfg.timeout_ms, cache_size=cache_size)
        manager = PolicyManager(engine, metrics, cfg.timeout_ms, cache_size=cache_size)
        return PolicyRuntime(engine=manager, manager=manager)
    bootstrap = EmbeddedEngine.load(cfg.path, cfg.timeout_ms, cache_size=cache_size)
    if bundle is not None and bundle.url is not None:
        from sidecar.policy.bundle.health import BundleHealth
        from sidecar.policy.bundle.poller import BundlePoller, redact_url

        manager = PolicyManager(
            bootstrap, metrics, cfg.timeout_ms, awaiting_bundle=True, cache_size=cache_size
        )
        token = load_credential(
            "bundle",
            bundle.token_env,
            bundle.token_file,
            environ if environ is not None else os.environ,
        )
        health = BundleHealth(
            redact_url(bundle.url),
            bundle.max_delay_s,
            bundle.max_staleness_s,
            collectors=metrics.bundle,
        )
        poller = BundlePoller(
            bundle.url,
            apply=manager.apply,
            refused=manager.reject,
            token=token.current(),
            min_delay=bundle.min_delay_s,
            max_delay=bundle.max_delay_s,
            health=health,
        )
        return PolicyRuntime(engine=manager, manager=manager, poller=poller)
    manager = PolicyManager(bootstrap, metrics, cfg.timeout_ms, cache_size=cache_size)
    watcher = DirectoryWatcher(cfg.path, manager, cfg.watch_interval_s) if cfg.watch else None
    return PolicyRuntime(engine=manager, manager=manager, watcher=watcher)
