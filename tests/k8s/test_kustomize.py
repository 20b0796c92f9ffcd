"""deploy/k8s: every kustomization renders with `kubectl kustomize`, every object validates
(core kinds against the Kubernetes OpenAPI schemas, custom resources against their CRDs),
and the pieces agree with each other and with the code that reads them."""

from __future__ import annotations

import base64
import functools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonpatch
import jsonschema
import pytest
import yaml
from cryptography import x509

from sidecar.cli import build_parser
from sidecar.config_loader import parse_config
from sidecar.k8s import INJECTED_LABEL
from sidecar.k8s.admission import review
from sidecar.k8s.settings import InjectorSettings, load_settings
from sidecar.k8s.template import ADMIN_PORT_NAME, KEYS_DIR
from sidecar.k8s.webhook import Webhook, WebhookMetrics
from sidecar.metrics import Metrics
from tests.k8s.crds import validate_custom
from tests.k8s.support import K8S, ROOT, admission_review, has_schema, kustomize, validate

RENDERED = ["base", "workload", "examples", "monitoring", "overlays/opa-server"]


@functools.cache
def rendered(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(kustomize(K8S / name))


def one(docs: tuple[dict[str, Any], ...], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def check_object(obj: dict[str, Any]) -> None:
    if has_schema(obj):
        validate(obj)
    else:
        try:
            validate_custom(obj)
        except jsonschema.ValidationError as exc:
            pytest.fail(
                f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {list(exc.path)}"
            )


@pytest.mark.parametrize("name", RENDERED)
def test_renders_and_every_object_validates(name: str) -> None:
    docs = rendered(name)
    assert docs
    for obj in docs:
        check_object(obj)


def test_every_manifest_file_is_part_of_a_kustomization() -> None:
    listed: set[Path] = set()
    for kustomization in [
        *K8S.rglob("kustomization.yaml"),
        ROOT / "policies" / "kustomization.yaml",
    ]:
        spec = yaml.safe_load(kustomization.read_text())
        here = kustomization.parent
        listed.update((here / r).resolve() for r in spec.get("resources", []))
        for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
            listed.update((here / f.split("=")[-1]).resolve() for f in generator.get("files", []))
        for directory in spec.get("resources", []):
            assert (here / directory).exists(), f"{kustomization}: {directory} missing"
    # Directories without a kustomization (e.g. raw rule files for other tools) are not ours.
    for kustomization in K8S.rglob("kustomization.yaml"):
        for path in kustomization.parent.glob("*.yaml"):
            if path.name != "kustomization.yaml":
                assert path.resolve() in listed, f"{path} is in no kustomization"
    every = {
        p.name
        for p in (ROOT / "policies").iterdir()
        if p.suffix == ".rego" or p.name == "data.json"
    }
    policies = one(rendered("workload"), "ConfigMap", "llm-router-policies")
    assert set(policies["data"]) == every, "policies/kustomization.yaml must list every policy file"
    for file, text in policies["data"].items():
        assert text == (ROOT / "policies" / file).read_text()


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def webhooks_for(namespace: dict[str, str], pod: dict[str, str]) -> list[str]:
    config = one(rendered("base"), "MutatingWebhookConfiguration")
    return [
        w["clientConfig"]["service"]["path"]
        for w in config["webhooks"]
        if selects(w["namespaceSelector"], namespace) and selects(w["objectSelector"], pod)
    ]


@pytest.mark.parametrize(
    ("namespace", "pod", "paths"),
    [
        ({"llm-router.io/injection": "enabled"}, {}, ["/inject/namespace"]),
        ({"llm-router.io/injection": "enabled"}, {"llm-router.io/inject": "false"}, []),
        ({}, {}, ["/inject/object"]),  # the webhook then looks for the opt-in annotation
        ({"llm-router.io/injection": "disabled"}, {"llm-router.io/inject": "true"}, []),
        ({"kubernetes.io/metadata.name": "kube-system"}, {"llm-router.io/inject": "true"}, []),
        (
            {
                "kubernetes.io/metadata.name": "llm-router-system",
                "llm-router.io/injection": "disabled",
            },
            {},
            [],
        ),
    ],
)
def test_webhook_selectors_route_pods_like_istio(
    namespace: dict[str, str], pod: dict[str, str], paths: list[str]
) -> None:
    assert webhooks_for({"kubernetes.io/metadata.name": "team", **namespace}, pod) == paths


def test_webhook_configuration_matches_the_server() -> None:
    docs = rendered("base")
    config = one(docs, "MutatingWebhookConfiguration")
    service = one(docs, "Service", "llm-router-injector")
    routes = {
        r.resource.canonical
        for r in Webhook(InjectorSettings()).app().router.routes()
        if r.method == "POST"
    }
    for hook in config["webhooks"]:
        assert hook["sideEffects"] == "None"
        assert hook["admissionReviewVersions"] == ["v1"]
        assert 1 <= hook["timeoutSeconds"] <= 10
        assert hook["failurePolicy"] == "Ignore"
        assert hook["rules"] == [
            {
                "operations": ["CREATE"],
                "apiGroups": [""],
                "apiVersions": ["v1"],
                "resources": ["pods"],
                "scope": "Namespaced",
            }
        ]
        ref = hook["clientConfig"]["service"]
        assert (ref["name"], ref["namespace"]) == (
            service["metadata"]["name"],
            service["metadata"]["namespace"],
        )
        assert ref["port"] in [p["port"] for p in service["spec"]["ports"]]
        assert ref["path"] in routes
    certificate = one(docs, "Certificate", "llm-router-injector")
    ns, name = config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"].split("/")
    assert (ns, name) == (certificate["metadata"]["namespace"], certificate["metadata"]["name"])
    assert f"{service['metadata']['name']}.{ns}.svc" in certificate["spec"]["dnsNames"]
    deployment = one(docs, "Deployment", "llm-router-injector")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == certificate["spec"]["secretName"]


def test_injector_deployment_runs_the_cli_with_the_rendered_settings() -> None:
    docs = rendered("base")
    deployment = one(docs, "Deployment", "llm-router-injector")
    pod_spec = deployment["spec"]["template"]["spec"]
    (container,) = pod_spec["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["LLM_ROUTER_SIDECAR_IMAGE"] == container["image"]
    args = build_parser().parse_args(container["args"])
    assert args.func.__name__ == "_webhook"
    assert args.image == "$(LLM_ROUTER_SIDECAR_IMAGE)"
    assert pod_spec["automountServiceAccountToken"] is False
    assert deployment["spec"]["template"]["metadata"]["labels"]["llm-router.io/inject"] == "false"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"https": args.port, "metrics": args.admin_port}
    config_map = one(docs, "ConfigMap", pod_spec["volumes"][1]["configMap"]["name"])
    assert args.settings.endswith("/injector.yaml") and "injector.yaml" in config_map["data"]
    settings = InjectorSettings.model_validate(yaml.safe_load(config_map["data"]["injector.yaml"]))
    assert "llm-router-system" in settings.excluded_namespaces
    # The names the injector mounts are the ones the workload bundle creates.
    workload = rendered("workload")
    one(workload, "ConfigMap", settings.config_map)
    one(workload, "ConfigMap", settings.policies_config_map)
    one(workload, "Secret", settings.keys_secret)


def test_workload_config_loads_and_finds_its_keys_in_the_secret() -> None:
    docs = rendered("workload")
    text = one(docs, "ConfigMap", "llm-router-config")["data"]["config.yaml"]
    environ = {
        "LLM_ROUTER__listen__port": "16080",
        "LLM_ROUTER__policy__path": "/etc/llm-router/policies",
    }
    config = parse_config(text, "config.yaml", environ)
    secret = one(docs, "Secret", "llm-router-provider-keys")
    # No values at all: `kubectl apply` then never overwrites keys patched in later.
    assert "data" not in secret and "stringData" not in secret
    comment = (K8S / "workload" / "provider-keys.yaml").read_text().split("apiVersion")[0]
    for name, provider in config.providers.items():
        assert provider.api_key_file == Path(KEYS_DIR) / name
        assert re.search(rf"\b{name}\b", comment), f"provider-keys.yaml should name {name}"


def test_examples_app_gets_a_valid_pod_from_the_webhook() -> None:
    deployment = one(rendered("examples"), "Deployment", "claims-api")
    template = deployment["spec"]["template"]
    for overlay, engine in (("base", "embedded"), ("overlays/opa-server", "opa")):
        data = next(
            d
            for d in rendered(overlay)
            if d["kind"] == "ConfigMap" and "injector.yaml" in d.get("data", {})
        )
        settings = InjectorSettings.model_validate(yaml.safe_load(data["data"]["injector.yaml"]))
        pod = {"apiVersion": "v1", "kind": "Pod", **template}
        outcome = review(
            admission_review(pod, namespace="llm-apps")["request"], settings, require_opt_in=True
        )
        assert outcome.decision == "injected"
        patch = yaml.safe_load(base64.b64decode(outcome.review["response"]["patch"]))
        result = jsonpatch.apply_patch(pod, patch)
        validate(result)
        names = [c["name"] for c in result["spec"]["initContainers"]]
        assert names == (["llm-router-opa", "llm-router"] if engine == "opa" else ["llm-router"])
        assert result["spec"]["initContainers"][-1]["resources"]["limits"]["memory"] == "768Mi"


def test_opa_overlay_changes_only_the_opa_settings() -> None:
    def settings(directory: str) -> dict[str, Any]:
        return load_settings(K8S / directory / "injector.yaml").model_dump()

    base, opa = settings("base/injector"), settings("overlays/opa-server")
    assert opa["opa"]["enabled"] is True and base["opa"]["enabled"] is False
    assert {k: v for k, v in opa.items() if k != "opa"} == {
        k: v for k, v in base.items() if k != "opa"
    }


def test_monitoring_matches_what_is_exported() -> None:
    docs = rendered("monitoring")
    suffixes = {
        "counter": ["_total"],
        "histogram": ["_bucket", "_sum", "_count"],
        "info": ["_info"],
    }
    polling = Metrics()
    assert polling.bundle  # a sidecar that polls a bundle server exports these too
    exported = {
        family.name + suffix
        for registry in (polling.registry, WebhookMetrics().registry)
        for family in registry.collect()
        for suffix in suffixes.get(family.type, [""])
    }
    rules = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert {r["metadata"]["name"] for r in rules} == {"llm-router", "llm-router-kubernetes"}
    used = set()
    for group in (g for rule in rules for g in rule["spec"]["groups"]):
        for r in group["rules"]:
            used.update(re.findall(r"\bllm_router_[a-z_]+", r["expr"]))
    assert used, "the rules use no llm-router metric"
    assert used - exported == set()
    podmonitor = one(docs, "PodMonitor")
    assert podmonitor["spec"]["selector"]["matchLabels"] == {INJECTED_LABEL: "injected"}
    assert podmonitor["spec"]["podMetricsEndpoints"][0]["port"] == ADMIN_PORT_NAME
    service = one(rendered("base"), "Service", "llm-router-injector")
    servicemonitor = one(docs, "ServiceMonitor")
    assert servicemonitor["spec"]["endpoints"][0]["port"] in [
        p["name"] for p in service["spec"]["ports"]
    ]
    assert selects(servicemonitor["spec"]["selector"], service["metadata"]["labels"])


def test_self_signed_overlay_with_generated_certificates(tmp_path: Path) -> None:
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed by overlays/self-signed/gen-certs.sh")
    shutil.copytree(K8S, tmp_path / "deploy" / "k8s")
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    overlay = tmp_path / "deploy" / "k8s" / "overlays" / "self-signed"
    subprocess.run(
        ["sh", str(overlay / "gen-certs.sh")], check=True, capture_output=True, timeout=60
    )
    docs = kustomize(overlay)
    for obj in docs:
        check_object(obj)
    assert not [d for d in docs if d["apiVersion"].startswith("cert-manager.io")]
    config = one(docs, "MutatingWebhookConfiguration")
    assert "cert-manager.io/inject-ca-from" not in config["metadata"].get("annotations", {})
    ca_pem = (overlay / "ca.crt").read_bytes()
    for hook in config["webhooks"]:
        assert base64.b64decode(hook["clientConfig"]["caBundle"].replace("\n", "")) == ca_pem
    cert = x509.load_pem_x509_certificate((overlay / "tls.crt").read_bytes())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "llm-router-injector.llm-router-system.svc" in names.get_values_for_type(x509.DNSName)
    secret = one(docs, "Secret", "llm-router-injector-tls")
    assert secret["type"] == "kubernetes.io/tls" and set(secret["data"]) == {
        "tls.crt",
        "tls.key",
        "ca.crt",
    }


def test_validation_is_not_vacuous() -> None:
    """The checks above would notice a misspelt field in a core object and in a CRD."""
    deployment = dict(one(rendered("base"), "Deployment", "llm-router-injector"))
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    with pytest.raises(pytest.fail.Exception):
        validate(deployment)
    rule = one(rendered("monitoring"), "PrometheusRule", "llm-router-kubernetes")
    broken = {
        **rule,
        "spec": {
            "groups": [{"name": "x", "rules": [{"alert": "A", "expr": "up", "for": "5 minutes"}]}]
        },
    }
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(broken)
