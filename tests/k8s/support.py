"""Shared helpers for the Kubernetes tests: schemas, AdmissionReviews, certificates, kubectl."""

from __future__ import annotations

import copy
import datetime
import ipaddress
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sidecar.k8s.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
VERSIONS = ("1.29", "1.37")
"""Oldest with native sidecars (restartPolicy on init containers) and newest bundled."""


def validate(obj: dict[str, Any]) -> None:
    """Strict OpenAPI validation, offline: unknown fields and wrong types fail."""
    for version in VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            kind = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
            pytest.fail(f"{kind} invalid for Kubernetes {version} at {path}: {exc.message}")


def has_schema(obj: dict[str, Any]) -> bool:
    try:
        kubernetes_validate.validate(obj, VERSIONS[-1], strict=False)
    except kubernetes_validate.SchemaNotFoundError:
        return False
    except kubernetes_validate.ValidationError:
        return True
    return True


def pod(
    name: str = "claims-api-7d9",
    *,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    containers: list[dict[str, Any]] | None = None,
    init_containers: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "claims",
        "labels": labels or {"app": "claims-api"},
    }
    if annotations is not None:
        meta["annotations"] = annotations
    body: dict[str, Any] = {
        "containers": containers
        or [{"name": "app", "image": "registry.example.com/claims-api:1.0.0"}],
        **spec,
    }
    if init_containers is not None:
        body["initContainers"] = init_containers
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": body}


def admission_review(
    obj: dict[str, Any] | None, *, operation: str = "CREATE", namespace: str = "claims"
) -> dict[str, Any]:
    """An AdmissionReview request shaped as the Kubernetes documentation shows it."""
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": (obj or {}).get("metadata", {}).get("name", ""),
            "namespace": namespace,
            "operation": operation,
            "userInfo": {
                "username": "system:serviceaccount:kube-system:replicaset-controller",
                "uid": "b5f1a8c2-0000-4000-8000-000000000000",
                "groups": ["system:serviceaccounts", "system:authenticated"],
            },
            "object": copy.deepcopy(obj),
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def kubectl() -> str:
    """The kubectl installed with the test dependencies, else the one on PATH."""
    local = Path(sys.executable).parent / "kubectl"
    found = str(local) if local.exists() else shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl is needed to render the kustomizations (pip install -e '.[test]')")
    return found


def kustomize(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {directory}: {result.stderr}"
    return documents(result.stdout)


class CertAuthority:
    """A throwaway CA and serving certificates, generated in the test, never committed."""

    def __init__(self, name: str = "llm-router test CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, dns: str) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for `dns` and 127.0.0.1."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(dns), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), key_pem


def settings_error(tmp_path: Path, text: str) -> str:
    """The error an injector settings file holding `text` is refused with."""
    path = tmp_path / "injector.yaml"
    path.write_text(text + "\n")
    with pytest.raises(SettingsError) as error:
        load_settings(path)
    return str(error.value)
