"""Loopback providers that speak the providers' documented wire formats, for tests, the
demo and benchmarks (no network access needed)."""

from sidecar.emulators.openai import Fault, FaultKind, OpenAIEmulator, ReceivedRequest, error_body

__all__ = ["Fault", "FaultKind", "OpenAIEmulator", "ReceivedRequest", "error_body"]
