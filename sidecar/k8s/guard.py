"""What a pod may not ask of the injector: the checks that keep the sidecar in control.

App teams write the pods; what the sidecar enforces belongs to the platform team: its config
(with the compliance claims that decide where regulated data may go), its policies, its
keys and the image that holds them. A pod that could read the keys, choose its own config
or sidecar image, or point its SDKs past the sidecar would turn enforcement into a
suggestion, so it is refused (an admission denial whose message says what to change)
instead of being injected. Where the injector settings make a check a warning, `kubectl`
shows the warning and the pod is injected.

Why a UID of its own is the boundary: the keys Secret is mounted into the sidecar container
only, so no app container has it in its mount namespace. The one way in is through a sidecar
process, `/proc/<pid>/root` and `/proc/<pid>/environ`, which the kernel opens only to the
same UID or to CAP_SYS_PTRACE. Such processes are visible at all only when the pod shares a
process namespace (`shareProcessNamespace` or `hostPID`); an app running as root can then
switch to the sidecar's UID, hence the warning. Messages name containers, variables and
annotations, never an environment value: a URL can carry a credential.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sidecar.k8s import (
    CONFIG_MAP,
    IMAGE,
    INJECT_ENV,
    KEYS_SECRET,
    POLICIES_CONFIG_MAP,
    VOLUME_NAMES,
)
from sidecar.k8s.images import parse_pattern, parse_reference
from sidecar.k8s.settings import DNS_SUBDOMAIN, InjectorSettings

PROVIDER_URL_VARS = (
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "AZURE_OPENAI_ENDPOINT",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
    "ANTHROPIC_FOUNDRY_BASE_URL",
    "AWS_BEDROCK_BASE_URL",
)
"""Where the OpenAI and Anthropic SDKs (and older clients) take a provider endpoint from."""
SOURCES = (
    (CONFIG_MAP, "config_map", "config_maps"),
    (POLICIES_CONFIG_MAP, "policies_config_map", "policies_config_maps"),
    (KEYS_SECRET, "keys_secret", "keys_secrets"),
)
"""(annotation, injector setting, allow-list in `overrides`) for each source of the sidecar."""
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Refusal:
    """Why a pod is denied: a short reason for the counter, a message for the pod's author."""

    reason: str
    message: str


@dataclass
class Verdict:
    refusals: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def allowed_sources(settings: InjectorSettings, namespace: str, setting: str) -> tuple[str, ...]:
    """The names pods of `namespace` may give `setting` by annotation, the default first."""
    lists = {s: allow_list for _, s, allow_list in SOURCES}
    extra = settings.overrides.get(namespace)
    return (getattr(settings, setting), *(getattr(extra, lists[setting]) if extra else ()))


def source_allowed(settings: InjectorSettings, namespace: str, setting: str, name: str) -> bool:
    """Whether pods of `namespace` may point the sidecar's `setting` at `name`."""
    return name in allowed_sources(settings, namespace, setting)


def allowed_images(settings: InjectorSettings, namespace: str) -> tuple[str, ...]:
    """The images pods of `namespace` may name by annotation, as listed, the default first."""
    extra = settings.overrides.get(namespace)
    return (settings.image, *settings.images, *(extra.images if extra else ()))


def image_allowed(settings: InjectorSettings, namespace: str, value: str) -> bool:
    """Whether pods of `namespace` may run the sidecar, and so its keys, from image `value`."""
    if value == settings.image:
        return True
    ref = parse_reference(value)
    patterns = allowed_images(settings, namespace)[1:]
    return ref is not None and any(parse_pattern(p).matches(ref) for p in patterns)


def points_at_sidecar(value: str, settings: InjectorSettings) -> bool:
    """An endpoint on the sidecar's loopback listener (any path: the sidecar answers 404)."""
    try:
        url = urlsplit(value)
        port = url.port
    except ValueError:
        return False
    return url.scheme == "http" and url.hostname in LOOPBACK_NAMES and port == settings.listen_port


def check(
    pod: Mapping[str, Any],
    namespace: str,
    settings: InjectorSettings,
    annotations: Mapping[str, str],
) -> Verdict:
    """Everything about this pod that would weaken the sidecar, as refusals and warnings."""
    verdict = Verdict()
    _overrides(verdict, namespace, settings, annotations)
    spec = _map(pod.get("spec"))
    pod_uid = _map(spec.get("securityContext")).get("runAsUser")
    shared = [k for k in ("shareProcessNamespace", "hostPID") if spec.get(k) is True]
    if shared:
        text = (
            f"{shared[0]} lets app containers that run as root or with SYS_PTRACE "
            "read the sidecar's keys"
        )
        if settings.share_process_namespace == "refuse":
            verdict.refusals.append(
                Refusal(
                    "shared process namespace",
                    f"llm-router: {text}; the injector settings refuse such pods "
                    f"(share_process_namespace: refuse): remove {shared[0]}",
                )
            )
        else:
            verdict.warnings.append(f"llm-router: {text}")
    for container in _containers(spec):
        name = str(container.get("name"))
        uid = _map(container.get("securityContext")).get("runAsUser")
        uid = pod_uid if uid is None else uid  # null is unset: the pod's applies
        if uid == settings.run_as_user and not isinstance(uid, bool):
            verdict.refusals.append(
                Refusal(
                    "sidecar uid",
                    f"llm-router: container {name!r} runs as UID {uid}, the sidecar's own, "
                    "which would let it read the sidecar's keys: give it another runAsUser",
                )
            )
        for mount in _list(container.get("volumeMounts")):
            volume = _map(mount).get("name")
            if volume in VOLUME_NAMES:
                verdict.refusals.append(
                    Refusal(
                        "sidecar volume",
                        f"llm-router: container {name!r} mounts {volume!r}, "
                        "a volume only the sidecar may mount",
                    )
                )
        _base_urls(verdict, name, container, settings)
    return verdict


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers"):
        for container in _list(spec.get(key)):
            if isinstance(container, Mapping):
                yield container


def _overrides(
    verdict: Verdict, namespace: str, settings: InjectorSettings, annotations: Mapping[str, str]
) -> None:
    where = f"namespace {namespace!r}" if namespace else "a pod without a namespace"
    for annotation, setting, _ in SOURCES:
        value = annotations.get(annotation)
        if value is None or source_allowed(settings, namespace, setting, value):
            continue
        shown = repr(value) if DNS_SUBDOMAIN.match(value) else "an invalid name"
        names = ", ".join(repr(n) for n in allowed_sources(settings, namespace, setting))
        verdict.refusals.append(
            Refusal(
                "override not allowed",
                f"llm-router: annotation {annotation}={shown} is not allowed in {where}; "
                f"the injector settings (overrides) allow only {names}",
            )
        )
    image = annotations.get(IMAGE)
    if image is not None and not image_allowed(settings, namespace, image):
        shown = repr(image) if parse_reference(image) else "an invalid image reference"
        names = ", ".join(repr(n) for n in allowed_images(settings, namespace))
        verdict.refusals.append(
            Refusal(
                "image not allowed",
                f"llm-router: annotation {IMAGE}={shown} is not allowed in {where}: the "
                "sidecar's image runs with its keys; the injector settings (image, images, "
                f"overrides) allow only {names}",
            )
        )
    if settings.app_base_url == "refuse" and annotations.get(INJECT_ENV, "").lower() == "false":
        verdict.refusals.append(
            Refusal(
                "own provider url",
                f'llm-router: annotation {INJECT_ENV}="false" would leave the SDKs calling '
                "providers directly; the injector settings refuse that (app_base_url: refuse)",
            )
        )


def _base_urls(
    verdict: Verdict, name: str, container: Mapping[str, Any], settings: InjectorSettings
) -> None:
    """A provider endpoint the app sets itself, unless it is the sidecar's listener.

    A value from `valueFrom`, or one with a `$(VAR)` reference, cannot be seen here, so it
    counts as not pointing at the sidecar.
    """
    seen: list[str] = []
    for entry in _list(container.get("env")):
        entry = _map(entry)
        var = entry.get("name")
        if var not in PROVIDER_URL_VARS or var in seen:
            continue
        value = entry.get("value")
        visible = isinstance(value, str) and "valueFrom" not in entry
        if visible and points_at_sidecar(str(value), settings):
            continue
        seen.append(var)
        if settings.app_base_url == "refuse":
            verdict.refusals.append(
                Refusal(
                    "own provider url",
                    f"llm-router: container {name!r} sets {var} to something other than the "
                    f"sidecar (http://127.0.0.1:{settings.listen_port}); the injector settings "
                    f"refuse that (app_base_url: refuse): remove it, and injection points the "
                    "SDKs at the sidecar",
                )
            )
        else:
            verdict.warnings.append(
                f"llm-router: container {name!r} sets {var} itself, not to the sidecar; "
                "those calls skip policy and audit"
            )
