"""policies/input.schema.json describes the policy input (contract v1): every decision
vector's input and the README's example validate against it, and it refuses what the
sidecar never sends."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from sidecar.policy import EmbeddedEngine
from sidecar.policy.embedded import SMOKE_INPUT
from tests.conftest import ROOT
from tests.policy.support import POLICIES, VECTORS, load_vector

SCHEMA_FILE = POLICIES / "input.schema.json"
KINDS = ["image", "audio", "remote_url", "file_ref", "tokens", "pdf", "binary", "encrypted"]
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def schema() -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(SCHEMA_FILE.read_bytes())
    return document


def formats() -> jsonschema.FormatChecker:
    """date-time checked here: jsonschema needs an extra package for it otherwise."""
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not RFC3339.match(value):
            raise ValueError(f"{value!r} is not RFC 3339")
        datetime.fromisoformat(value)
        return True

    return checker


def problems(policy_input: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema(), format_checker=formats())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(policy_input)
    ]


def readme_blocks() -> list[Any]:
    """The ```json blocks after "## The policy contract (v1)" in README.md, in order."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## The policy contract (v1)") :]
    section = section[: section.index("\n## ", 1)]
    return [orjson.loads(b) for b in re.findall(r"```json\n(.*?)\n```", section, re.DOTALL)]


def readme_example() -> dict[str, Any]:
    """The first of them: the example input."""
    example: dict[str, Any] = readme_blocks()[0]
    return example


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_every_vector_input_validates(path: Path) -> None:
    assert problems(load_vector(path)["input"]) == []


def test_the_readme_example_validates_and_shows_the_new_fields() -> None:
    example = readme_example()
    assert problems(example) == []
    assert {"resolved_model", "model_names", "time"} <= set(example["request"])
    assert {"content_level", "unscanned", "truncated"} <= set(example["classification"])


async def test_the_readme_decision_is_the_shipped_policys() -> None:
    shown = readme_blocks()[1]
    decision = await EmbeddedEngine.load(POLICIES, timeout_ms=1000).decide(readme_example())
    assert decision.allow is shown["allow"]
    assert list(decision.routes) == shown["routes"]
    assert list(decision.reasons) == shown["reasons"]
    assert list(decision.obligations.redact) == shown["obligations"]["redact"]
    assert decision.obligations.provider_preferences == shown["obligations"]["provider_preferences"]


def test_the_sidecar_sample_input_validates() -> None:
    assert problems(SMOKE_INPUT) == []


def test_vectors_use_the_new_fields() -> None:
    inputs = [load_vector(p)["input"] for p in VECTORS]
    assert any(i["classification"].get("unscanned") for i in inputs)
    assert any(
        i["request"].get("resolved_model", i["request"]["model"]) != i["request"]["model"]
        for i in inputs
    )


def test_the_new_fields_are_optional() -> None:
    example = readme_example()
    for field in ("resolved_model", "model_names", "time"):
        del example["request"][field]
    for field in ("content_level", "unscanned", "truncated"):
        del example["classification"][field]
    assert problems(example) == []


def test_unscanned_kinds_are_the_documented_ones() -> None:
    assert schema()["$defs"]["unscanned_kind"]["enum"] == KINDS
    defaults = orjson.loads((POLICIES / "data.json").read_bytes())["llm_router_config"]
    assert list(defaults["unscanned_requirements"]) == KINDS
    assert all(v == ["dpa"] for v in defaults["unscanned_requirements"].values())
    rules = (POLICIES / "router_unscanned.rego").read_text()
    guide = (POLICIES / "README.md").read_text()
    for kind in KINDS:
        assert f"`{kind}`" in guide, kind
        assert kind in rules, kind


def mutated(change: dict[str, Any]) -> dict[str, Any]:
    """The README example with `change` ({"a/b": value}) applied; None deletes."""
    example = copy.deepcopy(readme_example())
    for path, value in change.items():
        *parents, last = path.split("/")
        target = example
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return example


@pytest.mark.parametrize(
    "change",
    [
        {"classification/unscanned": ["video"]},
        {"classification/unscanned": "image"},
        {"classification/unscanned": ["image", "image"]},
        {"classification/content_level": "secret"},
        {"classification/level": None},
        {"classification/tags": {"pii.ssn": "123-45-6789"}},
        {"classification/prompt": "the text"},
        {"request/model_names": []},
        {"request/model_names": "gpt-4o"},
        {"request/resolved_model": 4},
        {"request/time": "yesterday"},
        {"request/declared": {"data_class": "top-secret"}},
        {"routes": [{"id": "a:m", "provider": "a", "kind": "relay", "model": "m"}]},
        {"version": 2},
        {"extra": True},
    ],
    ids=lambda change: next(iter(change)) + "=" + repr(next(iter(change.values()))),
)
def test_what_the_sidecar_never_sends_is_refused(change: dict[str, Any]) -> None:
    assert problems(mutated(change)) != []
