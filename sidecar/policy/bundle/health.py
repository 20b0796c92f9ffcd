"""What the sidecar knows about its polled bundle: for /readyz, the metrics and the alerts.

A bundle is *current* when the last poll confirmed that the active bundle is the one the
server offers: a new one was activated, or the server answered Not Modified for the active
one. Every other outcome (the server unreachable or answering an error, a bundle refused)
leaves the sidecar on its last good policy, which keeps serving; past `max_staleness_s`
without a confirmation the bundle is *stale*, and /readyz says so (degraded, still ready:
traffic keeps flowing on the last good policy). A sidecar that never received a bundle is
stale from the start (it is also not ready, see PolicyManager.awaiting_bundle).

Every failure is counted by reason, in `failures` and, with collectors, in
`llm_router_policy_bundle_failures_total{reason}`; its message (content-free, see
BundleError) is kept for /readyz.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sidecar.metrics_reliability import BundleCollectors
from sidecar.policy.bundle.errors import FAILURE_REASONS, FailureReason

STALE_AFTER_POLLS = 10
"""Without max_staleness_s: stale after ten of the longest poll intervals, so that a few
failed polls in a row (with back-off) are not yet staleness, and an outage of many are."""


@dataclass(frozen=True)
class Failure:
    reason: FailureReason
    error: str
    """Short and content-free: the origin, the member, the HTTP status."""
    at: float
    """Unix seconds."""


class BundleHealth:
    def __init__(
        self,
        origin: str,
        max_delay_s: float,
        max_staleness_s: float | None = None,
        *,
        collectors: BundleCollectors | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_staleness_s is not None and max_staleness_s <= 0:
            raise ValueError("max_staleness_s must be positive")
        self.origin = origin
        self.max_staleness_s = float(max_staleness_s or STALE_AFTER_POLLS * max_delay_s)
        """Given, or STALE_AFTER_POLLS longest poll intervals (`max_delay_s`)."""
        self._collectors = collectors
        self._clock = clock
        self.last_success: float | None = None
        """When the active bundle was last confirmed current (unix seconds)."""
        self.last_activation: float | None = None
        self.last_failure: Failure | None = None
        self.consecutive_poll_failures = 0
        """Polls in a row that got no answer from the server (any answer resets it)."""
        self.failures: Counter[FailureReason] = Counter()
        if collectors is not None:
            for reason in FAILURE_REASONS:  # every series exists from the start, at 0
                collectors.failures.labels(reason=reason)
            collectors.max_staleness.set(self.max_staleness_s)

    def record(
        self,
        *,
        answered: bool,
        confirmed: bool,
        activated: bool,
        failure: tuple[FailureReason, str] | None,
    ) -> None:
        """One poll's result: whether the server answered, whether the active bundle is
        now known to be current (and newly activated), and what failed, if anything."""
        now = self._clock()
        c = self._collectors
        self.consecutive_poll_failures = 0 if answered else self.consecutive_poll_failures + 1
        if failure is not None:
            reason, error = failure
            self.failures[reason] += 1
            self.last_failure = Failure(reason, error, now)
            if c is not None:
                c.failures.labels(reason=reason).inc()
        if confirmed:
            self.last_success = now
        if activated:
            self.last_activation = now
        if c is not None:
            c.consecutive_poll_failures.set(self.consecutive_poll_failures)
            if confirmed:
                c.last_success.set(now)
            if activated:
                c.last_activation.set(now)

    def age(self) -> float | None:
        """Seconds since the active bundle was last confirmed current; None: never."""
        if self.last_success is None:
            return None
        return max(0.0, self._clock() - self.last_success)

    @property
    def stale(self) -> bool:
        age = self.age()
        return age is None or age > self.max_staleness_s

    def degraded(self) -> str | None:
        """Why /readyz reports the policy degraded, or None while the bundle is current."""
        if not self.stale:
            return None
        age = self.age()
        what = (
            "no bundle received yet"
            if age is None
            else f"no current bundle for {age:.0f} s (max_staleness_s {self.max_staleness_s:g})"
        )
        failure = self.last_failure
        cause = f"; last failure: {failure.reason} ({failure.error})" if failure else ""
        return f"policy bundle stale: {what}{cause}"

    def status(self) -> dict[str, Any]:
        failure = self.last_failure
        age = self.age()
        return {
            "url": self.origin,
            "stale": self.stale,
            "age_s": None if age is None else round(age, 1),
            "max_staleness_s": self.max_staleness_s,
            "last_success_at": self.last_success,
            "last_activation_at": self.last_activation,
            "consecutive_poll_failures": self.consecutive_poll_failures,
            "failures": dict(sorted(self.failures.items())),
            "last_failure": None
            if failure is None
            else {"reason": failure.reason, "error": failure.error, "at": failure.at},
        }
