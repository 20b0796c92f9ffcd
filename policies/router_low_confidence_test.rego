# Tests of router_low_confidence.rego, and of how the default policy routes the entity
# stage's tags: names, street addresses and diagnoses in words.
package llm_router_low_confidence_test

import rego.v1

import data.llm_router

aggregator := {"id": "openrouter:openai/gpt-4o", "provider": "openrouter", "kind": "aggregator",
	"model": "openai/gpt-4o",
	"compliance": {"dpa": false, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

dpa_direct := {"id": "openai:gpt-4o", "provider": "openai", "kind": "direct", "model": "gpt-4o",
	"compliance": {"dpa": true, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

baa_direct := {"id": "google:gemini", "provider": "google", "kind": "direct", "model": "gemini",
	"compliance": {"dpa": true, "baa": true, "zdr": true, "pci_dss": false, "regions": ["us", "eu"]}}

request(level, categories, tags, low) := {
	"version": 1,
	"request": {"id": "t", "api": "openai.chat_completions", "model": "gpt-4o", "stream": false, "declared": {}},
	"workload": {"namespace": "claims", "pod": "p", "service_account": "sa", "labels": {}},
	"classification": {
		"level": level, "categories": categories, "tags": tags, "sources": ["content"],
		"truncated": false, "low_confidence_tags": low,
	},
	"routes": [aggregator, dpa_direct, baa_direct],
}

strict_config := object.union(data.llm_router_config, {"low_confidence_requirements": {"pii.person_name": ["dpa"]}})

# ---- medium and high findings: pii and phi like any other --------------------------------

test_a_name_and_an_address_need_a_dpa if {
	d := llm_router.decision with input as request("regulated", ["pii"], {"pii.person_name": 1, "pii.street_address": 1}, {})
	d.routes == ["openai:gpt-4o", "google:gemini"]
	"pii requires a route with dpa" in d.reasons
}

test_a_diagnosis_next_to_a_name_needs_a_baa if {
	d := llm_router.decision with input as request("regulated", ["phi", "pii"], {"phi.diagnosis": 1, "pii.person_name": 1}, {})
	d.routes == ["google:gemini"]
}

# ---- low confidence: nothing by default --------------------------------------------------

test_low_confidence_names_alone_keep_every_route if {
	d := llm_router.decision with input as request("public", [], {}, {"pii.person_name": 2})
	d.routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o", "google:gemini"]
	d.obligations.provider_preferences == {}
}

test_an_absent_field_is_no_low_confidence_finding if {
	req := json.remove(request("public", [], {}, {}), ["classification/low_confidence_tags"])
	d := llm_router.decision with input as req
	d.routes[0] == "openrouter:openai/gpt-4o"
}

# ---- low_confidence_requirements: a stricter operator ------------------------------------

test_a_tag_entry_keeps_possible_names_off_the_aggregator if {
	d := llm_router.decision with input as request("public", [], {}, {"pii.person_name": 1})
		with data.llm_router_config as strict_config
	d.routes == ["openai:gpt-4o", "google:gemini"]
	"low-confidence pii.person_name requires a route with dpa" in d.reasons
	d.obligations.provider_preferences.data_collection == "deny"
}

test_a_tag_entry_ignores_other_tags if {
	d := llm_router.decision with input as request("public", [], {}, {"pii.street_address": 1})
		with data.llm_router_config as strict_config
	d.routes[0] == "openrouter:openai/gpt-4o"
}

test_a_category_entry_covers_its_tags if {
	cfg := object.union(data.llm_router_config, {"low_confidence_requirements": {"phi": ["dpa", "baa"]}})
	d := llm_router.decision with input as request("public", [], {}, {"phi.diagnosis": 1})
		with data.llm_router_config as cfg
	d.routes == ["google:gemini"]
}

test_a_namespace_entry_only_adds if {
	cfg := object.union(strict_config, {"namespaces": {"claims": {"low_confidence_requirements": {"pii.person_name": ["baa"]}}}})
	d := llm_router.decision with input as request("public", [], {}, {"pii.person_name": 1})
		with data.llm_router_config as cfg
	d.routes == ["google:gemini"]
}

test_a_zero_count_is_no_finding if {
	d := llm_router.decision with input as request("public", [], {}, {"pii.person_name": 0})
		with data.llm_router_config as strict_config
	d.routes[0] == "openrouter:openai/gpt-4o"
}

# ---- fail closed -------------------------------------------------------------------------

test_an_entry_that_is_no_list_blocks if {
	cfg := object.union(data.llm_router_config, {"low_confidence_requirements": {"pii": "dpa"}})
	d := llm_router.decision with input as request("public", [], {}, {"pii.person_name": 1})
		with data.llm_router_config as cfg
	d.allow == false
}

test_tags_that_are_no_object_block if {
	req := object.union(request("public", [], {}, {}), {"classification": {"low_confidence_tags": ["pii.person_name"]}})
	d := llm_router.decision with input as req
	d.allow == false
}
