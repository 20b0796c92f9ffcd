"""The patch builder: what injection adds to a pod, checked on the patched pod itself.

Every patch is applied with the `jsonpatch` library (an independent RFC 6902
implementation) and the result validated against the Kubernetes OpenAPI schemas.
"""

from __future__ import annotations

import json
from typing import Any

import jsonpatch
import pytest

from sidecar.k8s import STATUS, VOLUME_NAMES
from sidecar.k8s.patch import Injection, apply, build, escape
from sidecar.k8s.settings import InjectorSettings
from sidecar.k8s.template import PLACEHOLDER_KEY, quantity
from tests.k8s.support import pod, validate

SETTINGS = InjectorSettings()
ANNOTATED = {"llm-router.io/inject": "true"}


def inject(p: dict[str, Any], settings: InjectorSettings = SETTINGS, **kw: Any) -> dict[str, Any]:
    injection = build(p, "claims", settings, require_opt_in=kw.pop("require_opt_in", True))
    assert injection.injected, injection.skipped
    patched: dict[str, Any] = jsonpatch.apply_patch(p, injection.patch)
    validate(patched)
    # Our own applier (used by `llm-router inject`) gives exactly the same pod.
    assert apply(p, injection.patch) == patched
    return patched


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_annotated_pod_gets_a_native_sidecar_that_starts_first() -> None:
    patched = inject(pod(annotations=ANNOTATED))
    spec = patched["spec"]
    (router,) = spec["initContainers"]
    assert router["name"] == "llm-router"
    assert router["restartPolicy"] == "Always"
    assert [c["name"] for c in spec["containers"]] == ["app"]
    assert router["args"][:3] == ["serve", "--config", "/etc/llm-router/config/config.yaml"]


def test_sidecar_is_locked_down_with_resources_and_probes() -> None:
    router = inject(pod(annotations=ANNOTATED))["spec"]["initContainers"][0]
    sc = router["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert set(router["resources"]) == {"requests", "limits"}
    admin = router["ports"][0]
    assert admin["containerPort"] == SETTINGS.admin_port
    for probe, path in (
        ("startupProbe", "/readyz"),
        ("readinessProbe", "/readyz"),
        ("livenessProbe", "/healthz"),
    ):
        assert router[probe]["httpGet"] == {"path": path, "port": admin["name"]}
    assert len(admin["name"]) <= 15


def test_keys_and_config_are_mounted_into_the_sidecar_only() -> None:
    patched = inject(
        pod(
            annotations=ANNOTATED,
            containers=[
                {"name": "app", "image": "a:1"},
                {
                    "name": "worker",
                    "image": "w:1",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                },
            ],
            volumes=[{"name": "data", "emptyDir": {}}],
        )
    )
    spec = patched["spec"]
    by_name = {v["name"]: v for v in spec["volumes"]}
    assert by_name["llm-router-keys"] == {
        "name": "llm-router-keys",
        # Root's files (no fsGroup): the sidecar's UID reads them through the "other" bits.
        "secret": {"secretName": "llm-router-provider-keys", "defaultMode": 0o444},
    }
    assert by_name["llm-router-policies"]["configMap"]["name"] == "llm-router-policies"
    assert by_name["llm-router-config"]["configMap"]["name"] == "llm-router-config"
    assert "data" in by_name
    router = spec["initContainers"][0]
    mounts = {m["name"]: m for m in router["volumeMounts"]}
    assert mounts["llm-router-keys"]["readOnly"] is True
    for app in spec["containers"]:
        names = {m["name"] for m in app.get("volumeMounts", [])}
        assert not names & set(VOLUME_NAMES), app["name"]
        assert not any("secret" in str(e.get("valueFrom", "")) for e in app.get("env", []))
    assert [v["name"] for v in spec["volumes"] if v["name"] != "data"] == list(VOLUME_NAMES)


def test_workload_identity_reaches_the_sidecar_through_the_downward_api() -> None:
    router = inject(pod(annotations=ANNOTATED))["spec"]["initContainers"][0]
    env = env_of(router)
    assert env["LLM_ROUTER_POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["LLM_ROUTER_POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["LLM_ROUTER_SERVICE_ACCOUNT"] == {
        "fieldRef": {"fieldPath": "spec.serviceAccountName"}
    }
    assert env["LLM_ROUTER_POD_LABELS_FILE"] == "/etc/llm-router/podinfo/labels"
    # The listener the app is pointed at is the one the sidecar binds, on loopback.
    assert env["LLM_ROUTER__listen__host"] == "127.0.0.1"
    assert env["LLM_ROUTER__listen__port"] == str(SETTINGS.listen_port)


def test_app_containers_get_the_sdk_variables_they_do_not_set() -> None:
    patched = inject(
        pod(
            annotations=ANNOTATED,
            containers=[
                {
                    "name": "app",
                    "image": "a:1",
                    "env": [
                        {
                            "name": "OPENAI_API_KEY",
                            "valueFrom": {"secretKeyRef": {"name": "own", "key": "k"}},
                        },
                        {"name": "LOG", "value": "debug"},
                    ],
                },
                {"name": "bare", "image": "b:1"},
            ],
        )
    )
    app, bare = patched["spec"]["containers"]
    env = env_of(app)
    assert env["OPENAI_API_KEY"] == {"secretKeyRef": {"name": "own", "key": "k"}}  # kept
    assert env["LOG"] == "debug"
    assert env["OPENAI_BASE_URL"] == f"http://127.0.0.1:{SETTINGS.listen_port}/v1"
    assert env["ANTHROPIC_BASE_URL"] == f"http://127.0.0.1:{SETTINGS.listen_port}"
    assert env["ANTHROPIC_API_KEY"] == PLACEHOLDER_KEY
    assert [e["name"] for e in app["env"]].count("OPENAI_API_KEY") == 1
    assert set(env_of(bare)) == {
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
    }


def test_a_container_that_sets_its_own_base_url_keeps_it_with_a_warning() -> None:
    p = pod(
        annotations=ANNOTATED,
        containers=[
            {
                "name": "app",
                "image": "a:1",
                "env": [{"name": "OPENAI_BASE_URL", "value": "https://api.openai.com/v1"}],
            }
        ],
    )
    injection = build(p, "claims", SETTINGS, require_opt_in=True)
    patched = jsonpatch.apply_patch(p, injection.patch)
    assert (
        env_of(patched["spec"]["containers"][0])["OPENAI_BASE_URL"] == "https://api.openai.com/v1"
    )
    assert any("sets OPENAI_BASE_URL itself" in w for w in injection.warnings)


def test_existing_init_containers_run_after_the_sidecar_and_can_use_it() -> None:
    patched = inject(
        pod(
            annotations=ANNOTATED,
            init_containers=[{"name": "migrate", "image": "m:1"}, {"name": "warm", "image": "w:1"}],
        )
    )
    init = patched["spec"]["initContainers"]
    assert [c["name"] for c in init] == ["llm-router", "migrate", "warm"]
    assert "OPENAI_BASE_URL" in env_of(init[1])
    assert "restartPolicy" not in init[1]


def test_classic_container_mode_by_annotation() -> None:
    patched = inject(pod(annotations={**ANNOTATED, "llm-router.io/sidecar-mode": "container"}))
    spec = patched["spec"]
    assert "initContainers" not in spec
    assert [c["name"] for c in spec["containers"]] == ["llm-router", "app"]
    assert "restartPolicy" not in spec["containers"][0]
    assert "OPENAI_BASE_URL" in env_of(spec["containers"][1])


def test_classic_mode_warns_that_a_job_pod_would_never_complete() -> None:
    annotations = {**ANNOTATED, "llm-router.io/sidecar-mode": "container"}
    job_pod = pod(annotations=annotations, restartPolicy="Never")
    assert any(
        "will not complete" in w
        for w in build(job_pod, "claims", SETTINGS, require_opt_in=True).warnings
    )
    native = pod(annotations=ANNOTATED, restartPolicy="Never")
    assert build(native, "claims", SETTINGS, require_opt_in=True).warnings == ()
    inject(job_pod)


def test_opa_server_mode_adds_opa_before_the_router() -> None:
    patched = inject(pod(annotations={**ANNOTATED, "llm-router.io/policy-engine": "opa"}))
    init = patched["spec"]["initContainers"]
    assert [c["name"] for c in init] == ["llm-router-opa", "llm-router"]
    env = env_of(init[1])
    assert env["LLM_ROUTER__policy__engine"] == "opa"
    assert env["LLM_ROUTER__policy__opa_url"] == f"http://127.0.0.1:{SETTINGS.opa.port}"
    assert f"--addr=127.0.0.1:{SETTINGS.opa.port}" in init[0]["args"]
    assert {m["name"] for m in init[0]["volumeMounts"]} == {"llm-router-policies"}


def test_overrides_by_annotation() -> None:
    allowed = {
        "config_maps": ["claims-router-config"],
        "policies_config_maps": ["claims-policies"],
        "keys_secrets": ["claims-keys"],
        "images": ["registry.example.com/llm-router:0.2.0"],
    }
    settings = InjectorSettings.model_validate({"overrides": {"claims": allowed}})
    patched = inject(
        pod(
            annotations={
                **ANNOTATED,
                "llm-router.io/image": "registry.example.com/llm-router:0.2.0",
                "llm-router.io/cpu-request": "250m",
                "llm-router.io/memory-limit": "1Gi",
                "llm-router.io/config-map": "claims-router-config",
                "llm-router.io/policies-config-map": "claims-policies",
                "llm-router.io/keys-secret": "claims-keys",
                "llm-router.io/log-level": "debug",
            }
        ),
        settings,
    )
    spec = patched["spec"]
    router = spec["initContainers"][0]
    assert router["image"] == "registry.example.com/llm-router:0.2.0"
    assert router["resources"]["requests"]["cpu"] == "250m"
    assert router["resources"]["limits"]["memory"] == "1Gi"
    assert router["args"][-2:] == ["--log-level", "debug"]
    by_name = {v["name"]: v for v in spec["volumes"]}
    assert by_name["llm-router-config"]["configMap"]["name"] == "claims-router-config"
    assert by_name["llm-router-policies"]["configMap"]["name"] == "claims-policies"
    assert by_name["llm-router-keys"]["secret"]["secretName"] == "claims-keys"
    assert json.loads(patched["metadata"]["annotations"][STATUS])["image"].endswith(":0.2.0")


def test_invalid_overrides_are_ignored_with_warnings_never_an_invalid_pod() -> None:
    p = pod(
        annotations={
            **ANNOTATED,
            "llm-router.io/cpu-limit": "lots",
            "llm-router.io/sidecar-mode": "sideways",
            "llm-router.io/cpu-request": "2",  # above the default 1-CPU limit
        }
    )
    injection = build(p, "claims", SETTINGS, require_opt_in=True)
    patched = jsonpatch.apply_patch(p, injection.patch)
    validate(patched)
    router = patched["spec"]["initContainers"][0]
    assert router["resources"]["limits"]["cpu"] == "2"  # raised to the request
    assert len(injection.warnings) == 3, injection.warnings


@pytest.mark.parametrize(
    ("p", "require_opt_in", "reason"),
    [
        (pod(), True, "not opted in"),
        (pod(annotations={"llm-router.io/inject": "false"}), False, "opted out"),
        (pod(labels={"llm-router.io/inject": "false"}), False, "opted out"),
        (pod(annotations=ANNOTATED, hostNetwork=True), True, "host network"),
        (pod(annotations={STATUS: "{}", **ANNOTATED}), True, "already injected"),
        (
            pod(annotations=ANNOTATED, containers=[{"name": "llm-router", "image": "x:1"}]),
            True,
            "already injected",
        ),
        ({"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}}, False, "invalid pod"),
    ],
)
def test_pods_left_unchanged(p: dict[str, Any], require_opt_in: bool, reason: str) -> None:
    assert build(p, "claims", SETTINGS, require_opt_in=require_opt_in) == Injection([], reason)


def test_opt_in_by_label_and_namespace_wide_injection() -> None:
    inject(pod(labels={"llm-router.io/inject": "true"}))
    inject(pod(), require_opt_in=False)
    assert (
        build(pod(annotations=ANNOTATED), "kube-system", SETTINGS, require_opt_in=True).skipped
        == "excluded namespace"
    )


def test_injection_is_idempotent() -> None:
    once = inject(pod(annotations=ANNOTATED))
    for require_opt_in in (True, False):
        assert (
            build(once, "claims", SETTINGS, require_opt_in=require_opt_in).skipped
            == "already injected"
        )


def test_prometheus_annotations_and_an_existing_annotation_with_a_slash() -> None:
    own = {**ANNOTATED, "prometheus.io/scrape": "true", "prometheus.io/port": "8000"}
    patched = inject(pod(annotations=own))
    annotations = patched["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == "8000"  # the app's own scrape config wins
    plain = inject(pod(annotations=ANNOTATED))["metadata"]["annotations"]
    assert plain["prometheus.io/port"] == str(SETTINGS.admin_port)
    assert plain["prometheus.io/path"] == "/metrics"
    assert patched["metadata"]["labels"]["llm-router.io/sidecar"] == "injected"
    assert escape("a/b~c") == "a~1b~0c"


def test_pod_without_annotations_or_labels_in_a_labelled_namespace() -> None:
    p = pod()
    del p["metadata"]["labels"]
    patched = inject(p, require_opt_in=False)
    assert STATUS in patched["metadata"]["annotations"]


def test_quantities_compare_across_units() -> None:
    assert quantity("500m") < quantity("1") < quantity("1.5")
    assert quantity("512Mi") < quantity("1Gi") == quantity("1073741824")
    assert quantity("1G") < quantity("1Gi")
