# Content the sidecar forwards but could not scan: input.classification.unscanned, a sorted
# list of kinds (absent or [] means everything was scanned):
#
#   image       inline image bytes            audio      inline audio
#   remote_url  a URL the provider fetches    file_ref   a file id of an earlier upload
#               (image/file/document URLs,    tokens     token-id arrays instead of text
#               MCP server URLs)              pdf        a PDF beyond the extraction budget
#   binary      a base64 file of another                 or unreadable
#               (non-text, non-PDF, non-image) type
#   encrypted   encrypted reasoning or another opaque provider blob
#
# The classifier never saw what these hold, so the policy cannot rule out personal or
# health data in them. Each kind therefore requires compliance attributes of every route
# (by default a DPA, which keeps the request off the aggregator), and any unscanned content
# makes the request sensitive (the aggregator is asked not to collect or retain it).
# Redaction obligations reach only the scanned text, never these parts.
#
# Settings (data.json, llm_router_config; all optional, like this whole rule set):
#   unscanned_requirements.<kind>    attributes every route needs when the request holds
#                                    that kind. When the key is absent, or the kind is
#                                    missing from it (a kind added by a newer sidecar), the
#                                    kind requires ["dpa"]: an operator's data.json written
#                                    before this rule existed keeps working, conservatively.
#   namespaces.<ns>.unscanned_requirements.<kind>
#                                    REPLACES the global entry for that kind in that
#                                    namespace, e.g. {"image": []} lets a namespace send
#                                    images through the aggregator. This is the one namespace
#                                    setting that can loosen: only the operator knows that a
#                                    workload's images are, say, public marketing assets, and
#                                    the classifier has no finding to tighten on. Everything
#                                    the scan did find still routes by its categories.
# A value that is not a list of attributes blocks requests holding that kind, and so does
# an input.classification.unscanned that is not a list. Break-glass waivers apply to these
# attributes as to any other.
package llm_router

import rego.v1

default_unscanned_requirement := ["dpa"]

given_unscanned := object.get(input, ["classification", "unscanned"], [])

unscanned := {kind | is_array(given_unscanned); some kind in given_unscanned}

# The namespace's entry for a kind, else the global one, else ["dpa"].
unscanned_requirement(kind) := object.get(
	namespace_settings, ["unscanned_requirements", kind],
	object.get(config, ["unscanned_requirements", kind], default_unscanned_requirement),
)

unscanned_attributes(kind) := {a |
	attrs := unscanned_requirement(kind)
	is_array(attrs)
	some a in attrs
}

# Kinds whose entry is not a list of attributes: they block.
unscanned_misconfigured contains kind if {
	some kind in unscanned
	not is_array(unscanned_requirement(kind))
}

unscanned_required := {a | some kind in unscanned; some a in unscanned_attributes(kind)}

sensitive if count(unscanned) > 0

# ---- what blocks ------------------------------------------------------------------------

blocked contains "classification.unscanned is not a list: blocked" if not is_array(given_unscanned)

blocked contains sprintf("unscanned_requirements.%s is not a list of attributes: blocked", [kind]) if {
	some kind in unscanned_misconfigured
}

# Appended to the "no candidate route satisfies" reason: which unscanned kinds asked for
# which of the missing attributes.
unscanned_needs := [sprintf("unscanned %s needs %s", [kind, concat(" and ", sort(attrs))]) |
	some kind in sort(unscanned)
	attrs := unscanned_attributes(kind) - waived
	count(attrs) > 0
]

no_route_suffix := sprintf(" (%s)", [concat("; ", unscanned_needs)]) if count(unscanned_needs) > 0
else := ""

# ---- why --------------------------------------------------------------------------------

# The namespace has its own entry for this kind (which replaces the global one).
set_by_namespace(kind) if is_array(object.get(namespace_settings, ["unscanned_requirements", kind], null))

notes contains sprintf("unscanned %s requires a route with %s", [kind, concat(" and ", sort(attrs))]) if {
	some kind in unscanned
	attrs := unscanned_attributes(kind)
	count(attrs) > 0
}

notes contains sprintf("unscanned %s: no route attribute required for namespace %s (unscanned_requirements)", [kind, namespace]) if {
	some kind in unscanned
	count(unscanned_attributes(kind)) == 0
	not kind in unscanned_misconfigured
	set_by_namespace(kind)
}

notes contains sprintf("unscanned %s: no route attribute required (unscanned_requirements)", [kind]) if {
	some kind in unscanned
	count(unscanned_attributes(kind)) == 0
	not kind in unscanned_misconfigured
	not set_by_namespace(kind)
}
