# Tests of router_unscanned.rego: content the sidecar forwards but could not scan.
package llm_router_unscanned_test

import rego.v1

import data.llm_router

aggregator := {"id": "openrouter:openai/gpt-4o", "provider": "openrouter", "kind": "aggregator",
	"model": "openai/gpt-4o",
	"compliance": {"dpa": false, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

dpa_direct := {"id": "openai:gpt-4o", "provider": "openai", "kind": "direct", "model": "gpt-4o",
	"compliance": {"dpa": true, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

baa_direct := {"id": "google:gemini", "provider": "google", "kind": "direct", "model": "gemini",
	"compliance": {"dpa": true, "baa": true, "zdr": true, "pci_dss": false, "regions": ["us", "eu"]}}

# Zero data retention but no DPA: only a namespace that replaces dpa with zdr may use it.
zdr_only := {"id": "zdr:gpt-4o", "provider": "zdr", "kind": "direct", "model": "gpt-4o",
	"compliance": {"dpa": false, "baa": false, "zdr": true, "pci_dss": false, "regions": ["us"]}}

pci_no_dpa := {"id": "cards:gpt-4o", "provider": "cards", "kind": "direct", "model": "gpt-4o",
	"compliance": {"dpa": false, "baa": false, "zdr": true, "pci_dss": true, "regions": ["us"]}}

pci_dpa := {"id": "payments:gpt-4o", "provider": "payments", "kind": "direct", "model": "gpt-4o",
	"compliance": {"dpa": true, "baa": false, "zdr": true, "pci_dss": true, "regions": ["us"]}}

kinds := ["image", "audio", "remote_url", "file_ref", "tokens", "pdf", "binary", "encrypted"]

request(namespace, level, categories, unscanned) := {
	"version": 1,
	"request": {"id": "t", "api": "openai.chat_completions", "model": "gpt-4o", "stream": false,
		"declared": {}, "time": "2026-11-25T10:00:00Z", "resolved_model": "gpt-4o", "model_names": ["gpt-4o"]},
	"workload": {"namespace": namespace, "pod": "p", "service_account": "sa", "labels": {}},
	"classification": {"level": level, "content_level": level, "categories": categories, "tags": {},
		"sources": ["content"], "truncated": false, "unscanned": unscanned},
	"routes": [aggregator, dpa_direct, baa_direct],
}

image(level, categories) := request("ns", level, categories, ["image"])

with_routes(req, routes) := object.union(req, {"routes": routes})

with_settings(extra) := object.union(data.llm_router_config, extra)

marketing := with_settings({"namespaces": {"marketing": {"unscanned_requirements": {"image": [], "pdf": ["zdr"]}}}})

deny_collection := {"data_collection": "deny", "zdr": true}

# ---- the default data: every kind needs a DPA, so never the aggregator ----------------------

test_every_kind_needs_a_dpa_route if {
	every kind in kinds {
		d := llm_router.decision with input as request("ns", "public", [], [kind])
		d.allow == true
		d.routes == ["openai:gpt-4o", "google:gemini"]
		d.obligations.provider_preferences == deny_collection
		d.reasons == [sprintf("unscanned %s requires a route with dpa", [kind])]
	}
}

test_every_kind_keeps_the_dpa_route_and_drops_the_aggregator if {
	every kind in kinds {
		d := llm_router.decision with input as with_routes(request("ns", "public", [], [kind]), [aggregator, dpa_direct])
		d.routes == ["openai:gpt-4o"]
	}
}

test_several_kinds_give_one_note_each if {
	d := llm_router.decision with input as request("ns", "public", [], ["image", "remote_url"])
	d.routes == ["openai:gpt-4o", "google:gemini"]
	d.reasons == ["unscanned image requires a route with dpa", "unscanned remote_url requires a route with dpa"]
}

test_nothing_unscanned_changes_nothing if {
	empty := request("ns", "public", [], [])
	every inp in [empty, json.remove(empty, ["classification/unscanned"])] {
		d := llm_router.decision with input as inp
		d.routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o", "google:gemini"]
		d.obligations.provider_preferences == {}
	}
}

test_unknown_kind_defaults_to_dpa if {
	d := llm_router.decision with input as request("ns", "public", [], ["hologram"])
	d.routes == ["openai:gpt-4o", "google:gemini"]
	"unscanned hologram requires a route with dpa" in d.reasons
}

test_missing_unscanned_requirements_key_defaults_to_dpa if {
	old := json.remove(data.llm_router_config, ["unscanned_requirements"])
	d := llm_router.decision with input as image("public", []) with data.llm_router_config as old
	d.allow == true
	d.routes == ["openai:gpt-4o", "google:gemini"]
	d.reasons == ["unscanned image requires a route with dpa"]
}

test_global_entry_can_require_more if {
	settings := with_settings({"unscanned_requirements": {"pdf": ["dpa", "baa"]}})
	d := llm_router.decision with input as request("ns", "public", [], ["pdf"]) with data.llm_router_config as settings
	d.routes == ["google:gemini"]
	"unscanned pdf requires a route with baa and dpa" in d.reasons
}

test_global_empty_entry_allows_every_route if {
	settings := with_settings({"unscanned_requirements": {"image": []}})
	d := llm_router.decision with input as image("public", []) with data.llm_router_config as settings
	d.routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o", "google:gemini"]
	d.obligations.provider_preferences == deny_collection
	"unscanned image: no route attribute required (unscanned_requirements)" in d.reasons
}

# ---- per-namespace: replaces the global entry, the one setting that can loosen ----------

test_namespace_can_send_images_through_the_aggregator if {
	d := llm_router.decision with input as request("marketing", "public", [], ["image"]) with data.llm_router_config as marketing
	d.allow == true
	d.routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o", "google:gemini"]
	d.obligations.provider_preferences == deny_collection
	"unscanned image: no route attribute required for namespace marketing (unscanned_requirements)" in d.reasons
}

test_namespace_entry_replaces_rather_than_adds if {
	d := llm_router.decision with input as with_routes(request("marketing", "public", [], ["pdf"]), [aggregator, zdr_only, dpa_direct])
		with data.llm_router_config as marketing
	d.routes == ["zdr:gpt-4o"]
	d.reasons == ["unscanned pdf requires a route with zdr"]
}

test_namespace_loosening_is_per_kind if {
	d := llm_router.decision with input as request("marketing", "public", [], ["audio", "image"]) with data.llm_router_config as marketing
	d.routes == ["openai:gpt-4o", "google:gemini"]
	"unscanned audio requires a route with dpa" in d.reasons
}

test_namespace_loosening_does_not_reach_other_namespaces if {
	d := llm_router.decision with input as image("public", []) with data.llm_router_config as marketing
	d.routes == ["openai:gpt-4o", "google:gemini"]
}

test_namespace_loosening_keeps_what_the_scan_found if {
	d := llm_router.decision with input as request("marketing", "regulated", ["phi"], ["image"]) with data.llm_router_config as marketing
	d.routes == ["google:gemini"]
}

# ---- together with the other rules ------------------------------------------------------

test_unscanned_with_pii if {
	d := llm_router.decision with input as image("regulated", ["pii"])
	d.routes == ["openai:gpt-4o", "google:gemini"]
	d.reasons == ["pii requires a route with dpa", "unscanned image requires a route with dpa"]
}

test_unscanned_with_phi_needs_both if {
	d := llm_router.decision with input as image("regulated", ["phi"])
	d.routes == ["google:gemini"]
}

test_unscanned_with_truncated_scan if {
	req := object.union(image("public", []), {"classification": {"truncated": true}})
	d := llm_router.decision with input as req
	d.routes == ["google:gemini"]
	"unscanned image requires a route with dpa" in d.reasons
	"classification truncated: treated as regulated, assuming phi and pii" in d.reasons
}

test_unscanned_with_residency if {
	req := object.union(image("public", []), {"workload": {"labels": {"llm-router.io/residency": "eu"}}})
	d := llm_router.decision with input as req
	d.routes == ["google:gemini"]
}

test_unscanned_with_residency_and_no_route_says_why if {
	req := object.union(image("public", []), {"workload": {"labels": {"llm-router.io/residency": "ap"}}})
	d := llm_router.decision with input as req
	d.allow == false
	"no candidate route in region ap satisfies: dpa (unscanned image needs dpa)" in d.reasons
}

test_no_route_message_names_the_unscanned_kinds if {
	settings := with_settings({"unscanned_requirements": {"pdf": ["dpa", "baa"]}})
	req := with_routes(request("ns", "public", [], ["image", "pdf"]), [aggregator])
	d := llm_router.decision with input as req with data.llm_router_config as settings
	d.allow == false
	"no candidate route satisfies: baa, dpa (unscanned image needs dpa; unscanned pdf needs baa and dpa)" in d.reasons
}

test_card_data_goes_unredacted_only_to_a_route_meeting_the_unscanned_needs if {
	d := llm_router.decision with input as with_routes(image("regulated", ["pci"]), [aggregator, pci_dpa])
	d.routes == ["payments:gpt-4o"]
	d.obligations.redact == []
	e := llm_router.decision with input as with_routes(image("regulated", ["pci"]), [pci_no_dpa, dpa_direct])
	e.routes == ["openai:gpt-4o"]
	e.obligations.redact == ["pci"]
}

test_lowered_declaration_keeps_the_unscanned_needs if {
	settings := with_settings({"namespaces": {"loadtest": {"allow_lower_declaration": true}}})
	req := object.union(request("loadtest", "regulated", ["pii"], ["image"]), {"request": {"declared": {"data_class": "public"}}})
	d := llm_router.decision with input as req with data.llm_router_config as settings
	d.routes == ["openai:gpt-4o", "google:gemini"]
}

test_break_glass_waives_unscanned_needs_too if {
	settings := with_settings({"break_glass": [{"id": "BG-1", "namespace": "ns", "waive": ["dpa"],
		"reason": "r", "approver": "a", "expires": "2026-12-01T00:00:00Z"}]})
	d := llm_router.decision with input as with_routes(image("public", []), [aggregator]) with data.llm_router_config as settings
	d.routes == ["openrouter:openai/gpt-4o"]
	d.break_glass[0].id == "BG-1"
}

# ---- malformed input or data fails closed -----------------------------------------------

test_unscanned_that_is_not_a_list_blocks if {
	req := object.union(request("ns", "public", [], []), {"classification": {"unscanned": "image"}})
	d := llm_router.decision with input as req
	d.allow == false
	"classification.unscanned is not a list: blocked" in d.reasons
}

test_requirement_that_is_not_a_list_blocks if {
	settings := with_settings({"unscanned_requirements": {"image": "dpa"}})
	d := llm_router.decision with input as image("public", []) with data.llm_router_config as settings
	d.allow == false
	"unscanned_requirements.image is not a list of attributes: blocked" in d.reasons
	not "unscanned image: no route attribute required (unscanned_requirements)" in d.reasons
}
