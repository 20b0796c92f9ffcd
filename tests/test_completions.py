"""The legacy text completions API (`POST /v1/completions`) through the openai SDK: served
by OpenAI-format routes, streamed, its prompt scanned, token-id prompts declared."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import Harness
from tests.test_routing import SSN


async def test_a_public_prompt_goes_to_the_aggregator(harness: Harness) -> None:
    done = await harness.client.completions.create(model="gpt-4o", prompt="Say hi", max_tokens=5)
    assert done.object == "text_completion"
    assert "served by openrouter" in done.choices[0].text
    assert done.usage is not None and done.usage.total_tokens > 0
    sent = harness.upstreams["openrouter"].received[0]
    assert sent.path == "/v1/completions" and sent.json["model"] == "openai/gpt-4o"


async def test_a_regulated_prompt_is_kept_off_the_aggregator_and_streams(harness: Harness) -> None:
    stream = await harness.client.completions.create(
        model="gpt-4o", prompt=[f"customer ssn {SSN}"], stream=True
    )
    text = "".join([chunk.choices[0].text async for chunk in stream if chunk.choices])
    assert "served by openai" in text
    assert not harness.upstreams["openrouter"].received
    record = harness.audit_records()[-1]
    assert record["api"] == "openai.completions"
    assert record["classification"]["tags"] == {"pii.ssn": 1}


async def test_token_id_prompts_are_declared_unscanned(harness: Harness) -> None:
    await harness.client.completions.create(model="gpt-4o", prompt=[1, 2, 3])
    record = harness.audit_records()[-1]
    assert record["classification"]["unscanned"] == ["tokens"]
    assert not harness.upstreams["openrouter"].received


async def test_completions_have_no_anthropic_route(harness: Harness) -> None:
    """claude-sonnet-5's routes are the aggregator and Anthropic; Anthropic has no text
    completions, so a regulated prompt has nowhere to go: a clear 400, nothing sent."""
    with pytest.raises(openai.BadRequestError) as err:
        await harness.client.completions.create(model="claude-sonnet-5", prompt=f"ssn {SSN}")
    assert "completions" in str(err.value)
    assert not any(emu.received for emu in harness.upstreams.values())
