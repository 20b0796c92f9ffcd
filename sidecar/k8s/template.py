"""What gets added to a pod: the sidecar container(s), their volumes and the app's env.

Per-pod annotations override the injector's settings. An override that is not valid is
ignored with a warning (returned to `kubectl` as an admission warning) rather than turned
into a pod the API server would reject. The sidecar's sources (config, policies, keys) and
its image are the exception: a name the settings do not allow for the namespace is never
applied, and `guard` refuses the pod, since those decide what the sidecar enforces and what
code holds its keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sidecar import __version__
from sidecar.k8s import (
    CONTAINER_NAME,
    CPU_LIMIT,
    CPU_REQUEST,
    IMAGE,
    INJECT_ENV,
    LOG_LEVEL,
    MEMORY_LIMIT,
    MEMORY_REQUEST,
    MODE,
    OPA_CONTAINER_NAME,
    POLICY_ENGINE,
)
from sidecar.k8s.guard import SOURCES, image_allowed, source_allowed
from sidecar.k8s.settings import (
    LOG_LEVELS,
    QUANTITY,
    InjectorSettings,
    Resources,
)
from sidecar.workload import ENV_LABELS_FILE, ENV_NAMESPACE, ENV_POD, ENV_SERVICE_ACCOUNT

ADMIN_PORT_NAME = "llm-router-adm"
"""Port names are limited to 15 characters and must be unique in the pod."""
OPA_PORT_NAME = "llm-router-opa"
CONFIG_DIR = "/etc/llm-router/config"
POLICIES_DIR = "/etc/llm-router/policies"
PODINFO_DIR = "/etc/llm-router/podinfo"
KEYS_DIR = "/var/run/secrets/llm-router"
PLACEHOLDER_KEY = "placeholder-llm-router-holds-the-keys"
"""The SDKs insist on a key; the sidecar ignores it and never forwards it."""

_UNITS = {
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
}


def quantity(value: str) -> Decimal:
    """A resource quantity as a number, to compare a request with its limit."""
    for suffix in sorted(_UNITS, key=len, reverse=True):
        if value.endswith(suffix):
            return Decimal(value[: -len(suffix)]) * _UNITS[suffix]
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a quantity: {value!r}") from None


@dataclass(frozen=True)
class Effective:
    """The settings for one pod: the injector's, with the pod's valid overrides applied."""

    settings: InjectorSettings
    warnings: tuple[str, ...] = field(default=())

    @property
    def opa(self) -> bool:
        return self.settings.opa.enabled


def resolve(
    settings: InjectorSettings, namespace: str, annotations: Mapping[str, str]
) -> Effective:
    """Apply the pod's override annotations that are valid and allowed; warn about other
    invalid ones (those `guard` refuses excepted)."""
    update: dict[str, Any] = {}
    warnings: list[str] = []

    def take(key: str, ok: bool, target: str, value: Any) -> None:
        if ok:
            update[target] = value
        else:
            warnings.append(f"llm-router: ignored annotation {key}={annotations[key]!r}")

    simple = [
        (MODE, lambda v: v in ("native", "container"), "mode"),
        (LOG_LEVEL, lambda v: v in LOG_LEVELS, "log_level"),
    ]
    for key, check, target in simple:
        if key in annotations:
            take(key, check(annotations[key]), target, annotations[key])
    # What the guard refuses is not warned about here as well: its refusal says it, without
    # echoing a value that is not even a name or an image reference.
    for key, setting, _ in SOURCES:
        if key in annotations and source_allowed(settings, namespace, setting, annotations[key]):
            update[setting] = annotations[key]
    if IMAGE in annotations and image_allowed(settings, namespace, annotations[IMAGE]):
        update["image"] = annotations[IMAGE]
    if INJECT_ENV in annotations:
        value = annotations[INJECT_ENV].lower()
        take(INJECT_ENV, value in ("true", "false"), "inject_env", value == "true")
    if POLICY_ENGINE in annotations:
        value = annotations[POLICY_ENGINE]
        ok = value in ("opa", "embedded")
        opa = settings.opa.model_copy(update={"enabled": value == "opa"})
        take(POLICY_ENGINE, ok, "opa", opa)
    resources, more = _resources(settings.resources, annotations)
    warnings.extend(more)
    update["resources"] = resources
    return Effective(settings.model_copy(update=update), tuple(warnings))


def _resources(base: Resources, annotations: Mapping[str, str]) -> tuple[Resources, list[str]]:
    amounts = {
        "requests": base.requests.model_dump(),
        "limits": base.limits.model_dump(),
    }
    warnings: list[str] = []
    for key, kind, resource in (
        (CPU_REQUEST, "requests", "cpu"),
        (CPU_LIMIT, "limits", "cpu"),
        (MEMORY_REQUEST, "requests", "memory"),
        (MEMORY_LIMIT, "limits", "memory"),
    ):
        if key in annotations:
            if QUANTITY.match(annotations[key]):
                amounts[kind][resource] = annotations[key]
            else:
                warnings.append(f"llm-router: ignored annotation {key}={annotations[key]!r}")
    for resource in ("cpu", "memory"):
        request, limit = amounts["requests"][resource], amounts["limits"][resource]
        if request and limit and quantity(request) > quantity(limit):
            # The API server rejects a request above its limit; raise the limit instead.
            amounts["limits"][resource] = request
            warnings.append(f"llm-router: {resource} limit raised to its request {request}")
    return Resources.model_validate(amounts), warnings


def _amounts(resources: Resources) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for kind in ("requests", "limits"):
        values = {k: v for k, v in getattr(resources, kind).model_dump().items() if v}
        if values:
            out[kind] = values
    return out


def security_context(settings: InjectorSettings) -> dict[str, Any]:
    """Restricted Pod Security Standard, and a read-only root: the sidecar writes nothing.

    The UID and GID are the sidecar's own (no app container may use the UID: `guard`), set
    here so the pod's own securityContext never decides them.
    """
    return {
        "runAsNonRoot": True,
        "runAsUser": settings.run_as_user,
        "runAsGroup": settings.run_as_group,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _http_probe(path: str, port: str, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def router_container(eff: Effective) -> dict[str, Any]:
    s = eff.settings
    env: list[dict[str, Any]] = [
        # The injector owns the ports, so the app's base URL and the listener always agree,
        # whatever the config ConfigMap says; the app-facing listener stays on loopback.
        {"name": "LLM_ROUTER__listen__host", "value": "127.0.0.1"},
        {"name": "LLM_ROUTER__listen__port", "value": str(s.listen_port)},
        {"name": "LLM_ROUTER__admin__host", "value": "0.0.0.0"},
        {"name": "LLM_ROUTER__admin__port", "value": str(s.admin_port)},
        {"name": "LLM_ROUTER__policy__path", "value": POLICIES_DIR},
    ]
    if eff.opa:
        env += [
            {"name": "LLM_ROUTER__policy__engine", "value": "opa"},
            {"name": "LLM_ROUTER__policy__opa_url", "value": f"http://127.0.0.1:{s.opa.port}"},
        ]
    env += [
        {"name": ENV_NAMESPACE, "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": ENV_POD, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": ENV_SERVICE_ACCOUNT,
            "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}},
        },
        {"name": ENV_LABELS_FILE, "value": f"{PODINFO_DIR}/labels"},
    ]
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": s.image,
        "imagePullPolicy": s.image_pull_policy,
        "args": ["serve", "--config", f"{CONFIG_DIR}/config.yaml", "--log-level", s.log_level],
        "ports": [{"name": ADMIN_PORT_NAME, "containerPort": s.admin_port, "protocol": "TCP"}],
        "env": env,
        "resources": _amounts(s.resources),
        "securityContext": security_context(s),
        # Startup waits for a compiled policy, so a native sidecar holds the app back until
        # it can decide; readiness keeps following it; liveness only asks "alive?".
        "startupProbe": _http_probe("/readyz", ADMIN_PORT_NAME, 1, 120),
        "readinessProbe": _http_probe("/readyz", ADMIN_PORT_NAME, 5, 3),
        "livenessProbe": _http_probe("/healthz", ADMIN_PORT_NAME, 10, 3),
        "volumeMounts": [
            {"name": "llm-router-config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "llm-router-policies", "mountPath": POLICIES_DIR, "readOnly": True},
            {"name": "llm-router-keys", "mountPath": KEYS_DIR, "readOnly": True},
            {"name": "llm-router-podinfo", "mountPath": PODINFO_DIR, "readOnly": True},
            {"name": "llm-router-tmp", "mountPath": "/tmp"},
        ],
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if s.mode == "native":
        container["restartPolicy"] = "Always"
    return container


def opa_container(eff: Effective) -> dict[str, Any]:
    """OPA serves the same policies ConfigMap on loopback; health on the diagnostic port."""
    s = eff.settings
    container: dict[str, Any] = {
        "name": OPA_CONTAINER_NAME,
        "image": s.opa.image,
        "imagePullPolicy": s.image_pull_policy,
        "args": [
            "run",
            "--server",
            f"--addr=127.0.0.1:{s.opa.port}",
            f"--diagnostic-addr=0.0.0.0:{s.opa.diagnostic_port}",
            "--watch",
            # A ConfigMap volume holds each file twice (a hidden `..<timestamp>` directory
            # and links to it); OPA would load both and fail on duplicate rules.
            "--ignore=.*",
            "--ignore=*_test.rego",
            POLICIES_DIR,
        ],
        "ports": [
            {"name": OPA_PORT_NAME, "containerPort": s.opa.diagnostic_port, "protocol": "TCP"}
        ],
        "resources": _amounts(s.opa.resources),
        "securityContext": security_context(s),
        "startupProbe": _http_probe("/health", OPA_PORT_NAME, 1, 60),
        "readinessProbe": _http_probe("/health", OPA_PORT_NAME, 5, 3),
        "livenessProbe": _http_probe("/health", OPA_PORT_NAME, 10, 3),
        "volumeMounts": [
            {"name": "llm-router-policies", "mountPath": POLICIES_DIR, "readOnly": True}
        ],
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }
    if s.mode == "native":
        container["restartPolicy"] = "Always"
    return container


KEYS_MODE = 0o444
"""The key files' mode. The kubelet makes them root's (without an fsGroup, which the app's
containers would share), so the sidecar's non-root UID reads them through the `other` bits:
0400 would lock the sidecar out. What keeps them from the app is that only the sidecar
container mounts them, and that its processes are the sidecar UID's (see `guard`)."""


def volumes(eff: Effective) -> list[dict[str, Any]]:
    """Mounted by the sidecar containers only: no app container ever sees the keys."""
    s = eff.settings
    return [
        {"name": "llm-router-config", "configMap": {"name": s.config_map}},
        {"name": "llm-router-policies", "configMap": {"name": s.policies_config_map}},
        {
            "name": "llm-router-keys",
            "secret": {"secretName": s.keys_secret, "defaultMode": KEYS_MODE},
        },
        {
            "name": "llm-router-podinfo",
            "downwardAPI": {
                "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
            },
        },
        {"name": "llm-router-tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
    ]


def app_env(eff: Effective) -> list[dict[str, str]]:
    """What the OpenAI and Anthropic SDKs read, so apps find the sidecar with no code change."""
    port = eff.settings.listen_port
    return [
        {"name": "OPENAI_BASE_URL", "value": f"http://127.0.0.1:{port}/v1"},
        {"name": "ANTHROPIC_BASE_URL", "value": f"http://127.0.0.1:{port}"},
        {"name": "OPENAI_API_KEY", "value": PLACEHOLDER_KEY},
        {"name": "ANTHROPIC_API_KEY", "value": PLACEHOLDER_KEY},
    ]


def status(eff: Effective) -> dict[str, Any]:
    """The status annotation's content: what was injected, so a second pass leaves it be."""
    containers = [OPA_CONTAINER_NAME, CONTAINER_NAME] if eff.opa else [CONTAINER_NAME]
    return {
        "version": __version__,
        "image": eff.settings.image,
        "mode": eff.settings.mode,
        "containers": containers,
        "volumes": [v["name"] for v in volumes(eff)],
    }
