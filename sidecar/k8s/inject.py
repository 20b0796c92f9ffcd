"""`llm-router inject -f manifest.yaml`: injection without the webhook, like `istioctl kube-inject`.

For clusters where a mutating webhook is not an option, or to review what the webhook would
do. Every Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and CronJob in a
multi-document YAML (and inside `List`s) gets the sidecar in its pod template, unless it opts
out with `llm-router.io/inject: "false"`; other documents pass through unchanged. The same
patch builder as the webhook does the work, so both give the same pod.

A workload the webhook would refuse (see `guard`) fails the whole run: nothing is written and
the exit status is 1, so `llm-router inject -f app.yaml | kubectl apply -f -` never applies
it without its sidecar. The namespace the guard checks against (the override allow-lists,
the excluded namespaces) is the manifest's own `metadata.namespace`, else `--namespace`,
the one `kubectl apply -n` would create it in; without either, no override is allowed. A
manifest whose namespace is not `--namespace` is refused, as `kubectl apply -n` refuses it:
checked against one namespace, it would be created in another.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

import yaml

from sidecar.k8s import INJECT
from sidecar.k8s.patch import apply, build
from sidecar.k8s.settings import InjectorSettings

TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


@dataclass
class Report:
    """Per workload: `Kind/name: injected` or why not; warnings from overrides."""

    lines: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """`Kind/name: refused (why)`, printed even with `-q`: the run fails because of them."""


def inject_document(
    doc: Any, settings: InjectorSettings, report: Report, namespace: str | None = None
) -> Any:
    """A copy of one YAML document with every workload in it injected; `namespace` is the
    one its workloads without a `metadata.namespace` will be created in."""
    if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
        items = [inject_document(i, settings, report, namespace) for i in doc["items"]]
        return {**doc, "items": items}
    if not isinstance(doc, dict) or doc.get("kind") not in TEMPLATE_PATHS:
        return doc
    kind = doc["kind"]
    meta: dict[str, Any] = doc["metadata"] if isinstance(doc.get("metadata"), dict) else {}
    name = f"{kind}/{meta.get('name', '?')}"
    template: Any = doc
    for key in TEMPLATE_PATHS[kind]:
        template = template.get(key) if isinstance(template, dict) else None
    if not isinstance(template, dict):
        report.lines.append(f"{name}: skipped (no pod template)")
        return doc
    # A workload that opts out opts its pods out too.
    annotations = meta.get("annotations")
    annotations = annotations if isinstance(annotations, dict) else {}
    if kind != "Pod" and str(annotations.get(INJECT, "")).lower() == "false":
        report.lines.append(f"{name}: skipped (opted out)")
        return doc
    own = str(meta.get("namespace") or "")
    if own and namespace and own != namespace:
        report.refused.append(
            f"{name}: refused (llm-router: its metadata.namespace {own!r} is not --namespace "
            f"{namespace!r}, so it would be checked against one and created in the other: "
            "make them agree)"
        )
        return doc
    injection = build(template, own or namespace or "", settings, require_opt_in=False)
    if injection.skipped:
        report.lines.append(f"{name}: skipped ({injection.skipped})")
        return doc
    report.lines.extend(f"{name}: {w}" for w in injection.warnings)
    if injection.refused:
        report.refused.append(f"{name}: refused ({injection.refused})")
        return doc
    report.lines.append(f"{name}: injected")
    if not TEMPLATE_PATHS[kind]:
        return apply(doc, injection.patch)
    result = dict(doc)
    parent = result
    keys = TEMPLATE_PATHS[kind]
    for key in keys[:-1]:
        parent[key] = dict(parent[key])
        parent = parent[key]
    parent[keys[-1]] = apply(template, injection.patch)
    return result


def inject_stream(
    source: TextIO, out: TextIO, settings: InjectorSettings, namespace: str | None = None
) -> Report:
    """Read multi-document YAML, write it back injected, in the same order; write nothing
    if any workload is refused."""
    report = Report()
    documents = [d for d in yaml.safe_load_all(source) if d is not None]
    injected = [inject_document(d, settings, report, namespace) for d in documents]
    if not report.refused:
        yaml.safe_dump_all(injected, out, sort_keys=False, default_flow_style=False, width=1000)
    return report


def main_inject(
    source: TextIO,
    out: TextIO,
    settings: InjectorSettings,
    quiet: bool,
    namespace: str | None = None,
) -> int:
    try:
        report = inject_stream(source, out, settings, namespace)
    except yaml.YAMLError as exc:
        print(f"llm-router: invalid YAML: {exc}", file=sys.stderr)
        return 2
    for line in [] if quiet else report.lines:
        print(line, file=sys.stderr)
    for line in report.refused:
        print(line, file=sys.stderr)
    if report.refused:
        print(f"llm-router: {len(report.refused)} refused; nothing written", file=sys.stderr)
        return 1
    return 0
