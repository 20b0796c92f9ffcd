"""Seeded random faults for the loopback emulators: the fault campaign's misbehaving
upstreams.

Why a function of the request rather than of the arrival order: under concurrency the
order in which requests reach an emulator changes from run to run, but the fault a given
request meets at a given provider must not, or a failing campaign could not be replayed.
So the fault is drawn from a generator seeded with (seed, provider, request body).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from sidecar.emulators.openai import Fault

MIX: tuple[tuple[str, float], ...] = (
    ("server_error", 3.0),
    ("rate_limited", 1.5),
    ("reset", 1.5),
    ("stall_before", 1.0),
    ("stall_stream", 1.0),
    ("cut_stream", 1.5),
    ("malformed", 2.0),
    ("slow", 1.5),
)
"""Relative weights of the misbehaviours, once a request has been picked to misbehave."""


@dataclass(frozen=True)
class Chaos:
    """A fault source (`emulator.chaos = Chaos(seed=7)`): `rate` of the requests misbehave.

    `stall_s` should exceed the sidecar's first-byte and idle timeouts (a stall it must
    time out), `slow_s` stay well below them (a slow upstream it must wait for)."""

    seed: int
    rate: float = 0.4
    stall_s: float = 2.0
    slow_s: float = 0.01
    mix: tuple[tuple[str, float], ...] = MIX

    def __call__(self, provider: str, body: bytes) -> Fault | None:
        digest = hashlib.sha256(b"%d|%s|" % (self.seed, provider.encode()) + body).digest()
        rng = random.Random(digest)
        if rng.random() >= self.rate:
            return None
        names = [name for name, _ in self.mix]
        kind = rng.choices(names, weights=[w for _, w in self.mix])[0]
        return self._fault(kind, rng)

    def _fault(self, kind: str, rng: random.Random) -> Fault:
        if kind == "server_error":
            return Fault("status", status=rng.choice((500, 502, 503, 529)))
        if kind == "rate_limited":
            return Fault("status", status=429)
        if kind == "reset":
            return Fault("reset")
        if kind == "stall_before":
            return Fault("delay", seconds=self.stall_s)
        if kind == "stall_stream":
            return Fault("stall_stream", seconds=self.stall_s, after=rng.randint(1, 3))
        # A short pause before a cut or a broken event, so that the events before it
        # usually reach the sidecar first, as they would from a real upstream.
        if kind == "cut_stream":
            return Fault("cut_stream", seconds=0.02, after=rng.randint(1, 4))
        if kind == "malformed":
            return Fault("malformed", seconds=0.02, after=rng.randint(0, 2))
        if kind == "slow":
            return Fault("slow_stream", seconds=self.slow_s)
        raise ValueError(f"unknown fault kind {kind!r}")
