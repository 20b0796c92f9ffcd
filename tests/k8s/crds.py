"""Schemas for the custom resources the manifests use, which kubernetes-validate does not know.

Trimmed from the cert-manager (v1) and Prometheus Operator (monitoring.coreos.com/v1) CRDs
to the fields those CRDs define at the levels these manifests write, with unknown fields
rejected as the API server's structural schemas do, so a misspelt field fails here.
"""

from __future__ import annotations

from typing import Any

import jsonschema

DURATION_GO = {"type": "string", "pattern": r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"}
DURATION_PROM = {
    "type": "string",
    "pattern": (
        r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?"
        r"(([0-9]+)ms)?)$"
    ),
}
LABEL_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}},
        "matchExpressions": {"type": "array", "items": {"type": "object"}},
    },
}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(required),
    }


ISSUER_REF = _obj(
    {"name": {"type": "string"}, "kind": {"type": "string"}, "group": {"type": "string"}}, ("name",)
)
CERTIFICATE_SPEC = _obj(
    {
        "secretName": {"type": "string"},
        "issuerRef": ISSUER_REF,
        "commonName": {"type": "string"},
        "dnsNames": {"type": "array", "items": {"type": "string"}},
        "ipAddresses": {"type": "array", "items": {"type": "string"}},
        "uris": {"type": "array", "items": {"type": "string"}},
        "duration": DURATION_GO,
        "renewBefore": DURATION_GO,
        "isCA": {"type": "boolean"},
        "usages": {
            "type": "array",
            "items": {
                "enum": [
                    "signing",
                    "digital signature",
                    "content commitment",
                    "key encipherment",
                    "key agreement",
                    "data encipherment",
                    "cert sign",
                    "crl sign",
                    "encipher only",
                    "decipher only",
                    "any",
                    "server auth",
                    "client auth",
                    "code signing",
                    "email protection",
                    "s/mime",
                    "ipsec end system",
                    "ipsec tunnel",
                    "ipsec user",
                    "timestamping",
                    "ocsp signing",
                    "microsoft sgc",
                    "netscape sgc",
                ]
            },
        },
        "privateKey": _obj(
            {
                "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
                "size": {"type": "integer"},
                "encoding": {"enum": ["PKCS1", "PKCS8"]},
                "rotationPolicy": {"enum": ["Never", "Always"]},
            }
        ),
        "secretTemplate": _obj({"annotations": STRING_MAP, "labels": STRING_MAP}),
        "revisionHistoryLimit": {"type": "integer"},
    },
    ("secretName", "issuerRef"),
)
ISSUER_SPEC = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "selfSigned": _obj({"crlDistributionPoints": {"type": "array"}}),
        "ca": _obj(
            {
                "secretName": {"type": "string"},
                "crlDistributionPoints": {"type": "array"},
                "ocspServers": {"type": "array"},
                "issuingCertificateURLs": {"type": "array"},
            },
            ("secretName",),
        ),
        "acme": {"type": "object"},
        "vault": {"type": "object"},
        "venafi": {"type": "object"},
    },
    "minProperties": 1,
    "maxProperties": 1,
}
NAMESPACE_SELECTOR = _obj(
    {"any": {"type": "boolean"}, "matchNames": {"type": "array", "items": {"type": "string"}}}
)
ENDPOINT_COMMON = {
    "port": {"type": "string"},
    "path": {"type": "string"},
    "interval": DURATION_PROM,
    "scrapeTimeout": DURATION_PROM,
    "scheme": {"enum": ["http", "https"]},
    "honorLabels": {"type": "boolean"},
    "relabelings": {"type": "array"},
    "metricRelabelings": {"type": "array"},
}
POD_MONITOR_SPEC = _obj(
    {
        "selector": LABEL_SELECTOR,
        "namespaceSelector": NAMESPACE_SELECTOR,
        "podMetricsEndpoints": {
            "type": "array",
            "items": _obj({**ENDPOINT_COMMON, "portNumber": {"type": "integer"}}),
        },
        "jobLabel": {"type": "string"},
        "podTargetLabels": {"type": "array", "items": {"type": "string"}},
        "sampleLimit": {"type": "integer"},
    },
    ("selector",),
)
SERVICE_MONITOR_SPEC = _obj(
    {
        "selector": LABEL_SELECTOR,
        "namespaceSelector": NAMESPACE_SELECTOR,
        "endpoints": {"type": "array", "items": _obj({**ENDPOINT_COMMON, "targetPort": {}})},
        "jobLabel": {"type": "string"},
        "targetLabels": {"type": "array", "items": {"type": "string"}},
        "sampleLimit": {"type": "integer"},
    },
    ("selector",),
)
RULE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "alert": {"type": "string"},
        "record": {"type": "string"},
        "expr": {"type": "string", "minLength": 1},
        "for": DURATION_PROM,
        "keep_firing_for": DURATION_PROM,
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
    "required": ["expr"],
    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
}
PROMETHEUS_RULE_SPEC = _obj(
    {
        "groups": {
            "type": "array",
            "items": _obj(
                {
                    "name": {"type": "string", "minLength": 1},
                    "interval": DURATION_PROM,
                    "rules": {"type": "array", "items": RULE},
                    "limit": {"type": "integer"},
                    "partial_response_strategy": {"type": "string"},
                    "query_offset": DURATION_PROM,
                    "labels": STRING_MAP,
                },
                ("name",),
            ),
        }
    }
)

SPECS = {
    ("cert-manager.io/v1", "Certificate"): CERTIFICATE_SPEC,
    ("cert-manager.io/v1", "Issuer"): ISSUER_SPEC,
    ("monitoring.coreos.com/v1", "PodMonitor"): POD_MONITOR_SPEC,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): SERVICE_MONITOR_SPEC,
    ("monitoring.coreos.com/v1", "PrometheusRule"): PROMETHEUS_RULE_SPEC,
}
METADATA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"},
        "namespace": {"type": "string"},
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
    "required": ["name"],
}


def validate_custom(obj: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `obj` does not fit its CRD; KeyError if unknown."""
    spec = SPECS[(obj["apiVersion"], obj["kind"])]
    schema = _obj(
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": METADATA,
            "spec": spec,
        },
        ("apiVersion", "kind", "metadata", "spec"),
    )
    jsonschema.Draft202012Validator(schema).validate(obj)
