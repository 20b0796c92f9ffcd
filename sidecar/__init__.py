"""llm-policy-router: the sidecar that routes LLM calls by data sensitivity and Rego policy."""

__version__ = "0.1.0"
