"""`llm-router inject`: every workload kind of a multi-document manifest, run as a CLI."""

from __future__ import annotations

import copy
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonpatch
import yaml

from sidecar.k8s.inject import TEMPLATE_PATHS, inject_stream
from sidecar.k8s.patch import build
from sidecar.k8s.settings import InjectorSettings
from tests.conftest import run_cli
from tests.k8s.support import documents, validate

POD_SPEC = {
    "containers": [
        {
            "name": "app",
            "image": "registry.example.com/claims-api:1.0.0",
            "env": [{"name": "LOG_LEVEL", "value": "info"}],
        }
    ],
    "restartPolicy": "Never",
}
TEMPLATE = {"metadata": {"labels": {"app": "claims-api"}}, "spec": POD_SPEC}
SELECTOR = {"matchLabels": {"app": "claims-api"}}


def workloads() -> list[dict[str, Any]]:
    always = {**TEMPLATE, "spec": {**POD_SPEC, "restartPolicy": "Always"}}
    meta = {"name": "claims-api", "namespace": "claims"}
    return [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {**meta, "labels": {"app": "claims-api"}},
            "spec": POD_SPEC,
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {"selector": SELECTOR, "template": always},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": meta,
            "spec": {"selector": SELECTOR, "serviceName": "claims-api", "template": always},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": meta,
            "spec": {"selector": SELECTOR, "template": always},
        },
        {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"template": TEMPLATE}},
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta,
            "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": TEMPLATE}}},
        },
    ]


OTHERS = [
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "claims-api"},
        "spec": {"ports": [{"port": 80}]},
    },
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "b"}},
]


def template_of(doc: dict[str, Any]) -> dict[str, Any]:
    node = doc
    for key in TEMPLATE_PATHS[doc["kind"]]:
        node = node[key]
    return node


def write(tmp_path: Path, docs: list[dict[str, Any]]) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def test_every_workload_kind_is_injected_and_valid(tmp_path: Path) -> None:
    manifest = write(tmp_path, [*workloads(), *OTHERS])
    result = run_cli("inject", "-f", str(manifest))
    assert result.returncode == 0, result.stderr
    out = documents(result.stdout)
    assert [d["kind"] for d in out] == [
        "Pod",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
        "Service",
        "ConfigMap",
    ]
    for doc in out:
        validate(doc)
    for doc in out[:6]:
        spec = template_of(doc)["spec"]
        assert spec["initContainers"][0]["name"] == "llm-router", doc["kind"]
        assert spec["initContainers"][0]["restartPolicy"] == "Always"
        env = {e["name"] for e in spec["containers"][0]["env"]}
        assert {"LOG_LEVEL", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"} <= env
    assert out[6:] == OTHERS
    for kind in ("Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"):
        assert f"{kind}/claims-api: injected" in result.stderr


def test_webhook_and_inject_give_the_same_pod() -> None:
    """A Deployment injected by hand, and a pod of the plain Deployment injected by the webhook."""
    settings = InjectorSettings()
    deployment = workloads()[1]
    deployment["spec"]["template"]["metadata"]["annotations"] = {"llm-router.io/inject": "true"}
    out = io.StringIO()
    inject_stream(io.StringIO(yaml.safe_dump(deployment)), out, settings)
    by_hand = documents(out.getvalue())[0]["spec"]["template"]

    template = deployment["spec"]["template"]
    created = {"apiVersion": "v1", "kind": "Pod", **copy.deepcopy(template)}
    injection = build(created, "claims", settings, require_opt_in=True)
    by_webhook = jsonpatch.apply_patch(created, injection.patch)
    assert by_webhook["metadata"] == by_hand["metadata"]
    assert by_webhook["spec"] == by_hand["spec"]


def test_inject_is_idempotent_and_honours_opt_out(tmp_path: Path) -> None:
    opted_out = copy.deepcopy(workloads()[1])
    opted_out["metadata"]["name"] = "batch"
    opted_out["metadata"]["annotations"] = {"llm-router.io/inject": "false"}
    out = io.StringIO()
    report = inject_stream(
        io.StringIO(yaml.safe_dump_all([workloads()[1], opted_out])), out, InjectorSettings()
    )
    assert report.lines == [
        "Deployment/claims-api: injected",
        "Deployment/batch: skipped (opted out)",
    ]
    first = out.getvalue()
    assert documents(first)[1] == opted_out
    again = io.StringIO()
    report = inject_stream(io.StringIO(first), again, InjectorSettings())
    assert again.getvalue() == first
    assert report.lines == [
        "Deployment/claims-api: skipped (already injected)",
        "Deployment/batch: skipped (opted out)",
    ]


def test_lists_settings_and_flags(tmp_path: Path) -> None:
    settings = tmp_path / "injector.yaml"
    settings.write_text("image: registry.example.com/llm-router:9.9.9\nlisten_port: 17000\n")
    listing = {"apiVersion": "v1", "kind": "List", "items": workloads()[:2]}
    manifest = write(tmp_path, [listing])
    result = run_cli(
        "inject", "-f", str(manifest), "--settings", str(settings), "--mode", "container", "-q"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    items = documents(result.stdout)[0]["items"]
    for item in items:
        validate(item)
        spec = template_of(item)["spec"]
        assert [c["name"] for c in spec["containers"]] == ["llm-router", "app"]
        assert spec["containers"][0]["image"] == "registry.example.com/llm-router:9.9.9"
        env = {e["name"]: e.get("value") for e in spec["containers"][1]["env"]}
        assert env["OPENAI_BASE_URL"] == "http://127.0.0.1:17000/v1"


def test_reads_stdin() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sidecar.cli", "inject", "-f", "-"],
        input=yaml.safe_dump(workloads()[0]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert documents(result.stdout)[0]["spec"]["initContainers"][0]["name"] == "llm-router"


def test_bad_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    result = run_cli("inject", "-f", str(bad))
    assert result.returncode == 2 and "invalid YAML" in result.stderr
    settings = tmp_path / "injector.yaml"
    settings.write_text("imagee: typo\n")
    result = run_cli("inject", "-f", str(bad), "--settings", str(settings))
    assert result.returncode == 2 and "imagee: unknown key" in result.stderr
    result = run_cli("inject", "-f", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2


def test_a_refused_workload_fails_the_run_and_nothing_is_written(tmp_path: Path) -> None:
    uid = InjectorSettings().run_as_user
    same_uid = copy.deepcopy(workloads()[1])
    same_uid["metadata"]["name"] = "batch"
    same_uid["spec"]["template"]["spec"]["securityContext"] = {"runAsUser": uid}
    manifest = write(tmp_path, [workloads()[0], same_uid])
    result = run_cli("inject", "-f", str(manifest), "-q")
    assert result.returncode == 1
    assert result.stdout == ""  # so `| kubectl apply -f -` applies nothing
    assert result.stderr.splitlines() == [
        f"Deployment/batch: refused (llm-router: container 'app' runs as UID {uid}, the "
        "sidecar's own, which would let it read the sidecar's keys: give it another runAsUser)",
        "llm-router: 1 refused; nothing written",
    ]


def test_overrides_are_checked_against_the_manifests_namespace(tmp_path: Path) -> None:
    settings = tmp_path / "injector.yaml"
    settings.write_text("overrides:\n  claims:\n    config_maps: [claims-router-config]\n")
    deployment = workloads()[1]
    deployment["spec"]["template"]["metadata"]["annotations"] = {
        "llm-router.io/config-map": "claims-router-config"
    }
    result = run_cli(
        "inject", "-f", str(write(tmp_path, [deployment])), "--settings", str(settings)
    )
    assert result.returncode == 0, result.stderr
    volumes = template_of(documents(result.stdout)[0])["spec"]["volumes"]
    assert {v["name"]: v for v in volumes}["llm-router-config"]["configMap"] == {
        "name": "claims-router-config"
    }
    del deployment["metadata"]["namespace"]  # `kubectl apply -n ...` would decide it
    result = run_cli(
        "inject", "-f", str(write(tmp_path, [deployment])), "--settings", str(settings)
    )
    assert result.returncode == 1 and result.stdout == ""
    assert "is not allowed in a pod without a namespace;" in result.stderr


def with_config_map(deployment: dict[str, Any]) -> dict[str, Any]:
    deployment["spec"]["template"]["metadata"]["annotations"] = {
        "llm-router.io/config-map": "claims-router-config"
    }
    return deployment


def config_map_of(doc: dict[str, Any]) -> Any:
    volumes = template_of(doc)["spec"]["volumes"]
    return {v["name"]: v for v in volumes}["llm-router-config"]["configMap"]["name"]


def test_namespace_flag_stands_in_for_a_missing_metadata_namespace(tmp_path: Path) -> None:
    settings = tmp_path / "injector.yaml"
    settings.write_text("overrides:\n  claims:\n    config_maps: [claims-router-config]\n")
    deployment = with_config_map(workloads()[1])
    del deployment["metadata"]["namespace"]
    manifest = write(tmp_path, [deployment])
    args = ("inject", "-f", str(manifest), "--settings", str(settings))
    result = run_cli(*args, "--namespace", "claims")
    assert result.returncode == 0, result.stderr
    out = documents(result.stdout)[0]
    assert config_map_of(out) == "claims-router-config"
    assert "namespace" not in out["metadata"]  # `kubectl apply -n claims` still decides it
    # -n billing: checked against billing's allow-list, which has no such override.
    result = run_cli(*args, "-n", "billing")
    assert result.returncode == 1 and result.stdout == ""
    assert "is not allowed in namespace 'billing';" in result.stderr
    # An excluded namespace is one too.
    result = run_cli(*args, "-n", "kube-system")
    assert result.returncode == 0, result.stderr
    assert "Deployment/claims-api: skipped (excluded namespace)" in result.stderr


def test_a_manifest_namespace_other_than_the_flags_is_refused(tmp_path: Path) -> None:
    same = with_config_map(workloads()[1])
    other = copy.deepcopy(workloads()[0])
    other["metadata"]["namespace"] = "billing"
    settings = InjectorSettings.model_validate(
        {"overrides": {"claims": {"config_maps": ["claims-router-config"]}}}
    )
    out = io.StringIO()
    listing = {"apiVersion": "v1", "kind": "List", "items": [same, other]}
    report = inject_stream(io.StringIO(yaml.safe_dump(listing)), out, settings, "claims")
    assert out.getvalue() == ""
    assert report.lines == ["Deployment/claims-api: injected"]
    assert report.refused == [
        "Pod/claims-api: refused (llm-router: its metadata.namespace 'billing' is not "
        "--namespace 'claims', so it would be checked against one and created in the other: "
        "make them agree)"
    ]
    result = run_cli("inject", "-f", str(write(tmp_path, [other])), "-n", "claims", "-q")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == "llm-router: 1 refused; nothing written"
    result = run_cli("inject", "-f", str(write(tmp_path, [other])), "-n", "Not_A_Namespace")
    assert result.returncode == 2
    assert "--namespace: not a namespace name: 'Not_A_Namespace'" in result.stderr


def test_a_sidecar_image_the_settings_do_not_list_fails_the_run(tmp_path: Path) -> None:
    deployment = workloads()[1]
    image = "registry.example.com/llm-router:0.2.0"
    deployment["spec"]["template"]["metadata"]["annotations"] = {"llm-router.io/image": image}
    manifest = str(write(tmp_path, [deployment]))
    result = run_cli("inject", "-f", manifest, "-q")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(
        f"Deployment/claims-api: refused (llm-router: annotation llm-router.io/image={image!r} "
        "is not allowed in namespace 'claims':"
    )
    # The operator's --image is the settings' image, which pods may always name.
    result = run_cli("inject", "-f", manifest, "--image", image)
    assert result.returncode == 0, result.stderr
    spec = template_of(documents(result.stdout)[0])["spec"]
    assert spec["initContainers"][0]["image"] == image
