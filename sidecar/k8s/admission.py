"""AdmissionReview (admission.k8s.io/v1) in, AdmissionReview with a JSONPatch out.

A pod it should not inject (opted out, host network, ...) is admitted unchanged, and an
error of its own while building the patch admits the pod unchanged too. The one denial is a
pod that asks for injection but would weaken the sidecar (`guard`): admitted, it would run
with a sidecar that no longer holds the keys, the config or the app's traffic alone, so it
is denied with a message saying what to change. Whether an unreachable webhook blocks pod
creation is the cluster operator's choice (`failurePolicy`), not the code's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from sidecar.k8s.patch import Injection, build
from sidecar.k8s.settings import InjectorSettings

log = structlog.get_logger("llm_router.webhook")

API_VERSION = "admission.k8s.io/v1"
POD_RESOURCE = {"group": "", "version": "v1", "resource": "pods"}


class InvalidReview(ValueError):
    """The body is not an AdmissionReview request this webhook can even answer."""


@dataclass
class Outcome:
    """What happened, for the response, the log line and the counter."""

    review: dict[str, Any]
    decision: str
    """injected | skipped | refused | error"""
    reason: str
    warnings: list[str] = field(default_factory=list)
    refused: str | None = None
    """The denial's message: names containers, variables and annotations, never values."""


def parse(body: bytes) -> Mapping[str, Any]:
    """The `request` of an AdmissionReview, or InvalidReview (answered with HTTP 400)."""
    try:
        review = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidReview("body is not JSON") from None
    if not isinstance(review, dict):
        raise InvalidReview("body is not a JSON object")
    if review.get("apiVersion") != API_VERSION or review.get("kind") != "AdmissionReview":
        raise InvalidReview(f"expected an {API_VERSION} AdmissionReview")
    request = review.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("uid"), str):
        raise InvalidReview("request.uid is missing")
    return request


def _response(uid: str, injection: Injection | None, warnings: list[str]) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid, "allowed": True}
    if injection and injection.refused:
        # The API server shows `message` as "admission webhook ... denied the request: ...".
        response["allowed"] = False
        response["status"] = {"code": 403, "reason": "Forbidden", "message": injection.refused}
    elif injection and injection.patch:
        patch = json.dumps(injection.patch, separators=(",", ":")).encode()
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(patch).decode()
    if warnings:
        response["warnings"] = warnings
    return {"apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response}


def review(
    request: Mapping[str, Any], settings: InjectorSettings, *, require_opt_in: bool
) -> Outcome:
    """Decide one admission request. Never raises: an error admits the pod unchanged."""
    uid = str(request["uid"])
    try:
        unsupported = _unsupported(request)
        if unsupported:
            return Outcome(_response(uid, None, []), "skipped", unsupported)
        pod = request.get("object")
        if not isinstance(pod, Mapping):
            return Outcome(_response(uid, None, []), "skipped", "no pod object")
        namespace = request.get("namespace") or _map(pod.get("metadata")).get("namespace") or ""
        injection = build(pod, str(namespace), settings, require_opt_in=require_opt_in)
        warnings = list(injection.warnings)
        if injection.skipped:
            return Outcome(_response(uid, None, []), "skipped", injection.skipped)
        if injection.refusals:
            reason = injection.refusals[0].reason
            response = _response(uid, injection, warnings)
            return Outcome(response, "refused", reason, warnings, injection.refused)
        return Outcome(_response(uid, injection, warnings), "injected", "injected", warnings)
    except Exception as exc:  # the injector's own bug must not block the pod
        log.exception("admission_error", uid=uid, error=type(exc).__name__)
        return Outcome(_response(uid, None, []), "error", type(exc).__name__)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _unsupported(request: Mapping[str, Any]) -> str | None:
    if request.get("operation") != "CREATE":
        return "not a create"
    resource = _map(request.get("resource"))
    if {k: resource.get(k) for k in POD_RESOURCE} != POD_RESOURCE:
        return "not a pod"
    if request.get("subResource"):
        return "subresource"
    return None
