"""Policy evaluation: the decision model, the embedded Rego engine and the test runner."""

from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.errors import PolicyLoadError
from sidecar.policy.model import Decision, Obligations, PolicyEngine

__all__ = ["Decision", "EmbeddedEngine", "Obligations", "PolicyEngine", "PolicyLoadError"]
