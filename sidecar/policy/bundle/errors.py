"""Why a bundle is refused or a poll failed, as a bounded set of reasons.

Every refusal is a BundleError whose `reason` is one of FAILURE_REASONS: the reasons are
the values of the `reason` label of `llm_router_policy_bundle_failures_total`, so they are
a fixed vocabulary, never text from the bundle or the server.
"""

from __future__ import annotations

from typing import Literal, get_args

from sidecar.policy.errors import PolicyLoadError

FailureReason = Literal[
    # the archive
    "not_gzip",
    "corrupt",
    "truncated",
    "unsafe_member",
    "too_large",
    "unsupported",
    # what is in it
    "invalid_manifest",
    "invalid_data",
    "invalid_policy",
    # verification by the engine
    "compile_error",
    "test_failure",
    "verification_failed",
    # the bundle server
    "http_status",
    "connect_error",
    "timeout",
    "transport_error",
    # a defect of the sidecar, not of the bundle
    "internal_error",
]
FAILURE_REASONS: tuple[FailureReason, ...] = get_args(FailureReason)
POLL_FAILURES: frozenset[FailureReason] = frozenset(
    {"http_status", "connect_error", "timeout", "transport_error", "internal_error"}
)
"""Reasons that say nothing about the bundle: it is fetched again at the next poll."""


class BundleError(PolicyLoadError):
    """A bundle that will not serve, with the reason it is counted under. The message names
    the origin and the member, never the member's content."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason: FailureReason = reason


def show(name: str) -> str:
    """A member name safe to put in a message: printable, at most 120 characters."""
    clean = "".join(c if c.isprintable() else "?" for c in name)
    return clean if len(clean) <= 120 else clean[:117] + "..."
