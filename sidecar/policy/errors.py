"""Policy loading errors, with the engine's file:line message and without its backtrace."""

from __future__ import annotations


class PolicyLoadError(Exception):
    """The policy set does not compile or has no decision; the sidecar must not start."""


def engine_message(exc: BaseException) -> str:
    """The useful part of a regorus error: location and message, not the Rust backtrace."""
    text = str(exc).split("Stack backtrace:", 1)[0]
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())
