"""An operator-declared pass-through endpoint: only with routes, decided by the policy like
any request, its whole body scanned; and refused at start-up when it could not be served."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from pydantic import ValidationError

from sidecar.config import Config
from tests.conftest import Harness, HarnessFactory, config_dict
from tests.test_routing import SSN

MODERATION = {
    "moderation": {
        "routes": [
            {"provider": "openrouter", "model": "openai/omni-moderation-latest"},
            {"provider": "openai", "model": "omni-moderation-latest"},
        ]
    }
}
ENDPOINT = {
    "path": "/v1/moderations",
    "format": "openai",
    "upstream_path": "/moderations",
    "model": "moderation",
}


@pytest.fixture
async def h(make_harness: HarnessFactory) -> Harness:
    base = config_dict(
        {n: "http://127.0.0.1:1" for n in ("openrouter", "openai", "google", "anthropic")}
    )
    harness: Harness = await make_harness(
        models={**base["models"], **MODERATION}, passthrough=[ENDPOINT]
    )
    return harness


async def test_a_public_body_goes_to_the_aggregator_with_the_route_model(h: Harness) -> None:
    result = await h.client.moderations.create(input="is this fine?", model="moderation")
    assert result.results[0].flagged is False
    [sent] = h.upstreams["openrouter"].received
    assert sent.path == "/v1/moderations" and sent.json["model"] == "openai/omni-moderation-latest"
    assert h.audit_records()[-1]["api"] == "openai.passthrough"


async def test_the_whole_body_is_scanned(h: Harness) -> None:
    await h.client.moderations.create(
        input="hello", model="moderation", extra_body={"note": {"customer": SSN}}
    )
    assert not h.upstreams["openrouter"].received
    assert len(h.upstreams["openai"].received) == 1
    assert h.audit_records()[-1]["classification"]["tags"] == {"pii.ssn": 1}


async def test_the_model_must_be_the_endpoints_own(h: Harness) -> None:
    with pytest.raises(openai.BadRequestError):
        await h.client.moderations.create(input="hi", model="gpt-4o")
    assert not any(emu.received for emu in h.upstreams.values())


async def test_an_undeclared_endpoint_is_still_a_404(h: Harness) -> None:
    with pytest.raises(openai.NotFoundError):
        await h.client.images.generate(prompt="a cat", model="dall-e-3")
    assert not any(emu.received for emu in h.upstreams.values())


def _config(**endpoint: Any) -> dict[str, Any]:
    data = config_dict(
        {n: "http://127.0.0.1:1" for n in ("openrouter", "openai", "google", "anthropic")}
    )
    data["models"].update(MODERATION)
    data["passthrough"] = [{**ENDPOINT, **endpoint}]
    return data


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ({"path": "/v1/chat/completions"}, "served by the sidecar itself"),
        ({"path": "/moderations"}, "must be /v1/"),
        ({"model": "nope"}, "is not a model"),
        ({"model": "claude-sonnet-5"}, "not openai"),  # its Anthropic route cannot serve it
        ({"upstream_path": "../admin"}, "absolute path"),
    ],
)
def test_an_endpoint_that_could_not_be_served_stops_start_up(
    endpoint: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Config.model_validate(_config(**endpoint))
