"""Credentials: cloud keys, service tokens, private keys, passwords and keyed secrets."""

from __future__ import annotations

import base64
import binascii
import re

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector, after_separator, value_after_key

_KEY = "A-Za-z0-9_\\-"
"""The characters of an API key's or a JWT's last run."""


def _assignment_value_ok(text: str) -> bool:
    start, end = after_separator(text)
    value = text[start:end]
    return end - start >= 6 and v.not_placeholder(value) and not v.code_reference(value)


def _keyed_value(text: str) -> tuple[int, int]:
    """The value of `key = value` (see `value_after_key`), without a full stop that ends
    the sentence it is in."""
    start, end = value_after_key(text)
    while end > start and text[end - 1] == ".":
        end -= 1
    return start, end


_PLACEHOLDER_PAIR = re.compile(
    r"(user(name)?|admin|test|demo|login|name|your[_-]?user(name)?)"
    r":(pass(word)?|secret|admin|test|demo|changeme|your[_-]?password)",
    re.IGNORECASE,
)


def _basic_placeholder(value: str) -> bool:
    """Base64 of "username:password" and the like: the docs' sample of a Basic header."""
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return _PLACEHOLDER_PAIR.fullmatch(decoded) is not None


def _entropy_value_ok(text: str) -> bool:
    start, end = _keyed_value(text)
    value = text[start:end]
    return v.high_entropy(value) and not _basic_placeholder(value)


def _aws_secret_ok(text: str) -> bool:
    start, end = after_separator(text)
    return v.aws_secret_key(text[start:end])


AWS_ACCESS_KEY = Detector(
    "secret.aws_access_key",
    (r"\b(AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",),
    validator=v.aws_access_key,
    confidence=0.95,
    opaque=True,
)

AWS_SECRET_KEY = Detector(
    "secret.aws_secret_key",
    (
        # aws_secret_access_key, SecretAccessKey, "secret access key", aws_secret, secret_key
        # (spelled out: optional separators in every alternative make the SOM database too
        # large for Hyperscan)
        r"(secret[_\- ]?access[_\- ]?key|aws_secret|secret_key|aws_sak)[\"']?"
        # `aws configure` prompts "AWS Secret Access Key [None]: …"
        r"([ \t]\[[^\]\n]{0,16}\])?[ \t]*[:=][ \t]*[\"']?[A-Za-z0-9/+=]{40,}",
    ),
    validator=_aws_secret_ok,
    narrow=after_separator,
    confidence=0.95,
    caseless=True,
)


def _last_40(text: str) -> tuple[int, int]:
    return len(text) - 40, len(text)


AWS_SECRET_BESIDE_ID = Detector(
    "secret.aws_secret_key",
    # The secret right after its key id with no name of its own: the IAM console's
    # credentials.csv ("AKIA…,wJal…"), a table row, "AKIA… / wJal…", "AKIA… and wJal…".
    # Anchored on the key id: a bare 40-character run everywhere made the fast pass 35%
    # slower.
    (r"\b(AKIA|ASIA)[A-Z2-7]{16}[ \t\r\n,;|:\"'`]{1,8}(/[ \t]+|and[ \t]+)?[A-Za-z0-9/+]{40}\b",),
    validator=lambda text: v.aws_secret_key(text[-40:]),
    narrow=_last_40,
    confidence=0.9,
)

AWS_SECRET_NEXT_LINE = Detector(
    "secret.aws_secret_key",
    # the next line of a config that names it briefly: AK = 'AKIA…' / SK = '…'
    (
        r"\b(AKIA|ASIA)[A-Z2-7]{16}[\"']?[ \t]*\r?\n[ \t]*[A-Za-z_]{1,24}[ \t]*[:=][ \t]*[\"']?"
        r"[A-Za-z0-9/+]{40}\b",
    ),
    validator=lambda text: v.aws_secret_key(text[-40:]),
    narrow=_last_40,
    confidence=0.9,
)

GCP_SERVICE_ACCOUNT = Detector(
    "secret.gcp_service_account",
    (r"\"type\"[ \t]*:[ \t]*\"service_account\"",),
    extend_to="{}",
    confidence=0.99,
)

AZURE_STORAGE_KEY = Detector(
    "secret.azure_storage_key",
    (r"AccountKey=[A-Za-z0-9+/]{86}==",),
    validator=v.not_published_sample,  # the storage emulator's well-known key is none
    narrow=after_separator,
    confidence=0.99,
)

GITHUB_TOKEN = Detector(
    "secret.github_token",
    # Classic personal (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server (ghs_)
    # and refresh (ghr_) tokens, and fine-grained personal tokens. Their last six characters
    # are a CRC32 checksum, but not one that the published examples pass, so it is not
    # required here; a masked body ("ghp_xxxx…") is.
    (r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b", r"\bgithub_pat_[A-Za-z0-9_]{82}\b"),
    validator=v.not_placeholder,
    confidence=0.97,
    opaque=True,
)

GITLAB_TOKEN = Detector(
    "secret.gitlab_token",
    # No \b after it: the last of the 20 characters may be a "-". Personal, CI job, deploy,
    # runner, pipeline-trigger, OAuth, feed, incoming-mail and agent tokens, and runner
    # registration tokens (GR1348941…).
    (
        r"\b(glpat|glcbt|gldt|glrt|glptt|glsoat|glft|glimt|glagent|gloas)-[A-Za-z0-9_\-]{20,}",
        r"\bGR1348941[A-Za-z0-9_\-]{20,}",
    ),
    run=_KEY,
    confidence=0.97,
)

SLACK_TOKEN = Detector(
    "secret.slack_token",
    (
        # Bot, user, workspace, refresh, legacy, config and client tokens (xoxb-, xoxp-,
        # xoxa-, xoxr-, xoxs-, xoxo-, xoxe-, xoxc-): team, user and secret parts;
        # workspace tokens carry a one-digit version first (xoxa-2-…).
        r"\bxox[abposrec]-([0-9]-)?[0-9A-Za-z]{4,}(-[0-9A-Za-z]{4,}){1,4}\b",
        # Rotating tokens (xoxe.xoxp-1-…) and their refresh tokens (xoxe-1-…): one long part.
        r"\b(xoxe\.xox[abp]|xoxe)-[0-9]-[0-9A-Za-z]{40,}\b",
        r"\bxapp-[0-9]-[A-Z0-9]{8,}-[0-9]{8,}-[a-z0-9]{32,}\b",  # app-level tokens
        # Incoming webhooks, workflow and trigger URLs: the URL is the credential.
        r"\bhttps://hooks\.slack\.com/(services|workflows|triggers)/T[A-Z0-9]{6,12}/"
        r"[A-Z0-9]{6,14}/[A-Za-z0-9]{16,48}\b",
    ),
    validator=v.not_placeholder,
    confidence=0.97,
    whole=True,  # a placeholder is judged on the whole token, not its first parts
)

STRIPE_KEY = Detector(
    "secret.stripe_key",
    (r"\b(sk|rk)_live_[0-9A-Za-z]{24,}\b",),
    confidence=0.97,
)

OPENAI_KEY = Detector(
    "secret.openai_key",
    (r"\bsk-(proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{32,}",),
    run=_KEY,
    validator=v.openai_key,
    confidence=0.9,
)

ANTHROPIC_KEY = Detector(
    "secret.anthropic_key",
    (r"\bsk-ant-(api|admin)[0-9]{2}-[A-Za-z0-9_\-]{80,}",),
    run=_KEY,
    confidence=0.99,
)

PRIVATE_KEY = Detector(
    "secret.private_key",
    # The header with a body after it (the encrypted form's Proc-Type and DEK-Info lines
    # allowed): "paste it between -----BEGIN PRIVATE KEY----- and -----END…" holds none.
    (
        r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----[ \t]*\r?\n[ \t]*"
        r"(Proc-Type:[^\n]*\nDEK-Info:[^\n]*\n\s*)?[A-Za-z0-9+/]{4}",
    ),
    confidence=0.99,
    extend_to="-----END",
)

JWT = Detector(
    "secret.jwt",
    (r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*",),
    run=_KEY,
    validator=v.jwt,
    confidence=0.9,
)

PASSWORD_ASSIGNMENT = Detector(
    "secret.password_assignment",
    (
        # password, DB_PASSWORD, db_pass, pwd, passphrase, and a bare `secret` key: a value a
        # person chose, so any non-placeholder value counts, whatever its entropy. Prefixed
        # secrets (client_secret, webhook_secret) are generated: KEYED_SECRET's entropy rule.
        r"(\b([a-z0-9]{1,24}[_\-.])?(password|passwd|pwd|passphrase|pass)|\bsecret)[\"']?"
        r"[ \t]*[:=][ \t]*[\"']?[^\s\"',;]{6,}",
        # EMAIL_HOST_PASSWORD, spring.datasource.hikari.password: more words before it
        r"[_\-.](password|passwd|pwd|passphrase|pass)[\"']?[ \t]*[:=][ \t]*[\"']?[^\s\"',;]{6,}",
        # PGPASSWORD, MYSQLPWD, REDISPASS: a client's environment variable, glued
        r"\b(pg|mysql|mongo|redis|smtp|ldap|ftp|db|sql|rabbitmq|amqp)(password|passwd|pwd|pass)"
        r"[ \t]*=[ \t]*[\"']?[^\s\"',;]{6,}",
    ),
    run="^\\s\"',;",
    validator=_assignment_value_ok,
    narrow=after_separator,
    confidence=0.85,
    caseless=True,
)


def _argument_value(text: str) -> tuple[int, int]:
    """The quoted value after the comma of `'DB_PASSWORD', 'value'`."""
    start = text.index(",") + 1
    while start < len(text) and text[start] in " \t\"'":
        start += 1
    return start, len(text)


def _argument_ok(text: str) -> bool:
    start, end = _argument_value(text)
    value = text[start:end]
    return end - start >= 6 and v.not_placeholder(value) and not v.code_reference(value)


PASSWORD_ARGUMENT = Detector(
    "secret.password_assignment",
    # define('DB_PASSWORD', 'value'), setenv("PGPASSWORD", "value", 1), a (key, value)
    # pair: the quoted key, a comma, the quoted value
    (r"(password|passwd|pwd|pass)[\"'][ \t]*,[ \t]*[\"'][^\s\"',;]{6,}",),
    run="^\\s\"',;",
    validator=_argument_ok,
    narrow=_argument_value,
    confidence=0.85,
    caseless=True,
)

KEYED_SECRET = Detector(
    "secret.generic_high_entropy",
    (
        # `token = value`, `X-Auth-Token: value`, `environ["HF_TOKEN"] = "value"`, an
        # `Authorization: Bearer value` header, and in prose "the deploy token is value",
        # "signing key value": the key word, then `:`/`=`, "is"/"was", or just a space.
        r"(secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|credential|auth"
        r"|(signing|encryption|master|secret|access|api)[ _\-]key)"
        r"[a-z0-9_\-]*[\"'\]]{0,2}([ \t]*[:=][ \t]*|[ \t]+((is|was)[ \t]+)?)[\"']?"
        r"((bearer|token|basic)[ \t]+)?[A-Za-z0-9+/=_\-.]{16,}",
    ),
    run="A-Za-z0-9+/=_\\-.",
    validator=_entropy_value_ok,
    narrow=_keyed_value,
    confidence=0.75,
    caseless=True,
)

APP_KEY = Detector(
    "secret.generic_high_entropy",
    # APP_KEY=base64:…, FERNET_KEY, SESSION_SECRET, JWT_KEY: frameworks' signing keys
    # (a database of its own: one with KEYED_SECRET's is too large for start of match)
    (
        r"(app|fernet|session|cookie|hmac|jwt)[ _\-]?(key|secret)[a-z0-9_\-]*[\"'\]]{0,2}"
        r"[ \t]*[:=][ \t]*[\"']?(base64:)?[A-Za-z0-9+/=_\-.]{16,}",
    ),
    run="A-Za-z0-9+/=_\\-.",
    validator=_entropy_value_ok,
    narrow=_keyed_value,
    confidence=0.75,
    caseless=True,
)

SCHEME_CREDENTIAL = Detector(
    "secret.generic_high_entropy",
    # "Authorization", "Basic …" / "Bearer …" as a header argument: the scheme word names
    # the credential wherever it stands
    (r"\b(bearer|basic)[ \t]+[A-Za-z0-9+/=_\-.]{20,}",),
    run="A-Za-z0-9+/=_\\-.",
    validator=_entropy_value_ok,
    narrow=_keyed_value,
    confidence=0.75,
    caseless=True,
)

ENV_FALLBACK = Detector(
    "secret.generic_high_entropy",
    # a literal fallback after an environment lookup: process.env.JWT_SECRET || '…',
    # os.environ.get("KEY", "…"), getenv("KEY", "…")
    (
        r"(process\.env\.[A-Za-z0-9_]+[ \t]*(\|\||\?\?)|(environ\.get|getenv)\([\"'][A-Za-z0-9_]+"
        r"[\"'][ \t]*,)[ \t]*[\"'][A-Za-z0-9+/=_\-.]{16,}",
    ),
    run="A-Za-z0-9+/=_\\-.",
    validator=_entropy_value_ok,
    narrow=_keyed_value,
    confidence=0.75,
)

DETECTORS = (
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    AWS_SECRET_BESIDE_ID,
    AWS_SECRET_NEXT_LINE,
    GCP_SERVICE_ACCOUNT,
    AZURE_STORAGE_KEY,
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    SLACK_TOKEN,
    STRIPE_KEY,
    ANTHROPIC_KEY,
    OPENAI_KEY,
    PRIVATE_KEY,
    JWT,
    PASSWORD_ASSIGNMENT,
    PASSWORD_ARGUMENT,
    KEYED_SECRET,
    APP_KEY,
    SCHEME_CREDENTIAL,
    ENV_FALLBACK,
)
