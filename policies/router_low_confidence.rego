# Findings below medium confidence: input.classification.low_confidence_tags, tag -> count
# (absent or {} means none). The classifier leaves a finding under 0.5 out of `tags`,
# `categories` and `level` (a capitalised word pair with no cue around it that could be a
# name, a street with a common word for its type): by the policy contract only medium and
# high findings route a request. So by default this rule set changes nothing.
#
# A stricter operator can make low-confidence findings count too:
#
# Settings (data.json, llm_router_config; all optional):
#   low_confidence_requirements.<key>   attributes every route needs when the request holds
#                                       a low-confidence finding of that key; a key is a tag
#                                       ("pii.person_name") or a category ("pii", every tag
#                                       of it). E.g. {"pii.person_name": ["dpa"]} keeps any
#                                       text with a possible name off the aggregator.
#   namespaces.<ns>.low_confidence_requirements.<key>
#                                       ADDED to the global entry in that namespace: this
#                                       setting can only tighten.
# A value that is not a list of attributes blocks requests holding that key, and so does an
# input.classification.low_confidence_tags that is not an object. Break-glass waivers apply.
package llm_router

import rego.v1

given_low_confidence := object.get(input, ["classification", "low_confidence_tags"], {})

low_confidence_tags := {tag |
	is_object(given_low_confidence)
	some tag, count_of in given_low_confidence
	count_of > 0
}

# The keys a tag answers to: itself and its category.
low_confidence_keys(tag) := {tag, split(tag, ".")[0]}

low_confidence_entries(tag) := [entry |
	some source in [config, namespace_settings]
	some key in low_confidence_keys(tag)
	entry := object.get(source, ["low_confidence_requirements", key], [])
]

low_confidence_attributes(tag) := {a |
	some entry in low_confidence_entries(tag)
	is_array(entry)
	some a in entry
}

low_confidence_required := {a | some tag in low_confidence_tags; some a in low_confidence_attributes(tag)}

sensitive if count(low_confidence_required) > 0

# ---- what blocks ------------------------------------------------------------------------

blocked contains "classification.low_confidence_tags is not an object: blocked" if {
	not is_object(given_low_confidence)
}

blocked contains sprintf("low_confidence_requirements for %s is not a list of attributes: blocked", [tag]) if {
	some tag in low_confidence_tags
	some entry in low_confidence_entries(tag)
	not is_array(entry)
}

# ---- why --------------------------------------------------------------------------------

notes contains sprintf("low-confidence %s requires a route with %s", [tag, concat(" and ", sort(attrs))]) if {
	some tag in low_confidence_tags
	attrs := low_confidence_attributes(tag)
	count(attrs) > 0
}
