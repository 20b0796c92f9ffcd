"""The injection as an RFC 6902 JSONPatch over a pod, shared by the webhook and `inject`.

The webhook returns these operations to the API server; `llm-router inject` applies the
same operations to each pod template itself, so both paths give the same pod. Only `add`
operations are produced: the app's own containers, env and annotations are never replaced,
only completed. A pod that would weaken the sidecar (`guard`) gets no patch but a refusal.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sidecar.k8s import (
    CONTAINER_NAME,
    INJECT,
    INJECTED_LABEL,
    OPA_CONTAINER_NAME,
    STATUS,
    VOLUME_NAMES,
)
from sidecar.k8s.guard import Refusal, check
from sidecar.k8s.settings import InjectorSettings
from sidecar.k8s.template import (
    Effective,
    app_env,
    opa_container,
    resolve,
    router_container,
    status,
    volumes,
)

PROMETHEUS_ANNOTATIONS = ("prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path")
Op = dict[str, Any]


@dataclass(frozen=True)
class Injection:
    """The outcome for one pod: a patch (empty when skipped or refused), why, and warnings
    for kubectl. A refused pod must not be admitted: it would run without the sidecar."""

    patch: list[Op]
    skipped: str | None
    warnings: tuple[str, ...] = ()
    refusals: tuple[Refusal, ...] = ()

    @property
    def injected(self) -> bool:
        return self.skipped is None and not self.refusals

    @property
    def refused(self) -> str | None:
        """Every refusal's message, for the pod's author; None when not refused."""
        return "; ".join(r.message for r in self.refusals) if self.refusals else None


def escape(key: str) -> str:
    """A map key as a JSON Pointer token (RFC 6901): `~` and `/` are escaped."""
    return key.replace("~", "~0").replace("/", "~1")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def opt(pod: Mapping[str, Any]) -> str | None:
    """The pod's `llm-router.io/inject` choice: the annotation, else the label."""
    meta = _map(pod.get("metadata"))
    value = _map(meta.get("annotations")).get(INJECT, _map(meta.get("labels")).get(INJECT))
    return value.lower() if isinstance(value, str) else None


def skip_reason(
    pod: Mapping[str, Any], namespace: str, settings: InjectorSettings, *, require_opt_in: bool
) -> str | None:
    """Why this pod gets no sidecar, or None to inject.

    `require_opt_in` is true for pods from namespaces without the injection label: there only
    an explicit "true" injects. In labelled namespaces every pod is injected unless it opts
    out. The API server already filters with the webhook's selectors; this is the same rule
    again, so a looser selector never injects a pod that did not ask.
    """
    spec = pod.get("spec")
    if not isinstance(spec, Mapping) or not _list(spec.get("containers")):
        return "invalid pod"
    if namespace in settings.excluded_namespaces:
        return "excluded namespace"
    choice = opt(pod)
    if choice == "false":
        return "opted out"
    if require_opt_in and choice != "true":
        return "not opted in"
    if spec.get("hostNetwork"):
        return "host network"
    if _already_injected(pod):
        return "already injected"
    return None


def _already_injected(pod: Mapping[str, Any]) -> bool:
    meta = _map(pod.get("metadata"))
    if STATUS in _map(meta.get("annotations")):
        return True
    spec = _map(pod.get("spec"))
    names = {
        c.get("name")
        for key in ("containers", "initContainers")
        for c in _list(spec.get(key))
        if isinstance(c, Mapping)
    }
    if names & {CONTAINER_NAME, OPA_CONTAINER_NAME}:
        return True
    return any(
        isinstance(v, Mapping) and v.get("name") in VOLUME_NAMES for v in _list(spec.get("volumes"))
    )


def build(
    pod: Mapping[str, Any],
    namespace: str,
    settings: InjectorSettings,
    *,
    require_opt_in: bool,
    prefix: str = "",
) -> Injection:
    """The injection for one pod (or pod template, whose path `prefix` points at)."""
    reason = skip_reason(pod, namespace, settings, require_opt_in=require_opt_in)
    if reason:
        return Injection([], reason)
    meta = _map(pod.get("metadata"))
    annotations = {k: str(v) for k, v in _map(meta.get("annotations")).items()}
    verdict = check(pod, namespace, settings, annotations)
    eff = resolve(settings, namespace, annotations)
    warnings = [*eff.warnings, *verdict.warnings]
    if verdict.refusals:
        return Injection([], None, tuple(warnings), tuple(verdict.refusals))
    spec = _map(pod.get("spec"))
    ops: list[Op] = []
    if "metadata" not in pod:
        ops.append({"op": "add", "path": f"{prefix}/metadata", "value": {}})
    ops += _annotations(prefix, meta, eff)
    ops += _add_entries(
        f"{prefix}/metadata/labels", meta.get("labels"), {INJECTED_LABEL: "injected"}
    )
    # Env first, while the app's containers still have their original indices.
    if eff.settings.inject_env:
        keys = ["containers", "initContainers"] if eff.settings.mode == "native" else ["containers"]
        for key in keys:
            for index, container in enumerate(_list(spec.get(key))):
                path = f"{prefix}/spec/{key}/{index}/env"
                ops += _env(path, container, eff)
    ops += _append(f"{prefix}/spec/volumes", spec.get("volumes"), volumes(eff))
    sidecars = [router_container(eff)]
    if eff.opa:
        sidecars.insert(0, opa_container(eff))  # OPA first: the router's startup waits on it
    if eff.settings.mode == "container" and spec.get("restartPolicy") in ("Never", "OnFailure"):
        warnings.append(
            # Admission warnings should stay under 120 characters.
            "llm-router: a classic sidecar never exits, so this pod will not complete; "
            "prefer native mode"
        )
    key = "initContainers" if eff.settings.mode == "native" else "containers"
    existing = spec.get(key)
    if existing:
        # First, so they start before the app's own init containers, which may use them too.
        for container in reversed(sidecars):
            ops.append({"op": "add", "path": f"{prefix}/spec/{key}/0", "value": container})
    else:
        ops.append({"op": "add", "path": f"{prefix}/spec/{key}", "value": sidecars})
    return Injection(ops, None, tuple(warnings))


def _annotations(prefix: str, meta: Mapping[str, Any], eff: Effective) -> list[Op]:
    current = _map(meta.get("annotations"))
    wanted = {STATUS: json.dumps(status(eff), separators=(",", ":"), sort_keys=True)}
    if eff.settings.prometheus_annotations and not any(
        k in current for k in PROMETHEUS_ANNOTATIONS
    ):
        wanted.update(
            {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(eff.settings.admin_port),
                "prometheus.io/path": "/metrics",
            }
        )
    return _add_entries(f"{prefix}/metadata/annotations", meta.get("annotations"), wanted)


def _add_entries(path: str, current: Any, wanted: dict[str, str]) -> list[Op]:
    """Add map entries that are missing; create the map when there is none."""
    if not isinstance(current, Mapping):
        return [{"op": "add", "path": path, "value": wanted}]
    return [
        {"op": "add", "path": f"{path}/{escape(k)}", "value": v}
        for k, v in wanted.items()
        if k not in current
    ]


def _append(path: str, current: Any, items: list[dict[str, Any]]) -> list[Op]:
    if not isinstance(current, list):
        return [{"op": "add", "path": path, "value": items}]
    return [{"op": "add", "path": f"{path}/-", "value": item} for item in items]


def _env(path: str, container: Any, eff: Effective) -> list[Op]:
    """The SDK variables the container does not set itself; its own values always win
    (`guard` warns about, or refuses, a base URL that is not the sidecar's)."""
    if not isinstance(container, Mapping):
        return []
    env = _list(container.get("env"))
    have = {e.get("name") for e in env if isinstance(e, Mapping)}
    missing = [e for e in app_env(eff) if e["name"] not in have]
    if not missing:
        return []
    return _append(path, container.get("env"), list(missing))


def apply(document: Any, ops: list[Op]) -> Any:
    """Apply the `add` operations `build` produces, for `llm-router inject`.

    A deliberately small subset of RFC 6902 (tests check it against a full implementation):
    an `add` to a missing map key creates it, to `-` appends, to an index inserts.
    """
    doc = copy.deepcopy(document)
    for op in ops:
        if op["op"] != "add":
            raise ValueError(f"unsupported operation {op['op']!r}")
        *parents, last = [
            t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]
        ]
        target = doc
        for token in parents:
            target = target[int(token)] if isinstance(target, list) else target[token]
        value = copy.deepcopy(op["value"])
        if isinstance(target, list):
            if last == "-":
                target.append(value)
            else:
                target.insert(int(last), value)
        else:
            target[last] = value
    return doc
