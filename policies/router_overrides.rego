# Namespace overrides, model allow/deny lists, lowered declarations, break-glass exceptions
# and rerouting to a compliant model: the parts of the default policy that operators tune
# per team. Settings live in data.json under llm_router_config (all optional):
#
#   namespaces.<ns>.requirements       extra category -> attributes for that namespace
#   namespaces.<ns>.allowed_models     only these models (empty or absent: any)
#   namespaces.<ns>.denied_models      never these models
#   namespaces.<ns>.allow_lower_declaration  trust X-LLM-Data-Class to lower the level
#   namespaces.<ns>.unscanned_requirements   see router_unscanned.rego
#   denied_models                      never these models, anywhere
#   model_preferences.<model>          OpenRouter provider preferences for that model
#   aggregator_preferences             OpenRouter preferences for every aggregator call
#   reroute.<model>                    a compliant model to use when <model> has no allowed
#                                      route (the sidecar offers its routes as alternatives)
#   break_glass[]                      {id, namespace, waive: [attributes], reason, approver,
#                                       expires: RFC 3339}: time-bound, always in the decision
#
# Model lists match every name the request's model goes by (model_names below), so a list
# may name a logical model, any of its aliases or an upstream model id. model_preferences
# and reroute are looked up by the resolved logical name first, then the requested name.
package llm_router

import rego.v1

namespace := object.get(input, ["workload", "namespace"], "")

namespace_settings := object.get(config, ["namespaces", namespace], {})

# ---- model names --------------------------------------------------------------------------
#
# input.request.model is what the app asked for (possibly an alias); resolved_model is the
# logical model it resolved to and model_names every name of that model (logical name
# first, then aliases). Inputs without them (older sidecars) use request.model alone.

requested_model := object.get(input, ["request", "model"], "")

given_resolved_model := object.get(input, ["request", "resolved_model"], "")

resolved_model := given_resolved_model if {
	is_string(given_resolved_model)
	given_resolved_model != ""
} else := requested_model

given_model_names := object.get(input, ["request", "model_names"], [])

# Every name the request's model goes by, and the upstream model id of every offered route.
model_names := (({requested_model, resolved_model} | model_aliases) | route_models)

model_aliases := {n | is_array(given_model_names); some n in given_model_names}

route_models := {r.model | some r in object.get(input, "routes", [])}

# How reasons name the model: the requested name, and the resolved one when different.
model_label := requested_model if resolved_model == requested_model
else := sprintf("%s (resolved to %s)", [requested_model, resolved_model])

# The names that matched a list, when they are not just the requested name.
listed_names(matched) := "" if matched == {requested_model}

listed_names(matched) := sprintf(" (listed: %s)", [concat(", ", sort(matched))]) if matched != {requested_model}

names_in(list) := {m | some m in list} if is_array(list)
else := set()

globally_denied_models := names_in(object.get(config, "denied_models", []))

namespace_denied_models := names_in(object.get(namespace_settings, "denied_models", []))

namespace_allowed_models := names_in(object.get(namespace_settings, "allowed_models", []))

# A model (given by all its names) passes the model rules of this request's namespace.
model_permitted(names) if {
	count(names & globally_denied_models) == 0
	count(names & namespace_denied_models) == 0
	allowed_by_namespace(names)
}

allowed_by_namespace(_) if count(namespace_allowed_models) == 0

allowed_by_namespace(names) if count(names & namespace_allowed_models) > 0

# ---- model allow / deny -------------------------------------------------------------------

blocked contains sprintf("model %s is denied by policy%s", [model_label, listed_names(matched)]) if {
	matched := model_names & globally_denied_models
	count(matched) > 0
}

blocked contains sprintf("model %s is denied for namespace %s%s", [model_label, namespace, listed_names(matched)]) if {
	matched := model_names & namespace_denied_models
	count(matched) > 0
}

blocked contains sprintf("model %s is not in the allowed models of namespace %s", [model_label, namespace]) if {
	not allowed_by_namespace(model_names)
}

# ---- per-model aggregator preferences -----------------------------------------------------

preferences_of_model := object.get(
	config, ["model_preferences", resolved_model],
	object.get(config, ["model_preferences", requested_model], {}),
)

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

reroute_model := m if {
	m := config.reroute[resolved_model]
} else := m if {
	m := config.reroute[requested_model]
}

reroute_offered := object.get(input, ["alternatives", reroute_model], [])

# The fallback must pass the same model rules, by its name and its routes' upstream ids.
reroute_permitted if model_permitted({reroute_model} | {r.model | some r in reroute_offered})

reroute_candidates := [r |
	reroute_permitted
	some r in reroute_offered
	in_region(r)
	has_all(r, required)
]

rerouted if {
	count(eligible) == 0
	reroute_model
	count(reroute_candidates) > 0
}

reroute_routes := [r.id | some r in reroute_candidates]

notes contains sprintf("no route of %s is allowed: rerouted to %s", [model_label, reroute_model]) if rerouted

notes contains sprintf("no route of %s is allowed: not rerouted to %s, which the model lists exclude", [model_label, reroute_model]) if {
	count(eligible) == 0
	reroute_model
	not reroute_permitted
}

# ---- extra decision fields --------------------------------------------------------------

annotations := object.union(break_glass_annotation, reroute_annotation)

break_glass_annotation := {"break_glass": [{"id": e.id, "approver": e.approver, "reason": e.reason, "expires": e.expires} |
	some e in active_break_glass
]} if count(active_break_glass) > 0
else := {}

reroute_annotation := {"reroute": reroute_model} if rerouted
else := {}
