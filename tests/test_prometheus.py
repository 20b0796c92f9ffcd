"""A real Prometheus scraping two real sidecars: every PromQL query of every dashboard panel
and every alert rule is evaluated through Prometheus' HTTP API and must return series.

Two sidecars serve two namespaces (claims: embedded policy, HTTP audit sink to a loopback
collector; billing: an OPA-API server as its engine), and mixed traffic runs through both in
two waves between scrapes: public, personal, health and secret data, streams, embeddings,
Anthropic's API, an unknown model, failovers (the aggregator returning 503), fail-closed
decisions (the OPA server answering undefined) and a rejected policy revision. A third
sidecar (claims-api-2, no traffic) takes its policy from a loopback bundle server, which
later fails, for the bundle alerts. Prometheus
(the Debian package's binary, on a loopback port with its own config and storage) scrapes
every second and loads the alert rules, so their state is checked too.

Also here: `promtool check rules` and `promtool test rules`. Without the binaries these tests
are skipped, unless CI_REQUIRE_PROMETHEUS=1 (set by .ci/run), where they fail.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
import pytest_asyncio
import yaml

from sidecar.app import Sidecar
from sidecar.config import Config
from sidecar.emulators.bundles import BundleServer, build_bundle
from sidecar.emulators.opa import OPAEmulator
from sidecar.emulators.openai import Fault, OpenAIEmulator
from sidecar.serve import Running
from tests.audit_support import Collector
from tests.conftest import APP_KEY, POLICIES, config_dict, key_environ, make_emulators
from tests.dashboards import (
    DASHBOARDS,
    PROMETHEUS,
    RULES,
    alert_rules,
    interpolate,
    load,
    queries,
)
from tests.policy.bundle_support import policy_files
from tests.test_policy_modes import rego_decider
from tests.test_routing import AWS_KEY, EMAIL, IBAN, SSN, user

RULE_TESTS = PROMETHEUS / "llm-router.rules.test.yml"


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package prometheus)"
        if os.environ.get("CI_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(message + ", and CI_REQUIRE_PROMETHEUS=1")
        pytest.skip(message)
    return path


# ---- promtool --------------------------------------------------------------------------


def test_promtool_checks_the_rules() -> None:
    proc = subprocess.run(
        [binary("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in proc.stdout


def test_promtool_unit_tests_pass_and_cover_every_alert() -> None:
    proc = subprocess.run(
        [binary("promtool"), "test", "rules", RULE_TESTS.name],
        capture_output=True,
        text=True,
        cwd=PROMETHEUS,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tested = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tested
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    quiet = {
        case["alertname"]
        for test in tested
        for case in test["alert_rule_test"]
        if not case["exp_alerts"]
    }
    names = {rule["alert"] for rule in alert_rules()}
    assert firing == names, "every alert needs a test where it fires"
    assert quiet == names, "and one where it does not"


def test_prometheusrule_carries_the_same_rules() -> None:
    custom = yaml.safe_load((PROMETHEUS / "prometheusrule.yaml").read_text())
    assert custom["kind"] == "PrometheusRule"
    assert custom["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]
    kustomization = yaml.safe_load((PROMETHEUS / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["prometheusrule.yaml"]


# ---- a live Prometheus ---------------------------------------------------------------------

LIVE = pytest.mark.asyncio(loop_scope="module")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Live:
    """Sidecars, providers and a collector on the test module's event loop (the main thread:
    policy engines must stay on the thread that made them); Prometheus as a process. Nothing
    here blocks the loop, so Prometheus can scrape while the tests wait and query."""

    def __init__(self, workdir: Path, prometheus: str) -> None:
        self.workdir = workdir
        self.prometheus_bin = prometheus
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.sidecars: dict[str, Sidecar] = {}
        self.running: list[Running] = []
        self.clients: dict[str, openai.AsyncOpenAI] = {}
        self.emulators: dict[str, Any] = {}
        self.collector: Collector | None = None
        self.opa: OPAEmulator | None = None
        self.policy_dir = workdir / "policies"
        self.http: aiohttp.ClientSession | None = None
        self.bundles: BundleServer | None = None
        self.bundle_sidecar: Running | None = None
        """claims-api-2: its policy from the bundle server, no traffic."""

    # ---- set-up

    async def start_world(self) -> None:
        self.http = aiohttp.ClientSession()
        self.emulators = make_emulators()
        for emu in self.emulators.values():
            await emu.start()
        self.collector = await Collector("ok").start()
        self.opa = OPAEmulator(rego_decider())
        await self.opa.start()
        shutil.copytree(POLICIES, self.policy_dir)
        urls = {name: emu.base_url for name, emu in self.emulators.items()}
        claims = config_dict(
            urls,
            policy={"path": str(self.policy_dir), "watch_interval_s": 0.2},
            audit={
                "sink": "http",
                "http": {"url": self.collector.url, "queue_dir": str(self.workdir / "q")},
            },
        )
        billing = config_dict(
            urls,
            policy={"engine": "opa", "opa_url": self.opa.base_url, "timeout_ms": 500},
            workload={"namespace": "billing", "pod": "billing-api-1"},
        )
        for namespace, data in (("claims", claims), ("billing", billing)):
            sidecar = Sidecar.build(
                Config.model_validate(data), audit_stream=io.BytesIO(), environ=key_environ()
            )
            running = await Running(sidecar).start()
            self.sidecars[namespace] = sidecar
            self.running.append(running)
            self.clients[namespace] = openai.AsyncOpenAI(
                base_url=running.app_url + "/v1", api_key=APP_KEY, max_retries=0, timeout=10
            )
        await self.start_bundle_sidecar(urls)

    async def start_bundle_sidecar(self, urls: dict[str, str]) -> None:
        self.bundles = BundleServer()
        await self.bundles.start()
        self.bundles.publish(build_bundle(policy_files("policies/"), {"revision": "b-1"}))
        bundled = config_dict(
            urls,
            policy={
                "path": str(POLICIES),
                "bundle": {
                    "url": self.bundles.url,
                    "min_delay_s": 0.1,
                    "max_delay_s": 0.2,
                    "max_staleness_s": 1.0,
                },
            },
            workload={"namespace": "claims", "pod": "claims-api-2"},
        )
        sidecar = Sidecar.build(
            Config.model_validate(bundled), audit_stream=io.BytesIO(), environ=key_environ()
        )
        self.bundle_sidecar = await Running(sidecar).start()

    async def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            await self.proc.wait()
        for client in self.clients.values():
            await client.close()
        for running in self.running:
            await running.stop()
        if self.bundle_sidecar is not None:
            await self.bundle_sidecar.stop()
        if self.bundles is not None:
            await self.bundles.stop()
        if self.opa is not None:
            await self.opa.stop()
        if self.collector is not None:
            await self.collector.stop()
        for emu in self.emulators.values():
            await emu.stop()
        if self.http is not None:
            await self.http.close()

    async def start_prometheus(self) -> None:
        port = free_port()
        targets = [
            {
                "targets": [self.running[i].admin_url.removeprefix("http://")],
                "labels": {"namespace": ns, "pod": f"{ns}-api-1"},
            }
            for i, ns in enumerate(self.sidecars)
        ]
        assert self.bundle_sidecar is not None
        targets.append(
            {
                "targets": [self.bundle_sidecar.admin_url.removeprefix("http://")],
                "labels": {"namespace": "claims", "pod": "claims-api-2"},
            }
        )
        config = {
            "global": {
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "evaluation_interval": "1s",
            },
            "rule_files": [str(RULES)],
            "scrape_configs": [{"job_name": "llm-router", "static_configs": targets}],
        }
        config_file = self.workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        with open(self.workdir / "prometheus.log", "wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                self.prometheus_bin,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self.url = f"http://127.0.0.1:{port}"

        async def ready() -> bool:
            return "Ready" in (await self.get("/-/ready", raw=True) or "")

        async def scraped() -> bool:
            return len(await self.query('up{job="llm-router"} == 1')) == 3

        await self.wait(ready, "Prometheus ready")
        await self.wait(scraped, "both sidecars scraped")

    # ---- traffic

    async def wave(self, first: bool) -> None:
        for namespace, client in self.clients.items():
            for text in ("a public question", "another public one", f"mail {EMAIL} {IBAN}"):
                await client.chat.completions.create(model="gpt-4o", messages=user(text))
            await client.chat.completions.create(
                model="gpt-4o",
                messages=user(f"patient SSN {SSN} has diabetes"),
                extra_headers={"X-LLM-Data-Class": "phi"},
            )
            with pytest.raises(openai.PermissionDeniedError):
                await client.chat.completions.create(
                    model="gpt-4o", messages=user(f"key {AWS_KEY}")
                )
            with pytest.raises(openai.NotFoundError):
                await client.chat.completions.create(model="no-such-model", messages=user("x"))
            stream = await client.chat.completions.create(
                model="gpt-4o", messages=user("stream a poem"), stream=True
            )
            async for _ in stream:
                pass
            await client.embeddings.create(model="embed-small", input="public words")
            await self.anthropic(namespace)
            await self.failover(client)
        await self.fail_closed(self.clients["billing"])
        if first:
            await self.reject_a_policy_revision()

    async def anthropic(self, namespace: str) -> None:
        assert self.http is not None
        url = self.running[list(self.sidecars).index(namespace)].app_url + "/v1/messages"
        body = {
            "model": "claude-sonnet-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "hello from the anthropic sdk"}],
        }
        async with self.http.post(url, json=body) as r:
            assert r.status == 200, await r.text()

    async def failover(self, client: openai.AsyncOpenAI) -> None:
        aggregator = self.emulators["openrouter"]
        assert isinstance(aggregator, OpenAIEmulator)
        aggregator.fail_always = Fault("status", status=503)
        try:
            raw = await client.chat.completions.with_raw_response.create(
                model="gpt-4o", messages=user("public, but the aggregator is down")
            )
            assert raw.headers["x-llm-router-route"] == "openai:gpt-4o"
        finally:
            aggregator.fail_always = None

    async def fail_closed(self, client: openai.AsyncOpenAI) -> None:
        assert self.opa is not None
        decide = self.opa.decide
        self.opa.decide = lambda _input: None  # undefined decision: fail closed
        try:
            for _ in range(2):
                with pytest.raises(openai.APIStatusError) as caught:
                    await client.chat.completions.create(model="gpt-4o", messages=user("hi"))
                assert caught.value.status_code == 503
        finally:
            self.opa.decide = decide

    async def reject_a_policy_revision(self) -> None:
        (self.policy_dir / "broken.rego").write_text("package llm_router\n\nthis is not rego\n")
        metrics = self.sidecars["claims"].metrics

        async def rejected() -> bool:
            return bool(metrics.registry.get_sample_value("llm_router_policy_reload_errors_total"))

        await self.wait(rejected, "the broken revision rejected", within=20)

    # ---- Prometheus API

    async def get(self, path: str, raw: bool = False, **params: str) -> Any:
        assert self.http is not None
        try:
            async with self.http.get(self.url + path, params=params) as response:
                body = await response.text()
        except aiohttp.ClientError:
            return None
        return body.strip() if raw else json.loads(body)

    async def query_response(self, expr: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.get("/api/v1/query", query=expr)
        return result

    async def query(self, expr: str) -> list[dict[str, Any]]:
        response = await self.query_response(expr)
        if response is None or response.get("status") != "success":
            return []
        data: list[dict[str, Any]] = response["data"]["result"]
        return data

    async def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = (await self.get("/api/v1/alerts"))["data"]["alerts"]
        return alerts

    def sidecar_total(self) -> float:
        total = 0.0
        for sidecar in self.sidecars.values():
            for metric in sidecar.metrics.registry.collect():
                if metric.name == "llm_router_requests":
                    total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
        return total

    async def wait(
        self, predicate: Callable[[], Awaitable[bool]], what: str, within: float = 60
    ) -> None:
        deadline = time.monotonic() + within
        while not await predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for: {what}")
            await asyncio.sleep(0.1)

    async def wait_for_scrape(self) -> None:
        expected = self.sidecar_total()

        async def scraped() -> bool:
            result = await self.query("sum(llm_router_requests_total)")
            return bool(result) and float(result[0]["value"][1]) == expected

        await self.wait(scraped, "a scrape after the traffic")
        await asyncio.sleep(1.2)  # one more scrape: every counter has a sample before and after


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    prometheus = binary("prometheus")
    env = Live(tmp_path_factory.mktemp("prometheus"), prometheus)
    try:
        await env.start_world()
        await env.start_prometheus()
        await env.wave(first=True)
        await env.wait_for_scrape()
        await env.wave(first=False)
        await env.wait_for_scrape()
        yield env
    finally:
        await env.stop()


def dashboard_queries() -> list[Any]:
    params = []
    for path in DASHBOARDS:
        board = load(path)
        if board["templating"]["list"][0]["query"] != "prometheus":
            continue
        for panel, target in queries(board):
            ident = f"{path.stem.removeprefix('llm-router-')}:{panel['id']}:{target['refId']}"
            params.append(pytest.param(target["expr"], id=ident))
    return params


@pytest.mark.parametrize("expr", dashboard_queries())
@LIVE
async def test_dashboard_query_returns_series(live: Live, expr: str) -> None:
    promql = interpolate(expr)
    response = await live.query_response(promql)
    assert response["status"] == "success", response
    result = response["data"]["result"]
    assert result, f"no series for {promql}"
    values = [float(r["value"][1]) for r in result]
    assert any(v == v for v in values), f"only NaN for {promql}"  # some value is a number


@LIVE
async def test_dashboard_variables_resolve(live: Live) -> None:
    for path in DASHBOARDS:
        for variable in load(path)["templating"]["list"]:
            if variable["type"] != "query":
                continue
            m = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["definition"])
            assert m, variable["definition"]
            path = f"/api/v1/label/{m.group(2)}/values"
            values = await live.get(path, **{"match[]": m.group(1)})
            assert sorted(values["data"]) == ["billing", "claims"]


COMPARISON = re.compile(r"^(?P<signal>.*\S)\s*(?:>=|<=|==|!=|>|<)\s*[0-9.e+-]+\s*$", re.DOTALL)


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda r: r["alert"])
@LIVE
async def test_alert_rule_parses_and_its_signal_returns_series(
    live: Live, rule: dict[str, Any]
) -> None:
    response = await live.query_response(rule["expr"])
    assert response["status"] == "success", response  # the full rule parses and evaluates
    signal = COMPARISON.match(rule["expr"])
    assert signal, "an alert expression ends in a comparison with a threshold"
    result = await live.query(signal.group("signal"))
    assert result, f"no series for the signal of {rule['alert']}"


@LIVE
async def test_prometheus_evaluates_the_rules_and_the_traffic_trips_two_alerts(
    live: Live,
) -> None:
    groups = (await live.get("/api/v1/rules"))["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {r["name"] for r in rules} == {r["alert"] for r in alert_rules()}
    for rule in rules:
        assert rule["health"] == "ok", rule

    async def reload_alert_firing() -> bool:
        return any(
            a["labels"]["alertname"] == "LLMRouterPolicyReloadFailing"
            and a["labels"]["namespace"] == "claims"
            and a["state"] == "firing"
            for a in await live.alerts()
        )

    await live.wait(reload_alert_firing, "the reload alert", within=10)
    fail_closed = [
        a
        for a in await live.alerts()
        if a["labels"]["alertname"] == "LLMRouterFailClosedDenialsSpike"
    ]
    assert [a["labels"]["namespace"] for a in fail_closed] == ["billing"]
    assert fail_closed[0]["state"] == "pending"  # for: 5m


@LIVE
async def test_regulated_traffic_never_reached_the_aggregator(live: Live) -> None:
    regulated = await live.query('llm_router_sent_to_aggregator_total{level="regulated"}')
    assert sorted((r["metric"]["namespace"], r["metric"]["pod"]) for r in regulated) == [
        ("billing", "billing-api-1"),
        ("claims", "claims-api-1"),
        ("claims", "claims-api-2"),
    ]
    assert all(float(r["value"][1]) == 0 for r in regulated)
    public = await live.query('sum(llm_router_sent_to_aggregator_total{level="public"})')
    assert float(public[0]["value"][1]) > 0
    assert live.collector is not None
    records = live.collector.records()
    assert records and not [
        r
        for r in records
        if (r["classification"] or {}).get("level") == "regulated"
        and r["outcome"]["sent_to_aggregator"]
    ]


@LIVE
async def test_a_failing_bundle_server_trips_the_bundle_alerts(live: Live) -> None:
    """claims-api-2 polls a bundle server that starts answering 500: three failed polls in
    a row fire LLMRouterPolicyBundlePollsFailing, and past max_staleness_s (1 s here) the
    stale-bundle expression holds on the scraped timestamps (pending: `for: 1m`), while its
    /readyz says degraded and stays 200."""
    assert live.bundles is not None and live.bundle_sidecar is not None
    live.bundles.fail_status = 500
    try:

        def state(alertname: str) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                return any(
                    a["labels"]["alertname"] == alertname
                    and a["labels"]["pod"] == "claims-api-2"
                    and a["state"] == ("firing" if alertname.endswith("Failing") else "pending")
                    for a in await live.alerts()
                )

            return check

        await live.wait(state("LLMRouterPolicyBundlePollsFailing"), "polls failing", within=20)
        await live.wait(state("LLMRouterPolicyBundleStale"), "a stale bundle", within=20)
        failures = await live.query(
            'llm_router_policy_bundle_failures_total{pod="claims-api-2", reason="http_status"}'
        )
        assert failures and float(failures[0]["value"][1]) >= 3
        assert live.http is not None
        async with live.http.get(live.bundle_sidecar.admin_url + "/readyz") as response:
            body = await response.json()
        assert response.status == 200 and body["ready"] is True
        assert body["policy"]["degraded"] is True
        assert "http_status (HTTP 500)" in body["policy"]["degraded_reason"]
        others = [
            a
            for a in await live.alerts()
            if a["labels"]["alertname"].startswith("LLMRouterPolicyBundle")
            and a["labels"]["pod"] != "claims-api-2"
        ]
        assert others == [], "sidecars without a bundle server never alert on bundles"
    finally:
        live.bundles.fail_status = None
