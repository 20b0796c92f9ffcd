"""The Grafana dashboards and alert rules under deploy/k8s, as the tests see them.

The dashboard JSON files are the source; `deploy/k8s/grafana/dashboards.yaml` holds the same
JSON as ConfigMaps for Grafana's dashboard sidecar. After editing a dashboard, regenerate
the ConfigMaps with `.venv/bin/python -m tests.dashboards`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
GRAFANA = ROOT / "deploy" / "k8s" / "grafana"
PROMETHEUS = ROOT / "deploy" / "k8s" / "prometheus"
RULES = PROMETHEUS / "llm-router.rules.yml"
CONFIGMAPS = GRAFANA / "dashboards.yaml"
DASHBOARDS = sorted(GRAFANA.glob("*.json"))
FOLDER = "LLM Router"

# What Grafana substitutes before a query reaches the datasource; values fit a short test.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "5m",
    "$namespace": ".*",
}


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every query of every panel."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel, target


def interpolate(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    if "$" in re.sub(r"\$\d", "", expr):
        raise ValueError(f"unresolved variable in {expr!r}")
    return expr


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


class _Block(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Block.add_representer(str, _str)


def render_configmaps() -> str:
    docs = []
    for path in DASHBOARDS:
        name = path.stem
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"{name}-dashboard",
                    "labels": {"grafana_dashboard": "1", "app.kubernetes.io/name": "llm-router"},
                    "annotations": {"grafana_folder": FOLDER},
                },
                "data": {path.name: path.read_text()},
            }
        )
    header = (
        "# Generated from the *.json files beside this one: .venv/bin/python -m tests.dashboards\n"
        '# Grafana\'s dashboard sidecar loads ConfigMaps labelled grafana_dashboard: "1".\n'
    )
    body = yaml.dump_all(docs, Dumper=_Block, sort_keys=False, allow_unicode=True, width=1000)
    return header + body


if __name__ == "__main__":
    CONFIGMAPS.write_text(render_configmaps())
    print(f"wrote {CONFIGMAPS.relative_to(ROOT)}")
