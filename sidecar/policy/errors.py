"""Policy loading errors, with the engine's file:line message and without its backtrace."""

from __future__ import annotations


class PolicyLoadError(Exception):
    """The policy set does not compile or has no decision; the sidecar must not start."""


def engine_message(exc: BaseException) -> str:
    """The useful part of a regorus error: location and message, not the Rust backtrace."""
    text = str(exc).split("Stack backtrace:", 1)[0]
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


def reraise_if_fatal(exc: BaseException) -> None:
    """Engine failures are caught as BaseException, because a Rust panic inside regorus
    surfaces as pyo3's PanicException, which is not an Exception. Interrupts still pass."""
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
