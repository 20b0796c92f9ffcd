# llm-router default routing policy (policy contract v1).
#
# Entry point: data.llm_router.decision. What it decides, in plain words:
#   * Each data category found in the request requires routes with certain compliance
#     attributes (data.llm_router_config.requirements): pii needs a DPA, phi a DPA and a BAA,
#     pci PCI DSS. Only routes that have all required attributes are allowed.
#   * Card data with no PCI DSS route is redacted instead, and the request routes by its
#     other categories (pci_fallback: "redact").
#   * Secrets are blocked, unless redact_secrets is true: then they are redacted.
#   * A workload label llm-router.io/residency: eu keeps traffic on routes in that region.
#   * A request the classifier could not scan completely (truncated) counts as regulated.
#   * Public and internal data may use every route, aggregator first. Anything above public
#     asks the aggregator not to collect or retain it.
# The sidecar enforces on top: only listed routes are tried, in order; anything else denies.
package llm_router

import rego.v1

config := data.llm_router_config

level := input.classification.level

truncated if input.classification.truncated == true

# ---- categories -------------------------------------------------------------------------

categories contains c if some c in input.classification.categories

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

# ---- residency --------------------------------------------------------------------------

residency := input.workload.labels[config.residency_label]

in_region(route) if not residency

in_region(route) if residency in route.compliance.regions

# ---- requirements -----------------------------------------------------------------------

attributes_for(cats) := {a | some c in cats; some a in object.get(config.requirements, c, [])}

has_all(route, attrs) if every a in attrs {
	route.compliance[a] == true
}

# Card data falls back to redaction when no route could take it as it is.
pci_redacted if {
	"pci" in routed_categories
	config.pci_fallback == "redact"
	count([r | some r in input.routes; in_region(r); has_all(r, attributes_for(routed_categories))]) == 0
}

effective_categories := routed_categories - {"pci"} if pci_redacted
else := routed_categories

# A declared level with no category behind it still has a floor (e.g. regulated needs a DPA).
required := attributes_for(effective_categories) if count(categories) > 0
else := {a | some a in object.get(config.level_requirements, level, [])}

restricted if count(required) > 0

eligible := [r | some r in input.routes; in_region(r); has_all(r, required)]

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

sensitive if level != "public"

sensitive if truncated

provider_preferences := config.sensitive_provider_preferences if sensitive
else := {}

# ---- reasons ----------------------------------------------------------------------------

blocked contains "secret detected: blocked (redaction is off)" if {
	secret_found
	not secret_redacted
}

blocked contains sprintf("no candidate route satisfies: %s", [concat(", ", sort(required))]) if {
	restricted
	count(eligible) == 0
}

blocked contains sprintf("no candidate route in region %s", [residency]) if {
	not restricted
	count(eligible) == 0
}

notes contains sprintf("%s requires a route with %s", [c, concat(" and ", attrs)]) if {
	some c in effective_categories
	attrs := object.get(config.requirements, c, [])
	count(attrs) > 0
}

notes contains sprintf("%s data requires a route with %s", [level, concat(" and ", sort(required))]) if {
	count(categories) == 0
	restricted
}

notes contains "card data redacted: no candidate route is pci_dss compliant" if pci_redacted

notes contains "secret detected: redacted before forwarding" if secret_redacted

notes contains "classification truncated: treated as regulated" if truncated

notes contains sprintf("residency %s: only routes in that region", [residency]) if residency

notes contains sprintf("%s data: all routes allowed, aggregator first", [level]) if {
	not restricted
	level != "regulated"
}

notes contains "nothing left that needs a compliant route: all routes allowed, aggregator first" if {
	not restricted
	level == "regulated"
	not secret_found
}

# ---- the decision -----------------------------------------------------------------------

default allow := false

allow if {
	count(blocked) == 0
	count(ordered_routes) > 0
}

allowed_routes := ordered_routes if allow
else := []

decision := {
	"allow": allow,
	"routes": allowed_routes,
	"reasons": array.concat(sort(blocked), sort(notes)),
	"obligations": {"redact": sort(redact), "provider_preferences": provider_preferences},
}
