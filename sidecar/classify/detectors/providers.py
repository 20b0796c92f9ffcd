"""API keys of providers without a tag of their own, found by their published prefixes.

Each provider documents (or its SDKs fix) a prefix and a length: Google `AIza` + 35, PyPI
`pypi-AgEIcHlwaS5vcmc` (the base64 of the macaroon's "pypi.org" location), SendGrid
`SG.` + 22 + `.` + 43, npm `npm_` + 36, Hugging Face `hf_` + 34 letters, Shopify `shpat_`
(and `shpca_`, `shppa_`, `shpss_`) + 32 hex, Mailgun `key-` + 32 hex, a Telegram bot's
numeric id, `:AA` and 33 more, Stripe webhook secrets `whsec_`, and Twilio API key SIDs
`SK` + 32 hex. A Twilio auth token is 32 hex digits like any MD5 sum, so it counts only
next to the word "twilio" or an auth-token key. A Twilio account SID (`AC…`) names the
account and is no credential. They are reported as `secret.generic_high_entropy`: the
policy treats every `secret.*` alike, and the taxonomy keeps one tag for them. Masked and
placeholder bodies (`SG.xxxxxxxx…`) do not count.
"""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector

_KEY = "A-Za-z0-9_\\-"
TAG = "secret.generic_high_entropy"

_RUN_LENGTHS = (
    # (prefix, exact length of the whole key or None for "at least the pattern's")
    ("AIza", 39),
    ("pypi-", None),
    ("SG.", 69),
)


def _run_key_ok(value: str) -> bool:
    """Keys whose pattern ends in an open run (see `Detector.run`): the run must end where
    the provider's length does, or the match is the head of something longer."""
    if not v.not_placeholder(value):
        return False
    for prefix, length in _RUN_LENGTHS:
        if value.startswith(prefix):
            return length is None or len(value) == length
    _, _, secret = value.partition(":")  # a Telegram bot token: id, colon, AA + 33
    return len(secret) == 35


RUN_KEYS = Detector(
    TAG,
    (
        r"\bAIza[0-9A-Za-z_\-]{35,}",
        r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}",
        r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43,}",
        r"\b[0-9]{8,10}:AA[A-Za-z0-9_\-]{33,}",
    ),
    run=_KEY,
    validator=_run_key_ok,
    confidence=0.95,
)

WORD_KEYS = Detector(
    TAG,
    (
        r"\bnpm_[A-Za-z0-9]{36}\b",
        r"\bhf_[A-Za-z]{34}\b",
        r"\bshp(at|ca|pa|ss)_[a-fA-F0-9]{32}\b",
        r"\bkey-[0-9a-f]{32}\b",
        r"\bwhsec_[A-Za-z0-9+/]{32,}\b",
        r"\bSK[0-9a-fA-F]{32}\b",
        r"\bhv[sbr]\.[A-Za-z0-9_\-]{24,}",  # HashiCorp Vault service, batch, recovery tokens
        r"\bsq[upa]_[0-9a-f]{40}\b",  # SonarQube user, project and analysis tokens
        r"\bsk\.eyJ[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{16,}",  # Mapbox secret tokens
        r"\bdop_v1_[0-9a-f]{64}\b",  # DigitalOcean personal access tokens
        # a Sentry DSN's key: https://<32 hex>@o123.ingest.sentry.io/…
        r"\bhttps://[0-9a-f]{32}@[a-z0-9.\-]{0,64}sentry\.io",
    ),
    validator=v.not_placeholder,
    confidence=0.95,
)


def _last_32(text: str) -> tuple[int, int]:
    return len(text) - 32, len(text)


TWILIO_AUTH_TOKEN = Detector(
    TAG,
    # 32 hex digits after a Twilio word or an API key SID ("Client('SK…', '<token>')").
    # Anchored on those words: a bare 32-hex pattern gated by context words cost the fast
    # pass 5% (every word starting with a-f starts a candidate).
    (
        r"\b(twilio|auth[_\- ]?token)[^\n]{0,60}\b[0-9a-f]{32}\b",
        r"\bSK[0-9a-fA-F]{32}[\"']?[ \t]*,[ \t]*[\"']?[0-9a-f]{32}\b",
    ),
    validator=lambda text: v.not_placeholder(text[-32:]),
    narrow=_last_32,
    confidence=0.8,
    caseless=True,
)

DETECTORS = (RUN_KEYS, WORD_KEYS, TWILIO_AUTH_TOKEN)
