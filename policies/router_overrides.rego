# Namespace overrides, model allow/deny lists, lowered declarations, break-glass exceptions
# and rerouting to a compliant model: the parts of the default policy that operators tune
# per team. Settings live in data.json under llm_router_config (all optional):
#
#   namespaces.<ns>.requirements       extra category -> attributes for that namespace
#   namespaces.<ns>.allowed_models     only these models (empty or absent: any)
#   namespaces.<ns>.denied_models      never these models
#   namespaces.<ns>.allow_lower_declaration  trust X-LLM-Data-Class to lower the level
#   denied_models                      never these models, anywhere
#   model_preferences.<model>          OpenRouter provider preferences for that model
#   aggregator_preferences             OpenRouter preferences for every aggregator call
#   reroute.<model>                    a compliant model to use when <model> has no allowed
#                                      route (the sidecar offers its routes as alternatives)
#   break_glass[]                      {id, namespace, waive: [attributes], reason, approver,
#                                       expires: RFC 3339}: time-bound, always in the decision
package llm_router

import rego.v1

namespace := object.get(input, ["workload", "namespace"], "")

namespace_settings := object.get(config, ["namespaces", namespace], {})

requested_model := object.get(input, ["request", "model"], "")

# ---- model allow / deny -------------------------------------------------------------------

blocked contains sprintf("model %s is denied by policy", [requested_model]) if {
	requested_model in object.get(config, "denied_models", [])
}

blocked contains sprintf("model %s is denied for namespace %s", [requested_model, namespace]) if {
	requested_model in object.get(namespace_settings, "denied_models", [])
}

blocked contains sprintf("model %s is not in the allowed models of namespace %s", [requested_model, namespace]) if {
	allowed := object.get(namespace_settings, "allowed_models", [])
	count(allowed) > 0
	not requested_model in allowed
}

# ---- lowering a declared level ------------------------------------------------------------

declared_level := input.request.declared.data_class if {
	input.request.declared.data_class in known_levels
}

lowered if {
	namespace_settings.allow_lower_declaration == true
	declared_level
	known_levels_rank[declared_level] < known_levels_rank[content_level]
}

known_levels_rank := {"public": 0, "internal": 1, "confidential": 2, "regulated": 3}

notes contains sprintf("declared %s accepted for namespace %s instead of %s (allow_lower_declaration)", [declared_level, namespace, content_level]) if lowered

# ---- break-glass ------------------------------------------------------------------------

# The request time comes from the sidecar (input.request.time, RFC 3339), so decisions are
# reproducible and testable; an exception without a valid expiry never applies.
now_ns := time.parse_rfc3339_ns(input.request.time)

active_break_glass contains exception if {
	some exception in object.get(config, "break_glass", [])
	exception.namespace == namespace
	now_ns < time.parse_rfc3339_ns(exception.expires)
	exception.reason != ""
	exception.approver != ""
}

waived contains attribute if {
	some exception in active_break_glass
	some attribute in exception.waive
}

notes contains sprintf("break-glass %s by %s until %s: waives %s (%s)", [e.id, e.approver, e.expires, concat(", ", e.waive), e.reason]) if {
	some e in active_break_glass
}

# ---- rerouting to a compliant model ---------------------------------------------------------

reroute_model := config.reroute[requested_model]

reroute_candidates := [r |
	some r in object.get(input, ["alternatives", reroute_model], [])
	in_region(r)
	has_all(r, required)
]

rerouted if {
	count(eligible) == 0
	reroute_model
	count(reroute_candidates) > 0
}

reroute_routes := [r.id | some r in reroute_candidates]

notes contains sprintf("no route of %s is allowed: rerouted to %s", [requested_model, reroute_model]) if rerouted

# ---- extra decision fields --------------------------------------------------------------

annotations := object.union(break_glass_annotation, reroute_annotation)

break_glass_annotation := {"break_glass": [{"id": e.id, "approver": e.approver, "reason": e.reason, "expires": e.expires} |
	some e in active_break_glass
]} if count(active_break_glass) > 0
else := {}

reroute_annotation := {"reroute": reroute_model} if rerouted
else := {}
