"""Rules for secret values: entropy, placeholders, references, and words.

A key name says a value is meant to be secret; these rules say whether the value is one: a
random-looking string (detect-secrets' entropy thresholds), not a placeholder or a field
description, not a pointer to where the secret is kept, not an identifier made of words.
"""

from __future__ import annotations

import math
import re
from collections import Counter


def shannon_entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_PLACEHOLDERS = (
    "example",
    "changeme",
    "password",
    "secret",
    "****",
    "redacted",
    "your_",
    "your-",
    "<",
    "${",
    "{{",
    "placeholder",
    "dummy",
    "sample",
    "replace_me",
    "replace-me",
    "replaceme",
    "change_me",
    "changeit",
)
_NOT_SECRETS = frozenset(
    {"required", "optional", "none", "null", "nil", "true", "false", "undefined", "string",
     "hidden", "masked", "empty", "unset", "omitted", "default"}
)  # fmt: skip
"""Whole values that describe a field instead of filling it (`password: required`)."""


PUBLISHED_SAMPLES = (
    # The jwt.io debugger's sample token signature (HS256 over "your-256-bit-secret").
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    # Stripe's documentation keys, shown to every reader of its API reference.
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    "pk_test_TYooMQauvdEDq54NiTphI7jx",
    "sk_test_26PHem9AhJZvU623DfE1x4sd",
    # GitHub's documentation example of an OAuth token.
    "gho_16C7e42F292c6912E7710c838347Ae178B4a",
    # Slack's documentation webhook and token placeholders, and its bot and user token
    # examples.
    "T00000000/B00000000/",
    "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "xoxp-23984754863-2348975623103",
    # The Kubernetes documentation's Secret example (base64 of "1f2d1e2e67df").
    "MWYyZDFlMmU2N2Rm",
    # The Azure Storage emulator's (Azurite's) published development account key.
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
)
"""Values published in providers' documentation: no one's secret, whatever their shape."""


def not_published_sample(value: str) -> bool:
    return not any(sample in value for sample in PUBLISHED_SAMPLES)


def not_placeholder(value: str) -> bool:
    if not not_published_sample(value):
        return False
    lowered = value.lower()
    if len(set(lowered)) < 3 or lowered.strip("\"'`") in _NOT_SECRETS:
        return False
    # A run of x is a mask when written in one case ("xxxx", "XXXX"); "PNxXXX9" inside a
    # random key is chance.
    if "xxxx" in value or "XXXX" in value or _COUNTING.search(value):
        return False
    return not any(p in lowered for p in _PLACEHOLDERS)


_COUNTING = re.compile(r"(?<![0-9])(?:0123456789|1234567890|123456789|9876543210|0{8,})")
"""Digits counted out or zeroed where a real id would be ("xoxb-1234567890-…"): what
documentation writes; a random id holds such a run about once in 10^8."""


_REFERENCE = re.compile(
    r"[A-Za-z_][A-Za-z0-9_.]*[\[(]|(process\.env|os\.environ|env|secrets|vars)\."
    r"|\$[A-Za-z_][A-Za-z0-9_]*$|%\([A-Za-z_][A-Za-z0-9_]*\)s$|\{[A-Za-z_][A-Za-z0-9_.]*\}$"
)


def code_reference(value: str) -> bool:
    """A value that names where the secret is kept instead of holding it: a call or an
    index (`os.environ['DB_PASSWORD']`, `config.get("db")`), `process.env.DB_PASS`, an
    environment variable (`$DB_PASSWORD`), a format field (`%(db_pw)s`, `{db_pw}`). An
    anchored match on one short value, never run over request text."""
    return _REFERENCE.match(value) is not None


def looks_like_words(value: str) -> bool:
    """Whether every run of letters, split at digits, punctuation and camelCase humps, has
    three letters or more: `getAccessTokenFromRequest`, `github.com/acme/deploy-scripts`.
    Identifiers and paths reach the entropy of a token; random strings have one- and
    two-letter runs (of random 24-character alphanumerics, 1 in 4,000 looks like words)."""
    runs: list[int] = []
    length = 0
    previous = ""
    for i, char in enumerate(value):
        if not char.isalpha():
            if length:
                runs.append(length)
            length, previous = 0, char
            continue
        if length and char.isupper() and previous.islower():
            runs.append(length)  # a camelCase hump starts a word
            length = 0
        elif length >= 2 and char.islower() and previous.isupper() and value[i - 2].isupper():
            runs.append(length - 1)  # "JWTSignature": the last capital starts the next word
            length = 1
        length += 1
        previous = char
    if length:
        runs.append(length)
    return bool(runs) and min(runs) >= 3


def high_entropy(value: str) -> bool:
    """Thresholds in the spirit of detect-secrets: hex strings above 3.0 bits per
    character, other base64-ish strings above 4.0, at least 16 characters; and not made of
    words (an identifier or a path next to the word "token" is no token)."""
    if len(value) < 16 or not not_placeholder(value):
        return False
    is_hex = all(c in "0123456789abcdefABCDEF" for c in value)
    if not is_hex and looks_like_words(value):
        return False
    return shannon_entropy(value) > (3.0 if is_hex else 4.0)


def aws_secret_key(value: str) -> bool:
    return len(value) == 40 and "EXAMPLE" not in value and shannon_entropy(value) > 4.0


def openai_key(value: str) -> bool:
    return not value.startswith("sk-ant-") and not_placeholder(value)
