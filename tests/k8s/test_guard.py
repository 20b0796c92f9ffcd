"""Pods that would weaken the sidecar: refused (or warned about) instead of injected.

Each case is built through the same patch builder the webhook and `llm-router inject` use;
the webhook tests send some of them over HTTPS as AdmissionReviews too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonpatch
import pytest

from sidecar.k8s.patch import Injection, build
from sidecar.k8s.settings import InjectorSettings
from tests.k8s.support import pod, settings_error, validate

ANNOTATED = {"llm-router.io/inject": "true"}
SETTINGS = InjectorSettings()
UID = SETTINGS.run_as_user


def strict() -> InjectorSettings:
    """Strict mode: app containers may point their SDKs only at the sidecar."""
    return InjectorSettings(app_base_url="refuse")


def injection(p: dict[str, Any], settings: InjectorSettings = SETTINGS) -> Injection:
    return build(p, "claims", settings, require_opt_in=True)


def injected(p: dict[str, Any], settings: InjectorSettings = SETTINGS) -> dict[str, Any]:
    result = injection(p, settings)
    assert result.injected, result.refused or result.skipped
    patched: dict[str, Any] = jsonpatch.apply_patch(p, result.patch)
    validate(patched)
    return patched


def refused(p: dict[str, Any], settings: InjectorSettings = SETTINGS) -> Injection:
    result = injection(p, settings)
    assert result.refused and not result.injected and result.patch == []
    return result


def app(**fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": "registry.example.com/claims-api:1.0.0", **fields}


def test_the_sidecar_runs_under_a_fixed_uid_and_group_of_its_own() -> None:
    settings = InjectorSettings(run_as_user=43210, run_as_group=43211)
    p = pod(annotations={**ANNOTATED, "llm-router.io/policy-engine": "opa"})
    p["spec"]["securityContext"] = {"runAsUser": 10001, "runAsGroup": 10001}
    for sidecar in injected(p, settings)["spec"]["initContainers"]:
        sc = sidecar["securityContext"]
        assert (sc["runAsUser"], sc["runAsGroup"], sc["runAsNonRoot"]) == (43210, 43211, True)
    # Not the image's USER, which is also distroless' `nonroot` that app images run as.
    assert SETTINGS.run_as_user not in (0, 65532, 65534) and SETTINGS.run_as_group != 0


@pytest.mark.parametrize(
    "where",
    ["container", "pod", "pod, container null", "init container"],
)
def test_an_app_container_with_the_sidecars_uid_is_refused(where: str) -> None:
    own = {"securityContext": {"runAsUser": UID}}
    if where == "container":
        p = pod(annotations=ANNOTATED, containers=[app(**own)])
    elif where == "pod":
        p = pod(annotations=ANNOTATED, securityContext={"runAsUser": UID})
    elif where == "pod, container null":
        p = pod(
            annotations=ANNOTATED,
            containers=[app(securityContext={"runAsUser": None})],
            securityContext={"runAsUser": UID},
        )
    else:
        p = pod(annotations=ANNOTATED, init_containers=[app(name="migrate", **own)])
    result = refused(p)
    assert result.refusals[0].reason == "sidecar uid"
    name = "migrate" if where == "init container" else "app"
    assert result.refused == (
        f"llm-router: container {name!r} runs as UID {UID}, the sidecar's own, which would "
        "let it read the sidecar's keys: give it another runAsUser"
    )


def test_a_container_uid_overrides_the_pods_and_other_uids_are_injected() -> None:
    p = pod(
        annotations=ANNOTATED,
        containers=[app(securityContext={"runAsUser": 10001})],
        securityContext={"runAsUser": UID},
    )
    injected(p)
    injected(pod(annotations=ANNOTATED, securityContext={"runAsUser": 65532}))


@pytest.mark.parametrize("field", ["shareProcessNamespace", "hostPID"])
def test_a_shared_process_namespace_is_warned_about_or_refused(field: str) -> None:
    p = pod(annotations=ANNOTATED)
    p["spec"][field] = True
    result = injection(p)
    assert result.injected
    assert result.warnings == (
        f"llm-router: {field} lets app containers that run as root or with SYS_PTRACE read "
        "the sidecar's keys",
    )
    assert all(len(w) <= 120 for w in result.warnings)
    strict = refused(p, InjectorSettings(share_process_namespace="refuse"))
    assert strict.refusals[0].reason == "shared process namespace"
    assert f"remove {field}" in str(strict.refused)
    assert injection(pod(annotations=ANNOTATED, shareProcessNamespace=False)).warnings == ()


def test_an_app_container_that_mounts_a_sidecar_volume_is_refused() -> None:
    # The mount names a volume the pod does not have: injection would supply it.
    mount = {"volumeMounts": [{"name": "llm-router-keys", "mountPath": "/keys"}]}
    result = refused(pod(annotations=ANNOTATED, containers=[app(**mount)]))
    assert result.refusals[0].reason == "sidecar volume"
    assert "'llm-router-keys', a volume only the sidecar may mount" in str(result.refused)


OVERRIDES = {
    "claims": {
        "config_maps": ["claims-router-config"],
        "policies_config_maps": ["claims-policies"],
    },
    "billing": {"keys_secrets": ["billing-keys"]},
}


@pytest.mark.parametrize(
    ("annotation", "value", "allowed"),
    [
        ("llm-router.io/config-map", "mine", "'llm-router-config', 'claims-router-config'"),
        ("llm-router.io/policies-config-map", "permissive", "'llm-router-policies', "),
        ("llm-router.io/keys-secret", "billing-keys", "'llm-router-provider-keys'"),
    ],
)
def test_a_source_not_on_the_namespaces_allow_list_is_refused(
    annotation: str, value: str, allowed: str
) -> None:
    settings = InjectorSettings.model_validate({"overrides": OVERRIDES})
    result = refused(pod(annotations={**ANNOTATED, annotation: value}), settings)
    assert result.refusals[0].reason == "override not allowed"
    assert str(result.refused).startswith(
        f"llm-router: annotation {annotation}={value!r} is not allowed in namespace 'claims'; "
        f"the injector settings (overrides) allow only {allowed}"
    )


def test_without_overrides_only_the_default_sources_may_be_named() -> None:
    for annotation, default in (
        ("llm-router.io/config-map", "llm-router-config"),
        ("llm-router.io/policies-config-map", "llm-router-policies"),
        ("llm-router.io/keys-secret", "llm-router-provider-keys"),
    ):
        injected(pod(annotations={**ANNOTATED, annotation: default}))
        refused(pod(annotations={**ANNOTATED, annotation: "claims-" + default}))
    bad = refused(pod(annotations={**ANNOTATED, "llm-router.io/config-map": "Not_A_Name"}))
    assert "llm-router.io/config-map=an invalid name" in str(bad.refused)


def test_a_source_on_the_allow_list_is_mounted() -> None:
    settings = InjectorSettings.model_validate({"overrides": OVERRIDES})
    annotations = {**ANNOTATED, "llm-router.io/config-map": "claims-router-config"}
    volumes = {
        v["name"]: v for v in injected(pod(annotations=annotations), settings)["spec"]["volumes"]
    }
    assert volumes["llm-router-config"]["configMap"]["name"] == "claims-router-config"
    # Allowed in billing does not mean allowed in claims.
    keys = {**ANNOTATED, "llm-router.io/keys-secret": "billing-keys"}
    refused(pod(annotations=keys), settings)
    assert build(pod(annotations=keys), "billing", settings, require_opt_in=True).injected


def own_url(var: str = "OPENAI_BASE_URL", **entry: Any) -> dict[str, Any]:
    return app(env=[{"name": var, **(entry or {"value": "https://api.openai.com/v1"})}])


@pytest.mark.parametrize(
    "container",
    [
        own_url(),
        own_url("ANTHROPIC_BASE_URL", value="https://api.anthropic.com"),
        own_url("AZURE_OPENAI_ENDPOINT", value="https://claims.openai.azure.com"),
        own_url(valueFrom={"configMapKeyRef": {"name": "urls", "key": "openai"}}),
        own_url(value="http://127.0.0.1:$(PORT)/v1"),
        own_url(value="https://127.0.0.1:16080/v1"),
    ],
    ids=["openai", "anthropic", "azure", "value-from", "reference", "https"],
)
def test_strict_mode_refuses_an_app_that_sets_its_own_provider_url(
    container: dict[str, Any],
) -> None:
    var = container["env"][0]["name"]
    lenient = injection(pod(annotations=ANNOTATED, containers=[container]))
    assert lenient.injected
    assert lenient.warnings == (
        f"llm-router: container 'app' sets {var} itself, not to the sidecar; "
        "those calls skip policy and audit",
    )
    result = refused(pod(annotations=ANNOTATED, containers=[container]), strict())
    assert result.refusals[0].reason == "own provider url"
    assert f"container 'app' sets {var} to something other than the sidecar" in str(result.refused)
    assert "api.openai.com" not in str(result.refused)  # values are never echoed


def test_strict_mode_checks_init_containers_and_accepts_the_sidecars_own_url() -> None:
    init = {**own_url(), "name": "warm"}
    assert "'warm'" in str(
        refused(pod(annotations=ANNOTATED, init_containers=[init]), strict()).refused
    )
    port = SETTINGS.listen_port
    for url in (f"http://127.0.0.1:{port}/v1", f"http://localhost:{port}"):
        p = pod(annotations=ANNOTATED, containers=[own_url(value=url)])
        assert injection(p, strict()).warnings == ()
        patched = injected(p, strict())
        env = {e["name"]: e["value"] for e in patched["spec"]["containers"][0]["env"]}
        assert env["OPENAI_BASE_URL"] == url  # kept, and not added twice


def test_strict_mode_refuses_leaving_the_sdks_at_their_provider_defaults() -> None:
    p = pod(annotations={**ANNOTATED, "llm-router.io/inject-env": "false"})
    injected(p)
    result = refused(p, strict())
    assert result.refusals[0].reason == "own provider url"
    assert 'llm-router.io/inject-env="false"' in str(result.refused)


def test_every_refusal_is_reported_at_once() -> None:
    p = pod(
        annotations={**ANNOTATED, "llm-router.io/config-map": "mine"},
        containers=[{**own_url(), "securityContext": {"runAsUser": UID}}],
    )
    result = refused(p, strict())
    assert [r.reason for r in result.refusals] == [
        "override not allowed",
        "sidecar uid",
        "own provider url",
    ]
    assert str(result.refused).count("llm-router: ") == 3


def test_pods_that_are_not_injected_are_not_refused() -> None:
    p = pod(
        annotations={"llm-router.io/inject": "false", "llm-router.io/config-map": "mine"},
        securityContext={"runAsUser": UID},
    )
    assert build(p, "claims", strict(), require_opt_in=False) == Injection([], "opted out")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("overrides: {Claims: {config_maps: [a]}}", "overrides: Value error, not a namespace"),
        ("overrides: {claims: {config_maps: [A_B]}}", "overrides.claims.config_maps"),
        ("overrides: {claims: {configmaps: [a]}}", "configmaps: unknown key"),
        ("share_process_namespace: deny", "share_process_namespace: Input should be 'warn' or"),
        ("run_as_user: 0", "run_as_user"),
    ],
)
def test_invalid_guard_settings_are_errors(tmp_path: Path, text: str, problem: str) -> None:
    assert problem in settings_error(tmp_path, text)
