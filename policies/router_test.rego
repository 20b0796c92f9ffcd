# Unit tests of the default policy: `llm-router policy test policies/`.
package llm_router_test

import rego.v1

import data.llm_router

aggregator := {"id": "openrouter:openai/gpt-4o", "provider": "openrouter", "kind": "aggregator",
	"model": "openai/gpt-4o",
	"compliance": {"dpa": false, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

dpa_direct := {"id": "openai:gpt-4o", "provider": "openai", "kind": "direct", "model": "gpt-4o",
	"compliance": {"dpa": true, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

baa_direct := {"id": "google:gemini", "provider": "google", "kind": "direct", "model": "gemini",
	"compliance": {"dpa": true, "baa": true, "zdr": true, "pci_dss": false, "regions": ["us", "eu"]}}

pci_direct := {"id": "payments:gpt-4o", "provider": "payments", "kind": "direct", "model": "gpt-4o",
	"compliance": {"dpa": true, "baa": false, "zdr": true, "pci_dss": true, "regions": ["us"]}}

all_routes := [aggregator, dpa_direct, baa_direct]

request(level, categories) := request_with(level, categories, {}, false, all_routes)

request_with(level, categories, labels, truncated, routes) := {
	"version": 1,
	"request": {"id": "t", "api": "openai.chat_completions", "model": "gpt-4o", "stream": false, "declared": {}},
	"workload": {"namespace": "ns", "pod": "p", "service_account": "sa", "labels": labels},
	"classification": {"level": level, "categories": categories, "tags": {}, "sources": ["content"], "truncated": truncated},
	"routes": routes,
}

test_public_uses_every_route_aggregator_first if {
	d := llm_router.decision with input as request("public", [])
	d.allow == true
	d.routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o", "google:gemini"]
	d.obligations.provider_preferences == {}
}

test_aggregator_first_even_when_listed_last if {
	d := llm_router.decision with input as request_with("public", [], {}, false, [dpa_direct, aggregator])
	d.routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o"]
}

test_internal_denies_data_collection_on_aggregator if {
	d := llm_router.decision with input as request("internal", [])
	d.routes[0] == "openrouter:openai/gpt-4o"
	d.obligations.provider_preferences == {"data_collection": "deny", "zdr": true}
}

test_pii_needs_dpa if {
	d := llm_router.decision with input as request("regulated", ["pii"])
	d.allow == true
	d.routes == ["openai:gpt-4o", "google:gemini"]
	"pii requires a route with dpa" in d.reasons
}

test_phi_needs_dpa_and_baa if {
	d := llm_router.decision with input as request("regulated", ["phi", "pii"])
	d.routes == ["google:gemini"]
	"phi requires a route with dpa and baa" in d.reasons
}

test_phi_without_baa_route_is_denied if {
	d := llm_router.decision with input as request_with("regulated", ["phi"], {}, false, [aggregator, dpa_direct])
	d.allow == false
	d.routes == []
	"no candidate route satisfies: baa, dpa" in d.reasons
}

test_secret_is_blocked if {
	d := llm_router.decision with input as request("regulated", ["secret"])
	d.allow == false
	d.routes == []
	"secret detected: blocked (redaction is off)" in d.reasons
}

test_secret_is_redacted_when_switched_on if {
	d := llm_router.decision with input as request("regulated", ["secret"])
		with data.llm_router_config.redact_secrets as true
	d.allow == true
	d.obligations.redact == ["secret"]
}

test_pci_without_pci_route_is_redacted if {
	d := llm_router.decision with input as request("regulated", ["pci"])
	d.allow == true
	d.obligations.redact == ["pci"]
	d.routes[0] == "openrouter:openai/gpt-4o"
}

test_pci_with_pii_redacts_and_routes_by_pii if {
	d := llm_router.decision with input as request("regulated", ["pci", "pii"])
	d.obligations.redact == ["pci"]
	d.routes == ["openai:gpt-4o", "google:gemini"]
}

test_pci_goes_to_pci_dss_route_unredacted if {
	d := llm_router.decision with input as request_with("regulated", ["pci"], {}, false, [aggregator, pci_direct])
	d.routes == ["payments:gpt-4o"]
	d.obligations.redact == []
}

test_residency_restricts_regions if {
	d := llm_router.decision with input as request_with("public", [], {"llm-router.io/residency": "eu"}, false, all_routes)
	d.routes == ["google:gemini"]
}

test_residency_with_no_route_in_region_is_denied if {
	d := llm_router.decision with input as request_with("public", [], {"llm-router.io/residency": "ap"}, false, all_routes)
	d.allow == false
	"no candidate route in region ap" in d.reasons
}

test_truncated_counts_as_regulated if {
	d := llm_router.decision with input as request_with("public", [], {}, true, all_routes)
	d.routes == ["google:gemini"]
	d.obligations.provider_preferences.data_collection == "deny"
}

test_declared_regulated_without_category_needs_dpa if {
	d := llm_router.decision with input as request("regulated", [])
	d.routes == ["openai:gpt-4o", "google:gemini"]
}

test_no_routes_is_denied_not_undefined if {
	d := llm_router.decision with input as request_with("public", [], {}, false, [])
	d.allow == false
	d.routes == []
}

test_decision_always_has_reasons if {
	d := llm_router.decision with input as request("confidential", [])
	count(d.reasons) > 0
}
