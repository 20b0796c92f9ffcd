"""Kubernetes injection: the mutating admission webhook and `llm-router inject`.

Both paths share one patch builder (`patch.py`), so a pod injected by the webhook and a
manifest injected by hand get the same sidecar. The webhook needs no Kubernetes API access:
everything it decides comes from the pod in the AdmissionReview and its own settings file.
"""

from __future__ import annotations

PREFIX = "llm-router.io/"
INJECT = PREFIX + "inject"
"""Pod annotation or label: "true" opts a pod in, "false" opts it out."""
NAMESPACE_LABEL = PREFIX + "injection"
"""Namespace label: "enabled" injects every pod unless it opts out; "disabled" none."""
STATUS = PREFIX + "status"
"""Set on injected pods; its presence makes injection idempotent."""
INJECTED_LABEL = PREFIX + "sidecar"
"""Label set on injected pods ("injected"), for PodMonitor and NetworkPolicy selectors."""
MODE = PREFIX + "sidecar-mode"
IMAGE = PREFIX + "image"
LOG_LEVEL = PREFIX + "log-level"
CONFIG_MAP = PREFIX + "config-map"
POLICIES_CONFIG_MAP = PREFIX + "policies-config-map"
KEYS_SECRET = PREFIX + "keys-secret"
CPU_REQUEST = PREFIX + "cpu-request"
CPU_LIMIT = PREFIX + "cpu-limit"
MEMORY_REQUEST = PREFIX + "memory-request"
MEMORY_LIMIT = PREFIX + "memory-limit"
INJECT_ENV = PREFIX + "inject-env"
POLICY_ENGINE = PREFIX + "policy-engine"

CONTAINER_NAME = "llm-router"
OPA_CONTAINER_NAME = "llm-router-opa"
VOLUME_NAMES = (
    "llm-router-config",
    "llm-router-policies",
    "llm-router-keys",
    "llm-router-podinfo",
    "llm-router-tmp",
)
"""The volumes injection adds; only the sidecar containers mount them."""
