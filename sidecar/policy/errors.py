"""Policy loading errors, with the engine's file:line message and without its backtrace.

The backtrace is not even captured. With `RUST_BACKTRACE=1` in the environment (common on
developer machines and in some base images), every regorus error captures one, and the
first symbolises it by loading the library's debug information: about 58 MB of memory that
stays resident for the life of the process, and milliseconds per error, for text that
`engine_message` throws away. `RUST_LIB_BACKTRACE=0` turns off the capture of error
backtraces only (a panic still prints its own); an operator who sets RUST_LIB_BACKTRACE
explicitly keeps their setting. Rust reads it at the first capture, so setting it here,
before any engine error, is enough.
"""

from __future__ import annotations

import os

RUST_LIB_BACKTRACE = "RUST_LIB_BACKTRACE"
os.environ.setdefault(RUST_LIB_BACKTRACE, "0")


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
