# Tests of router_overrides.rego: namespace overrides, model lists, lowered declarations,
# break-glass exceptions, per-model aggregator preferences and rerouting.
package llm_router_overrides_test

import rego.v1

import data.llm_router

aggregator := {"id": "openrouter:m", "provider": "openrouter", "kind": "aggregator", "model": "m",
	"compliance": {"dpa": false, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

dpa_direct := {"id": "openai:m", "provider": "openai", "kind": "direct", "model": "m",
	"compliance": {"dpa": true, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

claude_direct := {"id": "anthropic:claude", "provider": "anthropic", "kind": "direct", "model": "claude",
	"compliance": {"dpa": true, "baa": true, "zdr": true, "pci_dss": false, "regions": ["us"]}}

req(namespace, level, categories, declared) := {
	"version": 1,
	"request": {"id": "t", "api": "openai.chat_completions", "model": "gpt-4o", "stream": false,
		"declared": declared, "time": "2026-11-25T10:00:00Z"},
	"workload": {"namespace": namespace, "pod": "p", "service_account": "sa", "labels": {}},
	"classification": {"level": level, "categories": categories, "tags": {}, "sources": ["content"], "truncated": false},
	"routes": [aggregator, dpa_direct],
	"alternatives": {"claude-sonnet-5": [claude_direct]},
}

settings := object.union(data.llm_router_config, {
	"namespaces": {
		"claims": {"requirements": {"pii": ["baa"]}, "denied_models": ["gpt-4o-mini"]},
		"research": {"allowed_models": ["claude-sonnet-5"]},
		"loadtest": {"allow_lower_declaration": true},
	},
	"denied_models": ["legacy-model"],
	"model_preferences": {"gpt-4o": {"only": ["openai"], "allow_fallbacks": false}},
	"aggregator_preferences": {"require_parameters": true},
	"reroute": {"gpt-4o": "claude-sonnet-5"},
	"break_glass": [{"id": "BG-7", "namespace": "oncall", "waive": ["dpa"], "reason": "incident 4711",
		"approver": "ciso@example.com", "expires": "2026-11-26T00:00:00Z"}],
})

test_namespace_override_tightens_requirements if {
	d := llm_router.decision with input as req("claims", "regulated", ["pii"], {}) with data.llm_router_config as settings
	# pii needs dpa globally and baa in claims: only the rerouted Claude route has both
	d.routes == ["anthropic:claude"]
	d.reroute == "claude-sonnet-5"
}

test_reroute_not_used_without_data if {
	d := llm_router.decision with input as req("claims", "regulated", ["phi"], {})
	d.allow == false
	not d.reroute
}

test_globally_denied_model if {
	inp := json.patch(req("x", "public", [], {}), [{"op": "replace", "path": "/request/model", "value": "legacy-model"}])
	d := llm_router.decision with input as inp with data.llm_router_config as settings
	d.allow == false
	"model legacy-model is denied by policy" in d.reasons
}

test_namespace_allow_list if {
	d := llm_router.decision with input as req("research", "public", [], {}) with data.llm_router_config as settings
	d.allow == false
	"model gpt-4o is not in the allowed models of namespace research" in d.reasons
}

test_lowering_refused_by_default if {
	d := llm_router.decision with input as req("x", "regulated", ["pii"], {"data_class": "public"}) with data.llm_router_config as settings
	d.routes == ["openai:m"]
}

test_lowering_allowed_for_trusted_namespace if {
	d := llm_router.decision with input as req("loadtest", "regulated", ["pii"], {"data_class": "public"}) with data.llm_router_config as settings
	d.routes == ["openrouter:m", "openai:m"]
	some r in d.reasons
	startswith(r, "declared public accepted for namespace loadtest")
}

test_break_glass_waives_and_is_reported if {
	d := llm_router.decision with input as req("oncall", "regulated", ["pii"], {}) with data.llm_router_config as settings
	d.routes == ["openrouter:m", "openai:m"]
	d.break_glass[0].id == "BG-7"
	d.break_glass[0].approver == "ciso@example.com"
}

test_expired_break_glass_does_nothing if {
	inp := json.patch(req("oncall", "regulated", ["pii"], {}), [{"op": "replace", "path": "/request/time", "value": "2026-12-01T00:00:00Z"}])
	d := llm_router.decision with input as inp with data.llm_router_config as settings
	d.routes == ["openai:m"]
	not d.break_glass
}

test_break_glass_needs_reason_and_approver if {
	no_approver := json.patch(settings, [{"op": "replace", "path": "/break_glass/0/approver", "value": ""}])
	d := llm_router.decision with input as req("oncall", "regulated", ["pii"], {}) with data.llm_router_config as no_approver
	not d.break_glass
}

test_aggregator_preferences_per_model if {
	d := llm_router.decision with input as req("x", "internal", [], {}) with data.llm_router_config as settings
	d.obligations.provider_preferences == {"data_collection": "deny", "zdr": true, "require_parameters": true,
		"only": ["openai"], "allow_fallbacks": false}
}

test_namespace_denied_model if {
	inp := json.patch(req("claims", "public", [], {}), [{"op": "replace", "path": "/request/model", "value": "gpt-4o-mini"}])
	d := llm_router.decision with input as inp with data.llm_router_config as settings
	d.allow == false
	"model gpt-4o-mini is denied for namespace claims" in d.reasons
}

# ---- model names: aliases, resolved names and upstream ids --------------------------------

# A request for `model`, which the sidecar resolved to `resolved` with these names.
named(namespace, model, resolved, names) := json.patch(req(namespace, "public", [], {}), [
	{"op": "replace", "path": "/request/model", "value": model},
	{"op": "add", "path": "/request/resolved_model", "value": resolved},
	{"op": "add", "path": "/request/model_names", "value": names},
])

smart := named("x", "smart", "gpt-4o", ["gpt-4o", "smart"])

denying(names) := object.union(settings, {"denied_models": names})

test_deny_of_the_logical_name_blocks_an_alias if {
	d := llm_router.decision with input as smart with data.llm_router_config as denying(["gpt-4o"])
	d.allow == false
	"model smart (resolved to gpt-4o) is denied by policy (listed: gpt-4o)" in d.reasons
}

test_deny_of_an_alias_blocks_the_logical_name if {
	inp := named("x", "gpt-4o", "gpt-4o", ["gpt-4o", "smart"])
	d := llm_router.decision with input as inp with data.llm_router_config as denying(["smart"])
	d.allow == false
	"model gpt-4o is denied by policy (listed: smart)" in d.reasons
}

test_deny_of_an_upstream_model_id_blocks if {
	d := llm_router.decision with input as smart with data.llm_router_config as denying(["m"])
	d.allow == false
	"model smart (resolved to gpt-4o) is denied by policy (listed: m)" in d.reasons
}

test_deny_of_another_model_does_not_block if {
	d := llm_router.decision with input as smart with data.llm_router_config as denying(["gpt-4o-mini", "claude"])
	d.allow == true
}

test_namespace_deny_matches_aliases if {
	inp := named("claims", "mini", "gpt-4o-mini", ["gpt-4o-mini", "mini"])
	d := llm_router.decision with input as inp with data.llm_router_config as settings
	d.allow == false
	"model mini (resolved to gpt-4o-mini) is denied for namespace claims (listed: gpt-4o-mini)" in d.reasons
}

test_allowed_models_via_an_alias if {
	inp := named("research", "claude", "claude-sonnet-5", ["claude-sonnet-5", "claude"])
	d := llm_router.decision with input as inp with data.llm_router_config as settings
	d.allow == true
	e := llm_router.decision with input as named("research", "smart", "gpt-4o", ["gpt-4o", "smart"])
		with data.llm_router_config as settings
	e.allow == false
	"model smart (resolved to gpt-4o) is not in the allowed models of namespace research" in e.reasons
}

test_allowed_models_via_an_upstream_model_id if {
	allow_m := object.union(settings, {"namespaces": {"research": {"allowed_models": ["m"]}}})
	d := llm_router.decision with input as req("research", "public", [], {}) with data.llm_router_config as allow_m
	d.allow == true
}

test_without_the_new_fields_the_requested_name_is_used if {
	inp := json.patch(req("x", "public", [], {}), [{"op": "replace", "path": "/request/model", "value": "smart"}])
	d := llm_router.decision with input as inp with data.llm_router_config as denying(["gpt-4o"])
	d.allow == true
	e := llm_router.decision with input as inp with data.llm_router_config as denying(["smart"])
	e.reasons == ["model smart is denied by policy"]
}

test_model_preferences_by_resolved_name_then_requested if {
	d := llm_router.decision with input as smart with data.llm_router_config as settings
	d.obligations.provider_preferences.only == ["openai"]
	both := json.patch(settings, [{"op": "add", "path": "/model_preferences/smart", "value": {"only": ["azure"]}}])
	e := llm_router.decision with input as smart with data.llm_router_config as both
	e.obligations.provider_preferences.only == ["openai"]
	alias_only := json.patch(both, [{"op": "remove", "path": "/model_preferences/gpt-4o"}])
	f := llm_router.decision with input as smart with data.llm_router_config as alias_only
	f.obligations.provider_preferences.only == ["azure"]
}

test_reroute_by_resolved_name if {
	inp := json.patch(named("claims", "smart", "gpt-4o", ["gpt-4o", "smart"]), [
		{"op": "replace", "path": "/classification/level", "value": "regulated"},
		{"op": "replace", "path": "/classification/categories", "value": ["pii"]},
	])
	d := llm_router.decision with input as inp with data.llm_router_config as settings
	d.reroute == "claude-sonnet-5"
	"no route of smart (resolved to gpt-4o) is allowed: rerouted to claude-sonnet-5" in d.reasons
}

test_reroute_by_the_requested_name_when_the_resolved_one_has_none if {
	inp := json.patch(req("claims", "regulated", ["pii"], {}), [
		{"op": "replace", "path": "/request/model", "value": "smart"},
		{"op": "add", "path": "/request/resolved_model", "value": "gpt-4o"},
	])
	by_alias := json.patch(settings, [{"op": "replace", "path": "/reroute", "value": {"smart": "claude-sonnet-5"}}])
	d := llm_router.decision with input as inp with data.llm_router_config as by_alias
	d.reroute == "claude-sonnet-5"
}

test_reroute_to_a_denied_model_is_not_used if {
	for_claims := req("claims", "regulated", ["pii"], {})
	d := llm_router.decision with input as for_claims with data.llm_router_config as denying(["claude"])
	d.allow == false
	not d.reroute
	"no route of gpt-4o is allowed: not rerouted to claude-sonnet-5, which the model lists exclude" in d.reasons
}
