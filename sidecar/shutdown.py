"""Graceful shutdown: what the sidecar does between SIGTERM and exiting 0.

Why this order: Kubernetes sends SIGTERM to every container of the pod at once and kills
them after the pod's grace period. The app may still be waiting on LLM calls that take
seconds or minutes, so the sidecar must not drop them, yet must not take new work either.

1. readiness turns false (`/readyz` answers 503) and new requests are refused;
2. the app-facing listener closes, so new connections are refused, and idle keep-alive
   connections are closed;
3. requests and streams in flight run to completion, for up to `shutdown_grace_s`;
4. whatever is still running then ends with a well-formed `shutting_down` error in its
   API's format (a final SSE error event for streams; a 503 for requests still waiting on
   an upstream, whose connections are closed), never a silently cut connection;
5. the listeners and upstream sessions close and the audit sink is flushed and closed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from sidecar.serve import Running

log = structlog.get_logger("llm_router.shutdown")

ABORT_WAIT_S = 5.0
"""After the grace period: how long aborted requests get to write their error and audit
record before their handlers are cancelled."""


@dataclass(frozen=True, slots=True)
class DrainReport:
    in_flight_at_start: int
    drained: bool
    """True when everything in flight finished within the grace period."""
    seconds: float


async def drain(running: Running, grace_s: float) -> DrainReport:
    """Stop `running` gracefully; returns once everything is closed."""
    sidecar = running.sidecar
    started = time.monotonic()
    in_flight = sidecar.admission.count
    sidecar.draining = True
    sidecar.metrics.draining.set(1)
    sidecar.admission.close()
    log.info("draining", in_flight=in_flight, grace_s=grace_s)
    await running.close_listener()
    drained = await sidecar.admission.wait_idle(grace_s)
    if not drained:
        log.warning("grace_period_over", in_flight=sidecar.admission.count)
        sidecar.dispatcher.abort()
        # Requests still waiting for an upstream answer fail at once, with `shutting_down`.
        await asyncio.gather(*(up.close() for up in sidecar.upstreams.values()))
        await sidecar.admission.wait_idle(ABORT_WAIT_S)
    await running.close_runners()
    await sidecar.close()
    report = DrainReport(in_flight, drained, round(time.monotonic() - started, 3))
    log.info(
        "drained",
        in_flight_at_start=report.in_flight_at_start,
        completed=report.drained,
        seconds=report.seconds,
    )
    return report
