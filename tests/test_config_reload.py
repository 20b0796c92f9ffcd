"""Config hot reload on a running sidecar: a rewritten file changes where the next request
goes (seen at the loopback providers), a broken one changes nothing but is counted and shown
on /readyz, a request in flight finishes on the parts it started with, and the upstream
sessions that were replaced are closed once nothing uses them."""

from __future__ import annotations

import asyncio
import copy
import io
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import orjson
import pytest
import yaml

from sidecar.app import Sidecar
from sidecar.config_loader import ConfigError, load_config, parse_config
from sidecar.config_restart import carry_over
from sidecar.emulators.openai import Fault
from sidecar.serve import Running
from tests.conftest import APP_KEY, Emulator, config_dict, key_environ
from tests.reliability.support import SidecarProcess
from tests.test_routing import EMAIL, user

PII = f"Send the invoice to {EMAIL} today."
HEADER_VALUE = "hdr-value-kept-out-of-errors-5e1f"
"""A static provider header value: a broken line holding it must not be echoed anywhere."""


@dataclass
class Live:
    """A sidecar serving from a config file that the test rewrites."""

    path: Path
    data: dict[str, Any]
    sidecar: Sidecar
    running: Running
    audit: io.BytesIO
    client: openai.AsyncOpenAI
    upstreams: dict[str, Emulator]

    def write(self, text: str) -> None:
        """As a ConfigMap update does: a new file swapped in whole."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)

    def change(self, edit: Callable[[dict[str, Any]], None]) -> None:
        edit(self.data)
        self.write(yaml.safe_dump(self.data))

    async def reload(self) -> bool:
        assert self.sidecar.reloader is not None
        return bool(await self.sidecar.reloader.reload())

    @property
    def revision(self) -> str:
        return self.sidecar.pipeline.config_revision or ""

    async def route(self, text: str = PII) -> str:
        raw = await self.client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=user(text)
        )
        return raw.headers["x-llm-router-route"]

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.running.admin_url + "/readyz") as response,
        ):
            return response.status, orjson.loads(await response.read())

    def metric(self, name: str, **labels: str) -> float:
        return self.sidecar.metrics.registry.get_sample_value(name, labels) or 0.0

    async def records(self, count: int) -> list[dict[str, Any]]:
        """The first `count` audit records, once the sink's writer thread has written them."""

        def lines() -> list[bytes]:
            return self.audit.getvalue().splitlines()

        await wait_for(lambda: len(lines()) >= count)
        return [orjson.loads(line) for line in lines()[:count]]


def live_config(upstreams: dict[str, Emulator], *, watch: bool) -> dict[str, Any]:
    urls = {name: emu.base_url for name, emu in upstreams.items()}
    # A deep copy: the tests edit nested sections that config_dict shares with other tests.
    data = copy.deepcopy(config_dict(urls, reload={"watch": watch, "interval_s": 0.02}))
    data["providers"]["openrouter"]["headers"] = {"X-Title": HEADER_VALUE}
    return data


@pytest.fixture
async def start_live(
    upstreams: dict[str, Emulator], tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """Tests that reload by hand turn the watcher off, so that nothing else reloads."""
    started: list[Live] = []

    async def start(watch: bool = False) -> Live:
        data = live_config(upstreams, watch=watch)
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(data))
        env = key_environ()
        audit = io.BytesIO()
        config = load_config(path, env)
        sidecar = Sidecar.build(config, audit_stream=audit, environ=env, config_path=path)
        running = await Running(sidecar).start()
        client = openai.AsyncOpenAI(
            base_url=running.app_url + "/v1", api_key=APP_KEY, max_retries=0, timeout=10
        )
        started.append(Live(path, data, sidecar, running, audit, client, upstreams))
        return started[-1]

    yield start
    for live in started:
        await live.client.close()
        await live.running.stop()


@pytest.fixture
async def live(start_live: Callable[..., Any]) -> Live:
    started: Live = await start_live()
    return started


def withdraw_dpa(data: dict[str, Any]) -> None:
    data["providers"]["openai"]["compliance"]["dpa"] = False


async def wait_for(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    for _ in range(int(within_s / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the config watcher did not react")


async def test_changed_compliance_attributes_route_the_next_request(
    start_live: Callable[..., Any],
) -> None:
    live: Live = await start_live(watch=True)
    first = live.revision
    assert await live.route() == "openai:gpt-4o"  # pii needs a DPA: the aggregator has none

    def aggregator_gains_dpa(data: dict[str, Any]) -> None:
        data["providers"]["openrouter"]["compliance"]["dpa"] = True

    live.change(aggregator_gains_dpa)
    await wait_for(lambda: live.revision != first)  # noticed by the watcher, no signal
    second = live.revision
    assert await live.route() == "openrouter:openai/gpt-4o"
    assert EMAIL in live.upstreams["openrouter"].received_bodies_text()

    def both_lose_it(data: dict[str, Any]) -> None:
        data["providers"]["openrouter"]["compliance"]["dpa"] = False
        withdraw_dpa(data)

    live.change(both_lose_it)
    await wait_for(lambda: live.revision != second)
    assert await live.route() == "google:gemini-2.5-flash"
    assert live.upstreams["openai"].received_bodies_text().count(EMAIL) == 1

    assert [r["config_revision"] for r in await live.records(3)] == [first, second, live.revision]
    assert live.metric("llm_router_config_reloads_total") == 2
    assert live.metric("llm_router_config_info", revision=live.revision) == 1
    assert live.metric("llm_router_config_info", revision=first) == 0
    status, body = await live.readyz()
    assert status == 200
    assert body["config"] == {"revision": live.revision, "error": None, "restart_required": []}


def yaml_error(data: dict[str, Any]) -> str:
    text = yaml.safe_dump(data)
    return text.replace(f"X-Title: {HEADER_VALUE}", f"X-Title: [{HEADER_VALUE}", 1)


def misspelt_attribute(data: dict[str, Any]) -> str:
    data["providers"]["openai"]["compliance"] = {"dpa": False, "bba": True}
    return yaml.safe_dump(data)


def unknown_provider(data: dict[str, Any]) -> str:
    withdraw_dpa(data)
    data["models"]["gpt-4o"]["routes"].append({"provider": "nowhere", "model": "x"})
    return yaml.safe_dump(data)


def lost_key(data: dict[str, Any]) -> str:
    withdraw_dpa(data)
    data["providers"]["openai"]["api_key_env"] = "TEST_UNSET_KEY"
    return yaml.safe_dump(data)


def broken_detector(data: dict[str, Any]) -> str:
    withdraw_dpa(data)
    data["classification"]["custom"] = [{"tag": "acme.id", "pattern": "(?<=a)b"}]
    return yaml.safe_dump(data)


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        (yaml_error, "invalid YAML (line"),
        (misspelt_attribute, "providers.openai.compliance.bba"),
        (unknown_provider, "route provider 'nowhere' is not defined"),
        (lost_key, "TEST_UNSET_KEY is not set, and the running key would be lost"),
        (broken_detector, "acme.id: pattern"),
    ],
)
async def test_a_broken_file_keeps_the_running_config(
    live: Live, broken: Callable[[dict[str, Any]], str], reason: str
) -> None:
    revision = live.revision
    live.write(broken(live.data))
    assert await live.reload() is False
    assert live.revision == revision
    assert live.metric("llm_router_config_reload_errors_total") == 1
    assert live.metric("llm_router_config_reloads_total") == 0
    assert await live.route() == "openai:gpt-4o"  # still the running compliance attributes
    status, body = await live.readyz()
    assert status == 200 and body["ready"] is True  # degraded information, still serving
    assert body["config"]["revision"] == revision
    assert reason in body["config"]["error"]
    assert HEADER_VALUE not in orjson.dumps(body).decode()

    live.data = live_config(live.upstreams, watch=False)
    live.change(withdraw_dpa)  # the operator fixes the file: it applies, the error clears
    assert await live.reload() is True
    assert await live.route() == "google:gemini-2.5-flash"
    assert (await live.readyz())[1]["config"]["error"] is None
    assert live.metric("llm_router_config_reload_errors_total") == 1


async def test_a_request_in_flight_finishes_on_the_parts_it_started_with(live: Live) -> None:
    old_openai, old_google = live.sidecar.upstreams["openai"], live.sidecar.upstreams["google"]
    old_session = old_openai.session
    assert old_session is not None
    live.upstreams["openai"].faults.append(Fault("stall_stream", seconds=0.5, after=1))
    stream = await live.client.chat.completions.create(
        model="gpt-4o", messages=user(PII), stream=True
    )
    chunks = aiter(stream)
    first = await anext(chunks)  # the stream is under way, on the openai session

    live.change(withdraw_dpa)
    assert await live.reload() is True
    assert live.sidecar.upstreams["openai"] is not old_openai  # changed: a new upstream
    assert live.sidecar.upstreams["google"] is old_google  # unchanged: kept, session and all
    assert await live.route() == "google:gemini-2.5-flash"  # the next request: new config
    assert not old_session.closed  # still relaying the stream

    text = (first.choices[0].delta.content or "") + "".join(
        [c.choices[0].delta.content or "" async for c in chunks if c.choices]
    )
    assert text == "[served by openai] model=gpt-4o: ok"
    await wait_for(lambda: old_session.closed, within_s=2.0)
    assert old_openai.session is None
    assert old_google.session is not None and not old_google.session.closed

    streamed, after = sorted(await live.records(2), key=lambda r: r["stream"], reverse=True)
    assert streamed["attempts"][0]["route"] == "openai:gpt-4o"
    assert streamed["outcome"]["status"] == 200
    assert streamed["config_revision"] != after["config_revision"] == live.revision


async def test_a_session_kept_by_one_reload_stays_open_for_requests_older_than_it(
    live: Live,
) -> None:
    old_openai = live.sidecar.upstreams["openai"]
    session = old_openai.session
    assert session is not None
    live.upstreams["openai"].faults.append(Fault("stall_stream", seconds=0.5, after=1))
    stream = await live.client.chat.completions.create(
        model="gpt-4o", messages=user(PII), stream=True
    )
    chunks = aiter(stream)
    await anext(chunks)

    def google_gains_zdr(data: dict[str, Any]) -> None:
        data["providers"]["google"]["compliance"]["zdr"] = True

    live.change(google_gains_zdr)  # openai unchanged: the stream's upstream is kept
    assert await live.reload() is True
    assert live.sidecar.upstreams["openai"] is old_openai
    live.change(withdraw_dpa)  # now openai is replaced, while the first pipeline still runs
    assert await live.reload() is True
    assert live.sidecar.upstreams["openai"] is not old_openai
    await asyncio.sleep(0)
    assert not session.closed
    rest = [c.choices[0].delta.content or "" async for c in chunks if c.choices]
    assert "".join(rest).endswith(": ok")
    await wait_for(lambda: session.closed, within_s=2.0)


async def test_keys_that_need_a_restart_are_kept_and_reported(live: Live) -> None:
    port = live.sidecar.config.listen.port

    def edit(data: dict[str, Any]) -> None:
        data["listen"]["port"] = 18080
        data["limits"] = {"max_messages": 1}

    live.change(edit)
    assert await live.reload() is True
    assert live.sidecar.config.listen.port == port  # kept until the next start
    assert live.sidecar.config.limits.max_messages == 1  # applied
    with pytest.raises(openai.BadRequestError, match="the limit is 1"):
        await live.client.chat.completions.create(model="gpt-4o", messages=user("a") * 2)
    assert (await live.readyz())[1]["config"]["restart_required"] == ["listen.port"]
    assert live.metric("llm_router_config_restart_required_total", key="listen") == 1
    live.change(lambda data: None)  # rewritten, same content: counted once, not per reload
    assert await live.reload() is True
    assert live.metric("llm_router_config_restart_required_total", key="listen") == 1


async def test_breakers_keep_their_state_for_routes_that_remain(live: Live) -> None:
    breakers = live.sidecar.breakers
    kept = breakers.get("openai:gpt-4o")
    assert kept is not None
    for _ in range(kept.threshold):
        ticket = kept.admit()
        assert ticket is not None
        ticket.failure()
    assert breakers.states() == {"openai:gpt-4o": "open"}

    def edit(data: dict[str, Any]) -> None:
        data["providers"]["openai"]["circuit_breaker"] = {"failures": 2, "cooldown_s": 7}
        data["models"]["embed-small"]["routes"].pop()  # openai:text-embedding-3-small

    live.change(edit)
    assert await live.reload() is True
    assert breakers.get("openai:gpt-4o") is kept and (kept.threshold, kept.cooldown) == (2, 7)
    assert breakers.states() == {"openai:gpt-4o": "open"}
    assert breakers.get("openai:text-embedding-3-small") is None
    gauge = "llm_router_circuit_state"
    registry = live.sidecar.metrics.registry
    assert registry.get_sample_value(gauge, {"route": "openai:text-embedding-3-small"}) is None
    assert registry.get_sample_value(gauge, {"route": "openai:gpt-4o"}) == 2


async def test_a_changed_classifier_is_built_aside_then_used(live: Live) -> None:
    def edit(data: dict[str, Any]) -> None:
        words = [{"tag": "pii.codename", "words": ["bluebird"]}]
        data["classification"]["keywords"] = words

    assert await live.route("status of bluebird") == "openrouter:openai/gpt-4o"
    live.change(edit)
    assert await live.reload() is True
    assert await live.route("status of bluebird") == "openai:gpt-4o"  # pii now: needs a DPA
    assert (await live.records(2))[-1]["classification"]["tags"] == {"pii.codename": 1}


def test_a_running_passthrough_endpoint_keeps_its_model() -> None:
    base = """
providers:
  p: {kind: direct, base_url: "http://127.0.0.1:1/v1"}
models:
  m: {routes: [{provider: p, model: m}]}
  n: {routes: [{provider: p, model: n}]}
"""
    running = parse_config(
        base + "passthrough: [{path: /v1/moderations, upstream_path: /moderations, model: m}]",
        "cfg.yaml",
        {},
    )
    loaded = parse_config(base.replace("  m: {routes: [{provider: p, model: m}]}\n", ""), "c", {})
    with pytest.raises(ConfigError, match=r"model 'm' is not a model(.|\n)*passthrough"):
        carry_over(running, loaded, "cfg.yaml")


async def test_sighup_reloads_a_served_process(
    upstreams: dict[str, Emulator], tmp_path: Path
) -> None:
    urls = {name: emu.base_url for name, emu in upstreams.items()}
    process = await SidecarProcess(config_dict(urls, reload={"watch": False}), tmp_path).start()
    cfg_file = tmp_path / "config.yaml"
    try:
        async with aiohttp.ClientSession() as session:

            async def route() -> str:
                body = {"model": "gpt-4o", "messages": user(PII)}
                url = process.listen + "/v1/chat/completions"
                headers = {"Authorization": f"Bearer {APP_KEY}"}
                async with session.post(url, json=body, headers=headers) as response:
                    assert response.status == 200
                    return response.headers["x-llm-router-route"]

            async def config_status() -> dict[str, Any]:
                async with session.get(process.admin + "/readyz") as response:
                    status: dict[str, Any] = orjson.loads(await response.read())["config"]
                    return status

            before = await config_status()
            assert await route() == "openai:gpt-4o"
            data = yaml.safe_load(cfg_file.read_text())  # a copy of its own
            withdraw_dpa(data)
            cfg_file.write_text(yaml.safe_dump(data))
            os.kill(process.pid, signal.SIGHUP)
            for _ in range(500):
                if (await config_status())["revision"] != before["revision"]:
                    break
                await asyncio.sleep(0.01)
            assert await route() == "google:gemini-2.5-flash"
            assert process.proc is not None and process.proc.returncode is None
    finally:
        await process.stop()
