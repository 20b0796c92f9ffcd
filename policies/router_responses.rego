# The Responses API's compliance facts (openai.responses; absent for every other API):
#
#   input.request.store             true when the provider will keep the conversation (the
#                                   API's default). Regulated data must not be kept at a
#                                   provider for 30 days because an app forgot `store: false`,
#                                   so this policy requires `store: false` for it (the
#                                   obligation `store`; the sidecar rewrites the body).
#   input.request.continues         the route that stored the response this request
#                                   continues (`previous_response_id`), or null. The sidecar
#                                   only ever sends a continuation there; this policy decides
#                                   as for any request, so a follow-up turn holding regulated
#                                   data is refused when that route may not take it, whatever
#                                   the first turn held.
#   input.request.hosted_tools      kinds of provider-run tools (mcp, web_search, ...): the
#                                   provider sends data to them, out of the sidecar's sight.
#   input.request.hosted_tool_tags  per kind, the tags found in those tools' definitions.
#
# Settings (data.json, llm_router_config; optional):
#   store_off_levels       levels that get the `store: false` obligation
#                          (default ["regulated"])
#   regulated_hosted_tools hosted tool kinds a regulated request may declare (default: all;
#                          e.g. [] refuses web_search and mcp tools for regulated data)
package llm_router

import rego.v1

responses_api if input.request.api == "openai.responses"

store_off_levels := object.get(config, "store_off_levels", ["regulated"])

# Anything the classifier could not read completely is handled as regulated here too.
store_off if {
	responses_api
	level in store_off_levels
}

store_off if {
	responses_api
	truncated
}

store_obligation := {"store": false} if store_off
else := {}

hosted_tool_tags := object.get(input, ["request", "hosted_tool_tags"], {})

# An MCP tool's server URL, headers and authorization go to the provider, which calls the
# server with them: a credential there is handed to two third parties at once.
blocked contains "secret in an mcp tool definition: blocked" if {
	some tag in object.get(hosted_tool_tags, "mcp", [])
	startswith(tag, "secret.")
}

blocked contains sprintf("hosted tool %s is not allowed for regulated data", [kind]) if {
	level == "regulated"
	allowed := config.regulated_hosted_tools
	some kind in object.get(input, ["request", "hosted_tools"], [])
	not kind in allowed
}

notes contains "regulated data: the provider must not store the response (store: false)" if store_off

notes contains sprintf("continues a response stored by %s: only that route can serve it", [route]) if {
	route := input.request.continues
	is_string(route)
}
