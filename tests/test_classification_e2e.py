"""Classification settings through a running sidecar, and the `classify` command."""

from __future__ import annotations

import orjson

from tests.conftest import HarnessFactory, run_cli
from tests.test_routing import user


async def test_truncated_scan_counts_as_regulated(make_harness: HarnessFactory) -> None:
    h = await make_harness(classification={"scan_budget_bytes": 64})
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("a perfectly public question " * 10)
    )
    assert raw.headers["x-llm-router-route"] == "google:gemini-2.5-flash"
    [record] = h.audit_records()
    assert record["classification"]["truncated"] is True
    assert any(r.startswith("classification truncated") for r in record["policy"]["reasons"])
    assert h.received_by("openrouter") == 0


async def test_last4_mask_reaches_the_upstream(make_harness: HarnessFactory) -> None:
    h = await make_harness(classification={"masks": {"pci.pan": "last4"}})
    await h.client.chat.completions.create(
        model="gpt-4o", messages=user("Card 4111 1111 1111 1111 was declined")
    )
    sent = h.upstreams["openrouter"].received[0].json
    assert sent["messages"][0]["content"] == "Card **** **** **** 1111 was declined"


async def test_custom_keyword_makes_a_request_confidential(make_harness: HarnessFactory) -> None:
    h = await make_harness(
        classification={"keywords": [{"tag": "confidential.codename", "words": ["Nightingale"]}]}
    )
    await h.client.chat.completions.create(model="gpt-4o", messages=user("Nightingale roadmap"))
    sent = h.upstreams["openrouter"].received[0].json
    assert sent["provider"] == {"data_collection": "deny", "zdr": True}
    [record] = h.audit_records()
    assert record["classification"]["level"] == "confidential"
    assert record["classification"]["tags"] == {"confidential.codename": 1}


def test_classify_command_masks_values_and_speaks_jsonl(tmp_path: object) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "in.txt"
    path.write_text("Card 4111 1111 1111 1111 for jane@example.com")
    human = run_cli("classify", str(path))
    assert human.returncode == 0
    assert "pci.pan" in human.stdout and "pii.email" in human.stdout
    assert "4111 1111 1111 1111" not in human.stdout and "jane@example.com" not in human.stdout
    lines = pathlib.Path(str(tmp_path)) / "in.jsonl"
    lines.write_text(
        '{"id": "1", "text": "ssn 536-22-8457"}\n{"id": "2", "text": "\\u200bno\\u200b findings"}\n'
    )
    out = run_cli("classify", "--jsonl", str(lines))
    first, second = (orjson.loads(x) for x in out.stdout.splitlines())
    assert first == {
        "id": "1",
        "level": "regulated",
        "categories": ["pii"],
        "findings": [{"tag": "pii.ssn", "start": 4, "end": 15, "confidence": 0.9}],
    }
    assert second["findings"] == [] and second["level"] == "public"
