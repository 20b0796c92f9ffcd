# llm-router default routing policy (policy contract v1).
#
# Entry point: data.llm_router.decision. Its settings live in data.json under the key
# "llm_router_config" (read here as data.llm_router_config, apart from this package's path).
#
# What it decides, in plain words:
#   * Each data category found in the request requires routes with certain compliance
#     attributes (requirements): pii needs a DPA, phi a DPA and a BAA, pci PCI DSS.
#     Only routes that have every required attribute are allowed, in the operator's order.
#   * Card data with no PCI DSS route is redacted instead, and the request routes by its
#     other categories (pci_fallback: "redact").
#   * Secrets are blocked, unless redact_secrets is true: then they are redacted.
#   * A workload label llm-router.io/residency: eu keeps traffic on routes in that region.
#   * A request the classifier could not scan completely (truncated) is handled as if it
#     held pii and phi. A level the policy does not know counts as regulated.
#   * Content forwarded without a scan (images, audio, remote URLs, file ids, token arrays,
#     oversized PDFs, binary files, encrypted blobs) needs routes with a DPA by default,
#     so never the aggregator (router_unscanned.rego; unscanned_requirements).
#   * Names, street addresses and diagnoses found with medium or high confidence are pii and
#     phi like any other finding; low-confidence ones route nothing unless the operator sets
#     low_confidence_requirements (router_low_confidence.rego).
#   * Model allow/deny lists match every name of the model: the requested one, the logical
#     name it resolved to, its aliases and the routes' upstream ids (router_overrides.rego).
#   * Otherwise every route is allowed, aggregator first. Anything above public asks the
#     aggregator not to collect or retain it (internal_provider_preferences).
#   * Anything this policy cannot judge (a category with no requirement entry, missing
#     settings) is blocked rather than waved through.
# The sidecar enforces on top: only offered routes are tried, in order; anything else denies.
package llm_router

import rego.v1

# ---- settings ---------------------------------------------------------------------------
#
# data.json, key llm_router_config:
#   requirements                  category -> compliance attributes every route must have
#   level_requirements            level -> attributes required when the app or workload set it
#   redact_secrets                false: a secret blocks the request; true: it is redacted
#   pci_fallback                  "redact": card data with no PCI DSS route is redacted;
#                                 anything else: card data needs a PCI DSS route
#   truncated_categories          categories assumed when the classifier could not scan it all
#   residency_label               workload label naming the region traffic must stay in
#   internal_provider_preferences aggregator preferences for anything above public
# A missing setting blocks every request (see "what blocks"). The optional settings are
# described in router_overrides.rego, router_unscanned.rego and router_low_confidence.rego.

default config := {}

config := data.llm_router_config

required_settings := {
	"requirements", "level_requirements", "redact_secrets", "pci_fallback",
	"truncated_categories", "residency_label", "internal_provider_preferences",
}

missing_settings := required_settings - object.keys(config)

# ---- level ------------------------------------------------------------------------------

known_levels := {"public", "internal", "confidential", "regulated"}

given_level := object.get(input, ["classification", "level"], null)

unknown_level if not given_level in known_levels

content_level := given_level if not unknown_level
else := "regulated"

# The app's declaration can only raise the level (the classifier sees to that), unless this
# namespace is trusted to lower it (e.g. a workload that only sends synthetic test data).
level := declared_level if lowered
else := content_level

truncated if input.classification.truncated == true

# Anything above public is kept out of aggregator data collection (and so is content the
# sidecar could not scan, router_unscanned.rego).
sensitive if level != "public"

sensitive if truncated

# ---- categories -------------------------------------------------------------------------

categories contains c if {
	not lowered
	some c in input.classification.categories
}

categories contains c if {
	truncated
	some c in config.truncated_categories
}

secret_found if "secret" in categories

secret_redacted if {
	secret_found
	config.redact_secrets == true
}

# Categories that constrain the choice of route (secrets are blocked or redacted instead).
routed_categories := {c | some c in categories; c != "secret"}

# A category missing from the requirements table cannot be judged, so it blocks.
unconfigured := routed_categories - object.keys(object.get(config, "requirements", {}))

# ---- residency --------------------------------------------------------------------------

residency := input.workload.labels[config.residency_label]

in_region(_) if not residency

in_region(route) if residency in route.compliance.regions

# ---- requirements -----------------------------------------------------------------------

attributes_for(cats) := {a | some c in cats; some a in requirements_for(c)}

# The global table, plus what this workload's namespace adds (overrides only tighten).
requirements_for(c) := {a | some a in config.requirements[c]} | {a | some a in namespace_settings.requirements[c]}

has_all(route, attrs) if every a in attrs {
	route.compliance[a] == true
}

routes_meeting(attrs) := [r | some r in input.routes; in_region(r); has_all(r, attrs)]

# Card data falls back to redaction when no route could take the request as it is
# (including what its unscanned parts require).
pci_redacted if {
	"pci" in routed_categories
	config.pci_fallback == "redact"
	count(routes_meeting((attributes_for(routed_categories) | unscanned_required) | low_confidence_required)) == 0
}

effective_categories := routed_categories - {"pci"} if pci_redacted
else := routed_categories

# A level set by the app's declaration or the workload label (or one without any category
# behind it) keeps its own floor, e.g. regulated needs a DPA: redacting a card number must
# not lower what the app declared.
level_set_by_caller if {
	some s in input.classification.sources
	s != "content"
}

level_set_by_caller if count(categories) == 0

level_set_by_caller if unknown_level

level_floor := {a | some a in object.get(config.level_requirements, level, [])} if level_set_by_caller
else := set()

required := (((attributes_for(effective_categories) | level_floor) | unscanned_required) | low_confidence_required) - waived

restricted if count(required) > 0

eligible := routes_meeting(required)

# Unrestricted traffic prefers the aggregator (price, choice, failover); restricted traffic
# keeps the operator's candidate order among compliant routes.
ordered_routes := [r.id | some r in eligible] if restricted
else := array.concat(
	[r.id | some r in eligible; r.kind == "aggregator"],
	[r.id | some r in eligible; r.kind != "aggregator"],
)

# ---- obligations ------------------------------------------------------------------------

redact contains "pci" if pci_redacted

redact contains "secret" if secret_redacted

base_preferences := object.get(config, "internal_provider_preferences", {}) if sensitive
else := {}

# Per-model OpenRouter preferences (pin a provider, forbid fallbacks, require parameters),
# looked up by the resolved model, then the requested name (router_overrides.rego).
provider_preferences := object.union(
	object.union(base_preferences, object.get(config, ["aggregator_preferences"], {})),
	preferences_of_model,
)

# ---- what blocks ------------------------------------------------------------------------

blocked contains sprintf("policy data missing: llm_router_config.%s", [k]) if {
	some k in missing_settings
}

blocked contains "secret detected: blocked (redaction is off)" if {
	secret_found
	not secret_redacted
}

blocked contains sprintf("no requirements configured for category %s: blocked", [c]) if {
	some c in unconfigured
}

blocked contains "no candidate routes were offered" if {
	count(object.get(input, "routes", [])) == 0
	not rerouted
}

blocked contains no_route_message if {
	count(input.routes) > 0
	count(eligible) == 0
	not rerouted
}

unmet := concat(", ", required)

# no_route_suffix names the unscanned kinds behind the requirements (router_unscanned.rego).
no_route_message := concat("", [no_route_base, no_route_suffix])

no_route_base := sprintf("no candidate route in region %s satisfies: %s", [residency, unmet]) if {
	restricted
	residency
} else := sprintf("no candidate route satisfies: %s", [unmet]) if {
	restricted
} else := sprintf("no candidate route in region %s", [residency])

# ---- why (explanations that do not block) -----------------------------------------------

notes contains sprintf("%s requires a route with %s", [c, concat(" and ", attrs)]) if {
	some c in effective_categories
	attrs := config.requirements[c]
	count(attrs) > 0
}

notes contains sprintf("%s level requires a route with %s", [level, concat(" and ", level_floor)]) if {
	count(level_floor) > 0
}

notes contains sprintf("unknown classification level %v: treated as regulated", [given_level]) if {
	unknown_level
}

notes contains "card data redacted: no candidate route is pci_dss compliant" if pci_redacted

notes contains "secret detected: redacted before forwarding" if secret_redacted

notes contains sprintf("classification truncated: treated as regulated, assuming %s", [assumed]) if {
	truncated
	assumed := concat(" and ", sort(config.truncated_categories))
}

notes contains sprintf("residency %s: only routes in that region", [residency]) if residency

notes contains sprintf("%s data: all routes allowed, aggregator first", [level]) if {
	not restricted
	level != "regulated"
	count(blocked) == 0
}

notes contains "nothing left that needs a compliant route: all routes allowed, aggregator first" if {
	not restricted
	level == "regulated"
	count(blocked) == 0
}

# ---- the decision -----------------------------------------------------------------------

default allow := false

allow if {
	count(blocked) == 0
	count(final_routes) > 0
}

final_routes := reroute_routes if rerouted
else := ordered_routes

allowed_routes := final_routes if allow
else := []

decision := object.union(
	{
		"allow": allow,
		"routes": allowed_routes,
		"reasons": array.concat(sort(blocked), sort(notes)),
		"obligations": object.union(
			{"redact": sort(redact), "provider_preferences": provider_preferences},
			store_obligation, # router_responses.rego
		),
	},
	annotations,
)

# ---- decision caching -------------------------------------------------------------------
#
# Read by the sidecar once per policy revision (never per request, and with an empty input,
# so it must depend on data only). It lets the sidecar reuse a decision for a request whose
# input differs from an earlier one only in the paths listed in `ignore`, while the request
# time stays between the same two `time_boundaries` (RFC 3339 instants at which a decision
# may change: here the break-glass expiries, the only use of input.request.time).
# If you make the decision read any of the ignored paths, or the time in another way,
# change this declaration (or set cacheable to false); router_test.rego checks it.
decision_cache := {
	"cacheable": true,
	"ignore": ["request.id", "request.time", "classification.tags"],
	"time_boundaries": sort([e.expires | some e in object.get(config, "break_glass", [])]),
}
