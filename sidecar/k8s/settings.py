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
from pydantic import Field, ValidationError, field_validator

from sidecar.config_base import Strict as _Strict
from sidecar.k8s.images import parse_pattern

QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
"""A Kubernetes resource quantity as people write them for CPU and memory."""
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
"""A namespace name."""
IMAGE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,1023}$")
LOG_LEVELS = ("debug", "info", "warning", "error")


Enforcement = Literal["warn", "refuse"]
"""What the injector does about a pod that weakens the sidecar: admit it with an admission
warning, or deny it with a message that says what to change."""
MAX_ID = 2**31 - 1
"""The largest UID or GID the API server accepts."""


def _object_name(value: str) -> str:
    if not DNS_SUBDOMAIN.match(value):
        raise ValueError(f"not a Kubernetes object name: {value!r}")
    return value


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


def _image_patterns(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        parse_pattern(value)
    return values


class SourceOverrides(_Strict):
    """The ConfigMaps, Secret and images that pods of one namespace may name by annotation.

    The config carries the compliance claims that decide where regulated data may go, the
    policies decide it, the keys say whose contract a provider call runs under, and the
    image is code that runs with the keys: none of them is the pod author's to choose. Only
    what the platform team lists here may be named (besides the defaults); any other name is
    refused, never silently replaced.
    """

    config_maps: tuple[str, ...] = ()
    policies_config_maps: tuple[str, ...] = ()
    keys_secrets: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    """Sidecar images (`llm-router.io/image`), in the forms `images` describes."""

    @field_validator("config_maps", "policies_config_maps", "keys_secrets")
    @classmethod
    def _names(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_object_name(v) for v in values)

    @field_validator("images")
    @classmethod
    def _images(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _image_patterns(values)


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
    run_as_user: int = Field(61000, ge=1, le=MAX_ID)
    """The sidecar's own UID, which no app container of an injected pod may use: processes
    of one UID can read each other's environment and files through /proc. Not the image's
    USER (65532, also distroless' `nonroot`, which app images often run as)."""
    run_as_group: int = Field(61000, ge=1, le=MAX_ID)
    share_process_namespace: Enforcement = "warn"
    """Pods with shareProcessNamespace (or hostPID) let app containers see the sidecar's
    processes; an app running as root or with CAP_SYS_PTRACE can then read its keys."""
    app_base_url: Enforcement = "warn"
    """App containers that set a provider endpoint variable (OPENAI_BASE_URL, ...) to
    anything but the sidecar. `refuse` is strict mode: it also refuses
    `llm-router.io/inject-env: "false"`, which would leave the SDKs' provider defaults."""
    images: tuple[str, ...] = ()
    """Sidecar images that pods of every namespace may name (`llm-router.io/image`), besides
    `image`: a reference with a digest (that content), with a tag (whatever the tag points
    at: trusts whoever can push it), or a repository followed by `@*` (any digest) or `:*`
    (any tag or digest). Empty: only `image`."""
    overrides: dict[str, SourceOverrides] = Field(default_factory=dict)
    """Per namespace, the config, policies, keys and images its pods may name by
    annotation. Empty: only the defaults above."""
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
        return _object_name(value)

    @field_validator("images")
    @classmethod
    def _images(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _image_patterns(values)

    @field_validator("overrides")
    @classmethod
    def _namespaces(cls, value: dict[str, SourceOverrides]) -> dict[str, SourceOverrides]:
        for namespace in value:
            if not DNS_LABEL.match(namespace):
                raise ValueError(f"not a namespace name: {namespace!r}")
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
