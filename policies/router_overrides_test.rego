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
