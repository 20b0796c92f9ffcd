"""Grafana dashboards, checked structurally: ids, datasource variables (never a hard-coded
datasource uid), the panels the compliance and SRE questions need, the ConfigMaps that
deliver them, and every LogQL query's field names against the audit schema. (The PromQL of
every panel runs against a real Prometheus in test_prometheus.py.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sidecar.audit.schema import schema
from tests import logql
from tests.dashboards import (
    CONFIGMAPS,
    DASHBOARDS,
    FOLDER,
    load,
    panels,
    queries,
    render_configmaps,
)

TITLES = {
    "llm-router-compliance.json": ("LLM Router — Compliance & Traffic", "prometheus"),
    "llm-router-performance.json": ("LLM Router — Performance", "prometheus"),
    "llm-router-audit.json": ("LLM Router — Audit", "loki"),
}
BUILTINS = {"__rate_interval", "__interval", "__range", "__all"}
STREAM_LABELS = {"namespace", "container", "pod"}


def by_name(name: str) -> dict[str, Any]:
    return load(next(p for p in DASHBOARDS if p.name == name))


def test_the_three_dashboards_exist() -> None:
    assert {p.name for p in DASHBOARDS} == set(TITLES)
    uids = [load(p)["uid"] for p in DASHBOARDS]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_structure(path: Path) -> None:
    board = load(path)
    title, ds_type = TITLES[path.name]
    assert board["title"] == title
    assert "__inputs" not in board and "__requires" not in board  # not an export for sharing
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    ds_vars = {n for n, v in variables.items() if v["type"] == "datasource"}
    assert [variables[n]["query"] for n in ds_vars] == [ds_type]
    [ds_var] = ds_vars
    expected_ds = {"type": ds_type, "uid": f"${{{ds_var}}}"}
    for panel in panels(board):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel.get("description"), panel["id"]
        assert panel["datasource"] == expected_ds, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs))
        for target in panel["targets"]:
            assert target["datasource"] == expected_ds
            assert target["expr"].strip()
            for var in re.findall(r"\$\{?(\w+)", target["expr"]):
                assert var in variables or var in BUILTINS, f"{panel['title']}: ${var}"
    for variable in variables.values():
        if variable["type"] == "query":
            assert variable["datasource"] == expected_ds
    _no_hard_coded_uids(board)
    _no_overlap(board)


def _no_hard_coded_uids(node: Any) -> None:
    if isinstance(node, dict):
        ds = node.get("datasource")
        if isinstance(ds, dict) and "uid" in ds:
            assert str(ds["uid"]).startswith("$"), f"hard-coded datasource uid {ds['uid']}"
        if isinstance(ds, str):
            assert ds.startswith("$"), f"hard-coded datasource {ds}"
        for value in node.values():
            _no_hard_coded_uids(value)
    elif isinstance(node, list):
        for value in node:
            _no_hard_coded_uids(value)


def _no_overlap(board: dict[str, Any]) -> None:
    cells: dict[tuple[int, int], int] = {}
    for panel in board["panels"]:
        g = panel["gridPos"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"panel {panel['id']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["id"]


def exprs(name: str) -> str:
    return "\n".join(t["expr"] for _, t in queries(by_name(name)))


def test_compliance_dashboard_answers_its_questions() -> None:
    text = exprs("llm-router-compliance.json")
    for needed in (
        "sum by (route_kind, provider) (rate(llm_router_requests_total",
        'level="regulated"',
        "llm_router_sent_to_aggregator_total",
        "sum by (reason) (increase(llm_router_denials_total",
        "topk(10, sum by (tag) (increase(llm_router_findings_total",
        "sum by (namespace) (rate(llm_router_requests_total",
        "llm_router_policy_revision_info",
        "llm_router_policy_reload_errors_total",
    ):
        assert needed in text, needed


def test_performance_dashboard_answers_its_questions() -> None:
    text = exprs("llm-router-performance.json")
    for needed in (
        "histogram_quantile(0.5, sum by (le) (rate(llm_router_overhead_seconds_bucket",
        "histogram_quantile(0.99, sum by (le) (rate(llm_router_overhead_seconds_bucket",
        "llm_router_policy_evaluation_seconds_bucket",
        "llm_router_classification_seconds_bucket",
        "sum by (le, route_kind) (rate(llm_router_upstream_ttfb_seconds_bucket",
        "sum by (le, route_kind, provider) (rate(llm_router_upstream_ttfb_seconds_bucket",
        "llm_router_request_duration_seconds_bucket",
        "llm_router_failovers_total",
        'llm_router_upstream_attempts_total{namespace=~"$namespace", outcome!="ok"}',
        "sum by (provider, type) (rate(llm_router_tokens_total",
        "sum by (namespace) (increase(llm_router_tokens_total",
    ):
        assert needed in text, needed


def test_audit_dashboard_filters_and_the_zero_panel() -> None:
    board = by_name("llm-router-audit.json")
    variables = {v["name"] for v in board["templating"]["list"]}
    assert {"loki", "namespace", "level", "decision", "provider"} <= variables
    [table] = [p for p in panels(board) if p["title"] == "Decision log"]
    expr = table["targets"][0]["expr"]
    for var in ("$namespace", "$level", "$decision", "$provider"):
        assert var in expr
    names, _ = logql.schema_fields(schema())
    [shown] = [t for t in table["transformations"] if t["id"] == "filterFieldsByName"]
    assert set(shown["options"]["include"]["names"]) <= names
    [zero] = [p for p in panels(board) if "went to an aggregator" in p["title"]]
    zero_expr = zero["targets"][0]["expr"]
    assert 'classification_level="regulated"' in zero_expr
    assert 'outcome_sent_to_aggregator="true"' in zero_expr
    assert zero["fieldConfig"]["defaults"]["noValue"] == "0"
    titles = {p["title"] for p in panels(board)}
    assert {"Denied and failed-closed requests", "Break-glass uses"} <= titles


LOKI_QUERIES = [
    pytest.param(target["expr"], id=f"{panel['id']}-{panel['title']}")
    for panel, target in queries(by_name("llm-router-audit.json"))
]


@pytest.mark.parametrize("expr", LOKI_QUERIES)
def test_logql_uses_only_fields_of_the_audit_schema(expr: str) -> None:
    used = logql.check(expr, schema(), STREAM_LABELS)
    assert used  # every panel filters or formats by record fields


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ('{container="x"} | json | classification_levle="regulated"', "not in the audit schema"),
        ('{container="x"} | json | policy_reasons="x"', "not in the audit schema"),
        ('{container="x"} | json r="policy.reason[0]"', "not in the audit schema"),
        ('sum(count_over_time({container="x"} | json [5m])', "unclosed"),
        ('{container="x"} | jsn', "unknown pipeline stage"),
        ('{cluster="x"} | json', "unknown stream label"),
        ('summ(count_over_time({container="x"} [5m]))', "unknown function"),
    ],
)
def test_the_logql_checker_rejects_mistakes(expr: str, problem: str) -> None:
    with pytest.raises(logql.LogQLError, match=problem):
        logql.check(expr, schema(), STREAM_LABELS)


def test_configmaps_carry_the_dashboards() -> None:
    assert CONFIGMAPS.read_text() == render_configmaps(), "run: python -m tests.dashboards"
    maps = list(yaml.safe_load_all(CONFIGMAPS.read_text()))
    assert len(maps) == len(DASHBOARDS)
    for cm in maps:
        assert cm["kind"] == "ConfigMap"
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["annotations"]["grafana_folder"] == FOLDER
        [(name, body)] = cm["data"].items()
        assert body == (CONFIGMAPS.parent / name).read_text()
    kustomization = yaml.safe_load((CONFIGMAPS.parent / "kustomization.yaml").read_text())
    assert kustomization["resources"] == [CONFIGMAPS.name]
