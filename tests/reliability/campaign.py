"""The fault campaign's requests: a seeded mix of APIs, models, streaming, data classes with
planted regulated values, and bad input. Each request carries a unique marker, so that any
body an upstream received can be traced back to the request it came from."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from stdnum import iban, luhn

MARKER = re.compile(rb"case-(\d{6})")
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

KINDS: tuple[tuple[str, float], ...] = (
    ("public", 30),
    ("pii", 22),
    ("phi", 14),
    ("pci", 12),
    ("secret", 8),
    ("bad_json", 3),
    ("too_deep", 2),
    ("too_many_messages", 2),
    ("too_large", 2),
    ("wrong_type", 2),
)
EXPECTED_REFUSAL = {
    "secret": (403, "policy_denied"),
    "bad_json": (400, "invalid_json"),
    "too_deep": (400, "too_deep"),
    "too_many_messages": (400, "too_many_messages"),
    "too_large": (413, "request_too_large"),
    "wrong_type": (415, "unsupported_media_type"),
}
"""Kinds that must never reach any upstream, and what the app gets instead."""

MAY_GO_TO = {
    "public": {"openrouter", "openai", "google", "anthropic"},
    "pci": {"openrouter", "openai", "google", "anthropic"},  # card number redacted
    "pii": {"openai", "google", "anthropic"},  # needs a DPA
    "phi": {"google", "anthropic"},  # needs a DPA and a BAA
}
"""The independent oracle: which providers each data class may reach (the fixture's
compliance facts and the default policy's data.json), whatever the audit record says."""

MAX_MESSAGES = 64
MAX_BODY_BYTES = 256 * 1024


def planted_values(i: int) -> dict[str, str]:
    """Valid, unique regulated values for request `i` (checksums and all)."""
    pan_body = "4" + f"{(i * 7919 + 123456789) % 10**14:014d}"
    pan = pan_body + luhn.calc_check_digit(pan_body)
    bban = f"37040044{(i * 104729) % 10**10:010d}"
    iban_value = "DE" + iban.calc_check_digits("DE00" + bban) + bban
    n = (i + 1) * 2654435761 % 32**16
    return {
        "email": f"patient.{i}@clinic{i % 7}.org",
        "iban": " ".join(iban_value[k : k + 4] for k in range(0, len(iban_value), 4)),
        "ssn": f"{100 + i % 500:03d}-{10 + (i // 500) % 89:02d}-{1000 + i:04d}",
        "pan": " ".join(pan[k : k + 4] for k in range(0, 16, 4)),
        "aws_key": "AKIA" + "".join(B32[(n >> (5 * k)) & 31] for k in range(16)),
    }


@dataclass
class Case:
    index: int
    api: str  # "openai" | "anthropic"
    model: str
    stream: bool
    kind: str
    via_sdk: bool
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    planted: dict[str, str] = field(default_factory=dict)
    """Values that must only reach the providers MAY_GO_TO allows for this kind."""
    never_forwarded: tuple[str, ...] = ()
    """Values that must reach no upstream at all (the card number is redacted)."""

    @property
    def marker(self) -> str:
        return f"case-{self.index:06d}"

    @property
    def path(self) -> str:
        return "/v1/chat/completions" if self.api == "openai" else "/v1/messages"

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed


def make_case(i: int, rng: random.Random, sdk_share: float) -> Case:
    kind = rng.choices([k for k, _ in KINDS], weights=[w for _, w in KINDS])[0]
    api = rng.choice(("openai", "anthropic"))
    model = rng.choice(("gpt-4o", "claude-sonnet-5"))
    stream = rng.random() < 0.5
    marker = f"case-{i:06d}"
    values = planted_values(i)
    headers: dict[str, str] = {"Content-Type": "application/json"}
    planted: dict[str, str] = {}
    never: tuple[str, ...] = ()
    text = f"[{marker}] Summarise the quarterly report in three bullet points."
    if kind == "pii":
        planted = {"email": values["email"], "iban": values["iban"]}
        text = f"[{marker}] Remind {values['email']} that IBAN {values['iban']} is overdue."
    elif kind == "phi":
        planted = {"ssn": values["ssn"]}
        headers["X-LLM-Data-Class"] = "phi"
        text = f"[{marker}] Patient SSN {values['ssn']} has type 2 diabetes; draft a care plan."
    elif kind == "pci":
        never = (values["pan"], values["pan"].replace(" ", ""))
        text = f"[{marker}] Why was card {values['pan']} declined yesterday?"
    elif kind == "secret":
        never = (values["aws_key"],)
        text = f"[{marker}] Why does boto3 reject my key {values['aws_key']}?"
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if api == "anthropic":
        body["max_tokens"] = 256
    if stream:
        body["stream"] = True
    if kind == "too_many_messages":
        turn = [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]
        body["messages"] = turn * (MAX_MESSAGES // 2 + 1) + [{"role": "user", "content": text}]
    elif kind == "too_deep":
        nested: Any = text
        for _ in range(80):
            nested = [nested]
        body["metadata_nested"] = nested
    elif kind == "too_large":
        body["messages"][0]["content"] = text + " padding" * (MAX_BODY_BYTES // 8 + 16)
    raw = orjson.dumps(body)
    if kind == "bad_json":
        raw = raw[: len(raw) // 2 + len(marker)]
        if not raw.count(marker.encode()):
            raw = b'{"note": "' + marker.encode() + b'", ' + raw[1:]
    if kind == "wrong_type":
        headers["Content-Type"] = "text/plain"
    return Case(
        index=i,
        api=api,
        model=model,
        stream=stream,
        kind=kind,
        via_sdk=kind in MAY_GO_TO and rng.random() < sdk_share,
        body=raw,
        headers=headers,
        planted=planted,
        never_forwarded=never,
    )
