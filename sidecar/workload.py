"""Who the sidecar serves: namespace, pod, service account and labels of its pod.

In Kubernetes these come from the Downward API: environment variables for the scalar fields
and a mounted `labels` file (lines of `key="value"`), which the injector sets up. Labels are
policy input (e.g. `llm-router.io/residency: eu`) and may set a classification floor.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sidecar.config import WorkloadConfig

ENV_NAMESPACE = "LLM_ROUTER_POD_NAMESPACE"
ENV_POD = "LLM_ROUTER_POD_NAME"
ENV_SERVICE_ACCOUNT = "LLM_ROUTER_SERVICE_ACCOUNT"
ENV_LABELS_FILE = "LLM_ROUTER_POD_LABELS_FILE"
FLOOR_LABEL = "llm-router.io/data-class"


@dataclass(frozen=True)
class Workload:
    namespace: str = ""
    pod: str = ""
    service_account: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def floor(self) -> str | None:
        """The minimum classification level this workload's label asks for, if any."""
        return self.labels.get(FLOOR_LABEL) or None

    def to_policy_input(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "pod": self.pod,
            "service_account": self.service_account,
            "labels": dict(self.labels),
        }


def parse_downward_labels(text: str) -> dict[str, str]:
    """Parse the Downward API labels file format: one `key="value"` per line."""
    labels: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or not key:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1].encode().decode("unicode_escape")
        labels[key] = value
    return labels


def resolve_workload(cfg: WorkloadConfig, environ: Mapping[str, str] | None = None) -> Workload:
    """Config values, overridden by the Downward API where it is present."""
    env = environ if environ is not None else os.environ
    labels = dict(cfg.labels)
    labels_file = env.get(ENV_LABELS_FILE) or (str(cfg.labels_file) if cfg.labels_file else None)
    if labels_file:
        with contextlib.suppress(OSError):
            labels.update(parse_downward_labels(Path(labels_file).read_text(encoding="utf-8")))
    return Workload(
        namespace=env.get(ENV_NAMESPACE, cfg.namespace),
        pod=env.get(ENV_POD, cfg.pod),
        service_account=env.get(ENV_SERVICE_ACCOUNT, cfg.service_account),
        labels=labels,
    )
