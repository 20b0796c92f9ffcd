# Unit tests of the default policy: `llm-router policy test policies/`.
package llm_router_test

import rego.v1

import data.llm_router

# ---- fixtures: one route of each compliance profile -------------------------------------

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

request(level, categories) := {
	"version": 1,
	"request": {"id": "t", "api": "openai.chat_completions", "model": "gpt-4o", "stream": false, "declared": {}},
	"workload": {"namespace": "ns", "pod": "p", "service_account": "sa", "labels": {}},
	"classification": {"level": level, "categories": categories, "tags": {}, "sources": ["content"], "truncated": false},
	"routes": all_routes,
}

# Variations on a request; object.union merges nested objects and replaces arrays.
with_routes(req, routes) := object.union(req, {"routes": routes})

in_region(req, region) := object.union(req, {"workload": {"labels": {"llm-router.io/residency": region}}})

truncated(req) := object.union(req, {"classification": {"truncated": true}})

from_sources(req, sources) := object.union(req, {"classification": {"sources": sources}})

# ---- public, internal, confidential: every route, aggregator first ----------------------

test_public_uses_every_route_aggregator_first if {
	d := llm_router.decision with input as request("public", [])
	d.allow == true
	d.routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o", "google:gemini"]
	d.obligations == {"redact": [], "provider_preferences": {}}
	d.reasons == ["public data: all routes allowed, aggregator first"]
}

test_aggregator_first_even_when_listed_last if {
	d := llm_router.decision with input as with_routes(request("public", []), [dpa_direct, baa_direct, aggregator])
	d.routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o", "google:gemini"]
}

test_internal_denies_data_collection_on_aggregator if {
	d := llm_router.decision with input as request("internal", [])
	d.routes[0] == "openrouter:openai/gpt-4o"
	d.obligations.provider_preferences == {"data_collection": "deny", "zdr": true}
}

test_confidential_uses_every_route_with_preferences if {
	d := llm_router.decision with input as request("confidential", [])
	d.allow == true
	count(d.routes) == 3
	d.obligations.provider_preferences.data_collection == "deny"
	"confidential data: all routes allowed, aggregator first" in d.reasons
}

# ---- regulated categories: only compliant routes, candidate order -----------------------

test_pii_needs_dpa if {
	d := llm_router.decision with input as request("regulated", ["pii"])
	d.allow == true
	d.routes == ["openai:gpt-4o", "google:gemini"]
	"pii requires a route with dpa" in d.reasons
}

test_regulated_keeps_candidate_order if {
	d := llm_router.decision with input as with_routes(request("regulated", ["pii"]), [baa_direct, aggregator, dpa_direct])
	d.routes == ["google:gemini", "openai:gpt-4o"]
}

test_phi_needs_dpa_and_baa if {
	d := llm_router.decision with input as request("regulated", ["phi", "pii"])
	d.routes == ["google:gemini"]
	"phi requires a route with dpa and baa" in d.reasons
}

test_phi_without_baa_route_is_denied if {
	d := llm_router.decision with input as with_routes(request("regulated", ["phi"]), [aggregator, dpa_direct])
	d.allow == false
	d.routes == []
	"no candidate route satisfies: baa, dpa" in d.reasons
}

test_unknown_category_is_blocked if {
	d := llm_router.decision with input as request("regulated", ["biometric"])
	d.allow == false
	"no requirements configured for category biometric: blocked" in d.reasons
}

# ---- secrets ----------------------------------------------------------------------------

test_secret_is_blocked if {
	d := llm_router.decision with input as request("regulated", ["secret"])
	d.allow == false
	d.routes == []
	d.reasons == ["secret detected: blocked (redaction is off)"]
}

test_secret_is_redacted_when_switched_on if {
	d := llm_router.decision with input as request("regulated", ["secret"])
		with data.llm_router_config.redact_secrets as true
	d.allow == true
	d.obligations.redact == ["secret"]
	d.routes[0] == "openrouter:openai/gpt-4o"
	"secret detected: redacted before forwarding" in d.reasons
}

test_redacted_secret_with_pii_routes_by_pii if {
	d := llm_router.decision with input as request("regulated", ["pii", "secret"])
		with data.llm_router_config.redact_secrets as true
	d.routes == ["openai:gpt-4o", "google:gemini"]
	d.obligations.redact == ["secret"]
}

# ---- card data --------------------------------------------------------------------------

test_pci_without_pci_route_is_redacted if {
	d := llm_router.decision with input as request("regulated", ["pci"])
	d.allow == true
	d.obligations.redact == ["pci"]
	d.routes[0] == "openrouter:openai/gpt-4o"
	"card data redacted: no candidate route is pci_dss compliant" in d.reasons
}

test_pci_with_pii_redacts_and_routes_by_pii if {
	d := llm_router.decision with input as request("regulated", ["pci", "pii"])
	d.obligations.redact == ["pci"]
	d.routes == ["openai:gpt-4o", "google:gemini"]
}

test_pci_goes_to_pci_dss_route_unredacted if {
	d := llm_router.decision with input as with_routes(request("regulated", ["pci"]), [aggregator, pci_direct])
	d.routes == ["payments:gpt-4o"]
	d.obligations.redact == []
}

test_pci_route_must_also_meet_other_categories if {
	# The PCI route has no BAA: phi wins, card data is redacted instead.
	d := llm_router.decision with input as with_routes(request("regulated", ["pci", "phi"]), [pci_direct, baa_direct])
	d.routes == ["google:gemini"]
	d.obligations.redact == ["pci"]
}

test_pci_fallback_block_denies if {
	d := llm_router.decision with input as request("regulated", ["pci"])
		with data.llm_router_config.pci_fallback as "block"
	d.allow == false
	d.obligations.redact == []
	"no candidate route satisfies: pci_dss" in d.reasons
}

test_declared_level_keeps_its_floor_after_pci_redaction if {
	d := llm_router.decision with input as from_sources(request("regulated", ["pci"]), ["content", "declared"])
	d.obligations.redact == ["pci"]
	d.routes == ["openai:gpt-4o", "google:gemini"]
}

# ---- residency --------------------------------------------------------------------------

test_residency_restricts_regions if {
	d := llm_router.decision with input as in_region(request("public", []), "eu")
	d.routes == ["google:gemini"]
	"residency eu: only routes in that region" in d.reasons
}

test_residency_applies_to_regulated_data if {
	d := llm_router.decision with input as in_region(request("regulated", ["pii"]), "eu")
	d.routes == ["google:gemini"]
}

test_residency_with_no_route_in_region_is_denied if {
	d := llm_router.decision with input as in_region(request("public", []), "ap")
	d.allow == false
	"no candidate route in region ap" in d.reasons
	not "public data: all routes allowed, aggregator first" in d.reasons
}

test_residency_and_requirements_unmet_says_both if {
	d := llm_router.decision with input as in_region(request("regulated", ["pii"]), "ap")
	d.allow == false
	"no candidate route in region ap satisfies: dpa" in d.reasons
}

test_pci_redaction_considers_only_routes_in_region if {
	req := in_region(with_routes(request("regulated", ["pci"]), [pci_direct, baa_direct]), "eu")
	d := llm_router.decision with input as req
	d.routes == ["google:gemini"]
	d.obligations.redact == ["pci"]
}

# ---- conservative defaults --------------------------------------------------------------

test_truncated_counts_as_regulated if {
	d := llm_router.decision with input as truncated(request("public", []))
	d.routes == ["google:gemini"]
	d.obligations.provider_preferences.data_collection == "deny"
	"classification truncated: treated as regulated, assuming phi and pii" in d.reasons
}

test_declared_regulated_without_category_needs_dpa if {
	d := llm_router.decision with input as request("regulated", [])
	d.routes == ["openai:gpt-4o", "google:gemini"]
	"regulated level requires a route with dpa" in d.reasons
}

test_unknown_level_counts_as_regulated if {
	d := llm_router.decision with input as request("top-secret", [])
	d.routes == ["openai:gpt-4o", "google:gemini"]
	d.obligations.provider_preferences.zdr == true
	"unknown classification level top-secret: treated as regulated" in d.reasons
}

test_missing_level_counts_as_regulated if {
	req := json.remove(request("public", []), ["classification/level"])
	d := llm_router.decision with input as req
	d.routes == ["openai:gpt-4o", "google:gemini"]
}

test_missing_settings_block_everything if {
	d := llm_router.decision with input as request("regulated", ["pii"])
		with data.llm_router_config as {}
	d.allow == false
	d.routes == []
	"policy data missing: llm_router_config.requirements" in d.reasons
}

# ---- the decision is always defined and explained ---------------------------------------

test_no_routes_is_denied_not_undefined if {
	d := llm_router.decision with input as with_routes(request("public", []), [])
	d.allow == false
	d.routes == []
	d.reasons == ["no candidate routes were offered"]
}

test_empty_input_is_denied_not_undefined if {
	d := llm_router.decision with input as {}
	d.allow == false
	d.routes == []
}

test_every_decision_has_reasons if {
	every level in ["public", "internal", "confidential", "regulated"] {
		d := llm_router.decision with input as request(level, [])
		count(d.reasons) > 0
	}
}

# ---- the decision-cache declaration holds -----------------------------------------------

test_decision_cache_is_declared if {
	llm_router.decision_cache.cacheable == true
	llm_router.decision_cache.ignore == ["request.id", "request.time", "classification.tags"]
	llm_router.decision_cache.time_boundaries == []
}

# Inputs that differ only in the ignored paths get the same decision, for every profile.
cache_variant(req) := json.patch(req, [
	{"op": "replace", "path": "/request/id", "value": "another-request"},
	{"op": "add", "path": "/request/time", "value": "2031-01-01T00:00:00.123Z"},
	{"op": "replace", "path": "/classification/tags", "value": {"pii.email": 7, "pci.pan": 2, "secret.jwt": 1}},
])

cache_cases := [
	request("public", []),
	request("internal", []),
	request("regulated", ["pii"]),
	request("regulated", ["phi", "pii"]),
	request("regulated", ["pci"]),
	request("regulated", ["secret"]),
	truncated(request("public", [])),
	in_region(request("regulated", ["pii"]), "eu"),
	from_sources(request("regulated", []), ["declared"]),
	object.union(request("public", []), {"classification": {"unscanned": ["image", "pdf"], "content_level": "public"}}),
	object.union(request("regulated", ["pii"]), {"request": {"model": "smart", "resolved_model": "gpt-4o", "model_names": ["gpt-4o", "smart"]}}),
]

# The fields added to the contract are read, so they are not in the ignore list.
test_decision_reads_the_unscanned_kinds if {
	scanned := llm_router.decision with input as request("public", [])
	unscanned := llm_router.decision with input as object.union(request("public", []), {"classification": {"unscanned": ["image"]}})
	scanned.routes != unscanned.routes
	every path in ["classification.unscanned", "request.resolved_model", "request.model_names"] {
		not path in llm_router.decision_cache.ignore
	}
}

test_decision_ignores_the_declared_inputs if {
	every req in cache_cases {
		a := llm_router.decision with input as req
		b := llm_router.decision with input as cache_variant(req)
		a == b
	}
}

test_break_glass_expiries_are_time_boundaries if {
	settings := object.union(data.llm_router_config, {"break_glass": [
		{"id": "B", "namespace": "ns", "waive": ["dpa"], "reason": "r", "approver": "a", "expires": "2026-12-02T00:00:00Z"},
		{"id": "A", "namespace": "ns", "waive": ["dpa"], "reason": "r", "approver": "a", "expires": "2026-12-01T00:00:00Z"},
	]})
	boundaries := llm_router.decision_cache.time_boundaries with data.llm_router_config as settings
	boundaries == ["2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"]
}
