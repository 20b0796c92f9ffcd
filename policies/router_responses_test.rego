# Tests of router_responses.rego: the Responses API's store, continuations and hosted tools.
package llm_router_responses_test

import rego.v1

import data.llm_router

aggregator := {"id": "openrouter:openai/gpt-4o", "provider": "openrouter", "kind": "aggregator",
	"model": "openai/gpt-4o",
	"compliance": {"dpa": false, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

dpa_direct := {"id": "openai:gpt-4o", "provider": "openai", "kind": "direct", "model": "gpt-4o",
	"compliance": {"dpa": true, "baa": false, "zdr": false, "pci_dss": false, "regions": ["us"]}}

responses(level, categories, facts) := {
	"version": 1,
	"request": object.union(
		{"id": "t", "api": "openai.responses", "model": "gpt-4o", "stream": false, "declared": {},
			"store": true, "continues": null, "hosted_tools": [], "hosted_tool_tags": {}},
		facts,
	),
	"workload": {"namespace": "ns", "pod": "p", "service_account": "sa", "labels": {}},
	"classification": {"level": level, "categories": categories, "tags": {}, "sources": ["content"],
		"truncated": false},
	"routes": [aggregator, dpa_direct],
}

chat(level, categories) := object.union(responses(level, categories, {}), {"request": {"api": "openai.chat_completions"}})

mcp_with(tags) := {"hosted_tools": ["mcp"], "hosted_tool_tags": {"mcp": tags}}

test_regulated_responses_request_must_not_be_stored if {
	d := llm_router.decision with input as responses("regulated", ["pii"], {})
	d.allow == true
	d.routes == ["openai:gpt-4o"]
	d.obligations.store == false
	"regulated data: the provider must not store the response (store: false)" in d.reasons
}

test_public_responses_request_keeps_the_apps_store if {
	d := llm_router.decision with input as responses("public", [], {})
	d.allow == true
	not "store" in object.keys(d.obligations)
}

test_truncated_responses_request_is_not_stored if {
	req := object.union(responses("public", [], {}), {"classification": {"truncated": true}})
	d := llm_router.decision with input as req
	d.obligations.store == false
}

test_other_apis_get_no_store_obligation if {
	d := llm_router.decision with input as chat("regulated", ["pii"])
	d.allow == true
	not "store" in object.keys(d.obligations)
}

test_store_off_levels_is_configurable if {
	settings := object.union(data.llm_router_config, {"store_off_levels": ["internal", "regulated"]})
	d := llm_router.decision with input as responses("internal", [], {}) with data.llm_router_config as settings
	d.obligations.store == false
}

test_secret_in_an_mcp_tool_is_blocked_even_with_secret_redaction if {
	settings := object.union(data.llm_router_config, {"redact_secrets": true})
	req := responses("regulated", ["secret"], mcp_with(["secret.jwt"]))
	d := llm_router.decision with input as req with data.llm_router_config as settings
	d.allow == false
	"secret in an mcp tool definition: blocked" in d.reasons
}

test_mcp_tool_without_a_secret_is_allowed if {
	d := llm_router.decision with input as responses("public", [], mcp_with([]))
	d.allow == true
}

test_a_secret_elsewhere_does_not_name_the_mcp_tool if {
	settings := object.union(data.llm_router_config, {"redact_secrets": true})
	req := responses("regulated", ["secret"], {"hosted_tools": ["mcp"], "hosted_tool_tags": {"web_search": ["secret.jwt"]}})
	d := llm_router.decision with input as req with data.llm_router_config as settings
	d.allow == true
	not "secret in an mcp tool definition: blocked" in d.reasons
}

test_regulated_hosted_tools_can_be_restricted if {
	settings := object.union(data.llm_router_config, {"regulated_hosted_tools": ["file_search"]})
	req := responses("regulated", ["pii"], {"hosted_tools": ["file_search", "web_search"]})
	d := llm_router.decision with input as req with data.llm_router_config as settings
	d.allow == false
	d.reasons[0] == "hosted tool web_search is not allowed for regulated data"
	e := llm_router.decision with input as responses("public", [], {"hosted_tools": ["web_search"]}) with data.llm_router_config as settings
	e.allow == true
}

test_a_continuation_is_decided_like_any_request if {
	req := responses("regulated", ["pii"], {"continues": "openrouter:openai/gpt-4o"})
	d := llm_router.decision with input as req
	d.routes == ["openai:gpt-4o"]
	"continues a response stored by openrouter:openai/gpt-4o: only that route can serve it" in d.reasons
}
