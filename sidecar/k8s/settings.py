"""The injector's own settings: what sidecar it adds and how.

They live in a ConfigMap next to the webhook (and in a file for `llm-router inject`), not in
the sidecar's config: the sidecar's config is per workload namespace, while these are the
platform team's defaults for every pod. Unknown keys are errors, as in the sidecar's config.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
"""A Kubernetes resource quantity as people write them for CPU and memory."""
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
IMAGE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,1023}$")
LOG_LEVELS = ("debug", "info", "warning", "error")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResourceAmounts(_Strict):
    cpu: str | None = None
    memory: str | None = None

    @field_validator("cpu", "memory")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None and not QUANTITY.match(value):
            raise ValueError(f"not a resource quantity: {value!r}")
        return value


class Resources(_Strict):
    requests: ResourceAmounts = ResourceAmounts(cpu="100m", memory="128Mi")
    limits: ResourceAmounts = ResourceAmounts(cpu="1", memory="512Mi")


class OpaSettings(_Strict):
    """A second native sidecar running the OPA server, for `policy.engine: opa`."""

    enabled: bool = False
    image: str = "openpolicyagent/opa:1.10.1-static"
    port: int = Field(16081, ge=1, le=65535)
    """OPA's API, on loopback only."""
    diagnostic_port: int = Field(16082, ge=1, le=65535)
    """OPA's /health, on the pod IP so the kubelet can probe it."""
    resources: Resources = Resources(
        requests=ResourceAmounts(cpu="50m", memory="64Mi"),
        limits=ResourceAmounts(cpu="500m", memory="256Mi"),
    )


class InjectorSettings(_Strict):
    image: str = "registry.example.com/llm-router:0.1.0"
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    mode: Literal["native", "container"] = "native"
    """`native`: an init container with restartPolicy Always (Kubernetes >= 1.29), which
    starts before the app and stops after it. `container`: a classic sidecar container."""
    listen_port: int = Field(16080, ge=1, le=65535)
    """App-facing port on 127.0.0.1. Not 8080: apps often listen there themselves."""
    admin_port: int = Field(16090, ge=1, le=65535)
    """/metrics, /healthz, /readyz on the pod IP. Clear of Istio's 150xx ports."""
    config_map: str = "llm-router-config"
    policies_config_map: str = "llm-router-policies"
    keys_secret: str = "llm-router-provider-keys"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    resources: Resources = Resources()
    run_as_user: int = Field(65532, ge=1)
    """Non-root; matches the image's USER."""
    inject_env: bool = True
    """Set OPENAI_BASE_URL, ANTHROPIC_BASE_URL and placeholder keys in app containers."""
    prometheus_annotations: bool = True
    """Add prometheus.io/scrape, port and path unless the pod already has its own."""
    excluded_namespaces: tuple[str, ...] = ("kube-system", "kube-public", "kube-node-lease")
    """Never injected, whatever the labels say (the webhook's own namespace belongs here)."""
    opa: OpaSettings = OpaSettings()

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        if not IMAGE_REF.match(value):
            raise ValueError(f"not an image reference: {value!r}")
        return value

    @field_validator("config_map", "policies_config_map", "keys_secret")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DNS_SUBDOMAIN.match(value):
            raise ValueError(f"not a Kubernetes object name: {value!r}")
        return value


class SettingsError(Exception):
    """Invalid injector settings; the message names the file and the key."""


def load_settings(path: Path | None) -> InjectorSettings:
    """Read the settings file; no file means the defaults."""
    if path is None:
        return InjectorSettings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: the top level must be a mapping")
    try:
        return InjectorSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: "
            f"{'unknown key' if e['type'] == 'extra_forbidden' else e['msg']}"
            for e in exc.errors()
        )
        raise SettingsError(f"{path}: invalid injector settings: {problems}") from None
