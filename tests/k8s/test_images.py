"""The sidecar's image, which holds its keys: a pod may name only what the settings allow.

Built through the same patch builder the webhook and `llm-router inject` use; the webhook
refusal tests send the same cases over HTTPS, and the inject tests through the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonpatch
import pytest

from sidecar.k8s.images import parse_pattern, parse_reference
from sidecar.k8s.patch import Injection, build
from sidecar.k8s.settings import InjectorSettings
from tests.k8s.support import pod, settings_error, validate

ANNOTATED = {"llm-router.io/inject": "true"}
SETTINGS = InjectorSettings()
REPO = "registry.example.com/llm-router"
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def build_for(image: str, settings: InjectorSettings, namespace: str = "claims") -> Injection:
    p = pod(annotations={**ANNOTATED, "llm-router.io/image": image})
    return build(p, namespace, settings, require_opt_in=True)


def sidecar_image(image: str, settings: InjectorSettings, namespace: str = "claims") -> str:
    p = pod(annotations={**ANNOTATED, "llm-router.io/image": image})
    result = build(p, namespace, settings, require_opt_in=True)
    assert result.injected, result.refused
    patched: dict[str, Any] = jsonpatch.apply_patch(p, result.patch)
    validate(patched)
    name: str = patched["spec"]["initContainers"][0]["image"]
    return name


def test_an_image_the_settings_do_not_list_is_refused_not_injected() -> None:
    result = build_for("evil.example.com/exfiltrate:1", SETTINGS)
    assert not result.injected and result.patch == []
    assert [r.reason for r in result.refusals] == ["image not allowed"]
    assert result.refused == (
        "llm-router: annotation llm-router.io/image='evil.example.com/exfiltrate:1' is not "
        "allowed in namespace 'claims': the sidecar's image runs with its keys; the injector "
        "settings (image, images, overrides) allow only 'registry.example.com/llm-router:0.1.0'"
    )
    assert result.warnings == ()  # refused, not also "ignored"


def test_the_settings_image_may_always_be_named() -> None:
    assert sidecar_image(SETTINGS.image, SETTINGS) == SETTINGS.image


ALLOW_LIST = (
    f"{REPO}:0.2.0",
    f"{REPO}@{A}",
    "registry.example.com/pinned@*",
    "registry.example.com/any:*",
    "localhost:5000/bare",
)


@pytest.mark.parametrize(
    ("image", "allowed"),
    [
        (f"{REPO}:0.2.0", True),
        (f"{REPO}:0.2.1", False),
        (f"{REPO}:0.2.0@{B}", False),  # the runtime pulls the digest, whatever the tag
        (f"{REPO}-evil:0.2.0", False),  # a longer repository name is another repository
        (f"evil.example.com/{REPO}:0.2.0", False),
        (f"{REPO}@{A}", True),
        (f"{REPO}:anything@{A}", True),
        (f"{REPO}@{B}", False),
        (f"registry.example.com/other@{A}", False),
        (f"registry.example.com/pinned@{B}", True),
        ("registry.example.com/pinned:1.0", False),  # `@*` asks for a digest
        (f"registry.example.com/pinned/sub@{B}", False),
        ("registry.example.com/any:1.0", True),
        (f"registry.example.com/any@{B}", True),
        ("registry.example.com/anyx:1.0", False),
        ("localhost:5000/bare", True),
        ("localhost:5000/bare:latest", True),  # no tag means latest
        ("localhost:5000/bare:1", False),
        ("REGISTRY.example.com/any:1.0", False),  # compared as written, never guessed at
    ],
)
def test_allow_list_entries_trust_exactly_what_they_say(image: str, allowed: bool) -> None:
    settings = InjectorSettings(images=ALLOW_LIST)
    if allowed:
        assert sidecar_image(image, settings) == image
    else:
        result = build_for(image, settings)
        assert [r.reason for r in result.refusals] == ["image not allowed"]
        assert result.patch == []


def test_images_are_allowed_per_namespace_or_everywhere() -> None:
    settings = InjectorSettings.model_validate(
        {
            "images": [f"{REPO}@{A}"],
            "overrides": {"claims": {"images": [f"{REPO}:0.3.0-rc1"]}},
        }
    )
    assert sidecar_image(f"{REPO}:0.3.0-rc1", settings) == f"{REPO}:0.3.0-rc1"
    billing = build_for(f"{REPO}:0.3.0-rc1", settings, "billing")
    assert "allow only 'registry.example.com/llm-router:0.1.0', " in str(billing.refused)
    assert f"'{REPO}@{A}'" in str(billing.refused) and "0.3.0-rc1'" in str(billing.refused)
    for namespace in ("claims", "billing"):
        assert sidecar_image(f"{REPO}@{A}", settings, namespace) == f"{REPO}@{A}"
    nowhere = build_for(f"{REPO}:0.3.0-rc1", settings, "")
    assert "is not allowed in a pod without a namespace:" in str(nowhere.refused)


@pytest.mark.parametrize(
    "value",
    [
        "https://builder:s3cret-token@evil.example.com/x:1",
        "evil.example.com/x:1\nregistry.example.com/llm-router:0.1.0",
        "registry.example.com/llm-router:0.1.0 ",
        "evil.example.com/x@sha256:short",
        "x" * 5000,
    ],
    ids=["credentials", "newline", "space", "bad-digest", "huge"],
)
def test_a_value_that_is_no_image_reference_is_refused_and_never_echoed(value: str) -> None:
    result = build_for(value, InjectorSettings(images=("evil.example.com/x:*",)))
    assert [r.reason for r in result.refusals] == ["image not allowed"]
    assert "llm-router.io/image=an invalid image reference is not allowed" in str(result.refused)
    for text in (str(result.refused), *result.warnings):
        assert value not in text and "s3cret" not in text


def test_the_parsed_reference_is_what_a_runtime_would_pull() -> None:
    ref = parse_reference(f"localhost:5000/team/llm-router:0.2.0@{A}")
    assert ref is not None
    assert (ref.name, ref.tag, ref.digest) == ("localhost:5000/team/llm-router", "0.2.0", A)
    assert parse_pattern(f"{REPO}@*").any_digest and parse_pattern(f"{REPO}:*").any_tag


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("images: ['registry.example.com/llm-router*']", "images: Value error, not an image"),
        ("images: ['registry.example.com/x:1@sha256:abc']", "images: Value error"),
        ("images: ['https://r.example.com/x:1']", "images: Value error"),
        ("overrides: {claims: {images: ['r.example.com/x:**']}}", "overrides.claims.images"),
        ("overrides: {claims: {image: ['r.example.com/x:1']}}", "claims.image: unknown key"),
    ],
)
def test_invalid_image_allow_lists_are_errors(tmp_path: Path, text: str, problem: str) -> None:
    assert problem in settings_error(tmp_path, text)
