"""Pods the webhook denies over HTTPS: the AdmissionReview a refusal gets, and its counter."""

from __future__ import annotations

from pathlib import Path

from sidecar.k8s.settings import InjectorSettings
from tests.k8s.support import admission_review, pod
from tests.k8s.webhook_server import ANNOTATED, Server, patched, serve


async def test_a_pod_that_would_weaken_the_sidecar_is_denied_with_a_reason(
    server: Server,
) -> None:
    uid = InjectorSettings().run_as_user
    p = pod(
        annotations=ANNOTATED,
        containers=[{"name": "app", "image": "a:1", "securityContext": {"runAsUser": uid}}],
        shareProcessNamespace=True,
    )
    response = await server.review("/inject/object", admission_review(p), allowed=False)
    assert "patch" not in response and "patchType" not in response
    assert response["status"] == {
        "code": 403,
        "reason": "Forbidden",
        "message": f"llm-router: container 'app' runs as UID {uid}, the sidecar's own, which "
        "would let it read the sidecar's keys: give it another runAsUser",
    }
    assert response["warnings"] == [
        "llm-router: shareProcessNamespace lets app containers that run as root or with "
        "SYS_PTRACE read the sidecar's keys"
    ]
    assert await server.metric("refused", "sidecar uid") == 1
    # Shared process namespace alone: injected, with the warning for kubectl.
    shared = pod(annotations=ANNOTATED, shareProcessNamespace=True)
    response = await server.review("/inject/namespace", admission_review(shared))
    assert response["warnings"] == [
        "llm-router: shareProcessNamespace lets app containers that run as root or with "
        "SYS_PTRACE read the sidecar's keys"
    ]
    patched(shared, response)


async def test_a_config_map_not_on_the_allow_list_is_denied(server: Server) -> None:
    p = pod(annotations={**ANNOTATED, "llm-router.io/config-map": "claims-router-config"})
    response = await server.review("/inject/object", admission_review(p), allowed=False)
    assert response["status"]["message"] == (
        "llm-router: annotation llm-router.io/config-map='claims-router-config' is not allowed "
        "in namespace 'claims'; the injector settings (overrides) allow only 'llm-router-config'"
    )
    assert await server.metric("refused", "override not allowed") == 1


async def test_settings_decide_what_is_refused(tmp_path: Path) -> None:
    settings = InjectorSettings.model_validate(
        {
            "share_process_namespace": "refuse",
            "app_base_url": "refuse",
            "overrides": {"claims": {"config_maps": ["claims-router-config"]}},
        }
    )
    own_url = [
        {
            "name": "app",
            "image": "a:1",
            "env": [
                {"name": "OPENAI_BASE_URL", "value": "https://api.openai.com/v1"},
                {
                    "name": "OPENAI_API_KEY",
                    "valueFrom": {"secretKeyRef": {"name": "k", "key": "k"}},
                },
            ],
        }
    ]
    async with serve(tmp_path, settings) as server:
        allowed = pod(annotations={**ANNOTATED, "llm-router.io/config-map": "claims-router-config"})
        result = patched(allowed, await server.review("/inject/object", admission_review(allowed)))
        names = {v["name"]: v.get("configMap", {}).get("name") for v in result["spec"]["volumes"]}
        assert names["llm-router-config"] == "claims-router-config"
        shared = pod(annotations=ANNOTATED, shareProcessNamespace=True)
        response = await server.review("/inject/object", admission_review(shared), allowed=False)
        assert "share_process_namespace: refuse" in response["status"]["message"]
        app = pod(annotations=ANNOTATED, containers=own_url)
        response = await server.review("/inject/object", admission_review(app), allowed=False)
        assert (
            "container 'app' sets OPENAI_BASE_URL to something other than the sidecar"
            in (response["status"]["message"])
        )
        assert await server.metric("refused", "shared process namespace") == 1
        assert await server.metric("refused", "own provider url") == 1
        assert await server.metric("injected", "injected") == 1


async def test_a_sidecar_image_the_settings_do_not_list_is_denied(tmp_path: Path) -> None:
    pinned = "registry.example.com/llm-router@sha256:" + "c" * 64
    settings = InjectorSettings.model_validate(
        {"overrides": {"claims": {"images": ["registry.example.com/llm-router@*"]}}}
    )
    async with serve(tmp_path, settings) as server:
        chosen = pod(annotations={**ANNOTATED, "llm-router.io/image": "evil.example.com/keys:1"})
        response = await server.review("/inject/object", admission_review(chosen), allowed=False)
        assert "patch" not in response and "warnings" not in response
        assert response["status"] == {
            "code": 403,
            "reason": "Forbidden",
            "message": "llm-router: annotation llm-router.io/image='evil.example.com/keys:1' is "
            "not allowed in namespace 'claims': the sidecar's image runs with its keys; the "
            "injector settings (image, images, overrides) allow only "
            "'registry.example.com/llm-router:0.1.0', 'registry.example.com/llm-router@*'",
        }
        assert await server.metric("refused", "image not allowed") == 1
        listed = pod(annotations={**ANNOTATED, "llm-router.io/image": pinned})
        result = patched(listed, await server.review("/inject/object", admission_review(listed)))
        assert result["spec"]["initContainers"][0]["image"] == pinned
        # The same pod in another namespace: its allow-list has only the default.
        listed["metadata"]["namespace"] = "billing"
        other = admission_review(listed, namespace="billing")
        await server.review("/inject/object", other, allowed=False)
        assert await server.metric("refused", "image not allowed") == 2
        assert await server.metric("injected", "injected") == 1
