"""Credentials in the formats their issuers use (GitHub tokens with their CRC32, PEM
blocks, service-account JSON, signed JWTs, connection URLs, passwords)."""

from __future__ import annotations

import base64
import json
import random
import string
import zlib

from tests.data.corpus.common import (
    ALNUM,
    B64,
    B64URL,
    FIRST_NAMES,
    HEX,
    HOSTS,
    LAST_NAMES,
    WORDS,
    b64url,
    base62,
    rand_str,
)
from tests.data.corpus.model import Value

AWS_ALPHABET = string.ascii_uppercase + "234567"


def gen_aws_access_key(rng: random.Random) -> str:
    while True:
        value = rng.choice(("AKIA", "AKIA", "AKIA", "ASIA")) + rand_str(rng, AWS_ALPHABET, 16)
        if not value.endswith("EXAMPLE"):
            return value


def gen_aws_secret_key(rng: random.Random) -> str:
    return rand_str(rng, B64, 40)


def pem_block(rng: random.Random, label: str, body_chars: int, width: int = 64) -> str:
    prefix = {
        "RSA PRIVATE KEY": "MIIEowIBAAKCAQEA",
        "PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ",
        "EC PRIVATE KEY": "MHcCAQEEI",
        "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz"
        "c2gtZW",
        "ENCRYPTED PRIVATE KEY": "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI",
    }[label]
    body = prefix + rand_str(rng, B64, body_chars - len(prefix))
    if body_chars % 4:
        body = body[: -(body_chars % 4)]
    pad = rng.choice(("", "=", "=="))
    body = body[: len(body) - len(pad)] + pad
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def gen_private_key(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return pem_block(rng, "RSA PRIVATE KEY", 1588)
    if kind == 1:
        return pem_block(rng, "PRIVATE KEY", 1624)
    if kind == 2:
        return pem_block(rng, "EC PRIVATE KEY", 160)
    if kind == 3:
        return pem_block(rng, "OPENSSH PRIVATE KEY", 396, width=70)
    return pem_block(rng, "ENCRYPTED PRIVATE KEY", 1000)


def gen_gcp_service_account(rng: random.Random) -> Value:
    org = rng.choice(("acme", "globex", "hooli", "initech"))
    project = f"{org}-{rng.choice(('prod', 'data', 'ml', 'ci'))}-{rng.randint(100000, 999999)}"
    account = rng.choice(("deployer", "etl-runner", "terraform", "bq-reader", "ci-bot"))
    email = f"{account}@{project}.iam.gserviceaccount.com"
    key = pem_block(rng, "PRIVATE KEY", 1624) + "\n"
    obj = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": rand_str(rng, HEX, 40),
        "private_key": key,
        "client_email": email,
        "client_id": str(rng.randint(10**20, 10**21 - 1)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    text = json.dumps(obj, indent=2) if rng.random() < 0.5 else json.dumps(obj)
    key_start = text.index("-----BEGIN PRIVATE KEY-----")
    key_end = text.index("-----END PRIVATE KEY-----") + len("-----END PRIVATE KEY-----")
    email_start = text.index(f'"{email}"') + 1
    return text, (
        ("secret.private_key", key_start, key_end),
        ("pii.email", email_start, email_start + len(email)),
    )


def gen_azure_storage_key(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(64)).decode()


def github_token(rng: random.Random, prefix: str) -> str:
    random_part = rand_str(rng, ALNUM, 30)
    return f"{prefix}_{random_part}{base62(zlib.crc32(random_part.encode()), 6)}"


def gen_github_token(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"github_pat_{rand_str(rng, ALNUM, 22)}_{rand_str(rng, ALNUM, 59)}"
    return github_token(rng, rng.choice(("ghp", "ghp", "gho", "ghu", "ghs", "ghr")))


def gen_gitlab_token(rng: random.Random) -> str:
    return "glpat-" + rand_str(rng, ALNUM + "-_", 20)


def gen_slack_token(rng: random.Random) -> str:
    team = str(rng.randint(10**9, 10**12))
    kind = rng.randrange(3)
    if kind == 0:
        return f"xoxb-{team}-{rng.randint(10**11, 10**13)}-{rand_str(rng, ALNUM, 24)}"
    if kind == 1:
        return (
            f"xoxp-{team}-{rng.randint(10**11, 10**13)}-{rng.randint(10**11, 10**13)}-"
            f"{rand_str(rng, HEX, 32)}"
        )
    return f"xoxa-2-{team}-{rng.randint(10**11, 10**13)}-{rand_str(rng, HEX, 64)}"


def gen_stripe_key(rng: random.Random) -> str:
    prefix = "sk_live_" if rng.random() < 0.8 else "rk_live_"
    return prefix + rand_str(rng, ALNUM, rng.choice((24, 99)))


def gen_openai_key(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"sk-proj-{rand_str(rng, B64URL, 74)}T3BlbkFJ{rand_str(rng, B64URL, 74)}"
    return f"sk-{rand_str(rng, ALNUM, 20)}T3BlbkFJ{rand_str(rng, ALNUM, 20)}"


def gen_anthropic_key(rng: random.Random) -> str:
    return f"sk-ant-api03-{rand_str(rng, B64URL, 93)}AA"


JWT_HEADERS = (
    {"alg": "HS256", "typ": "JWT"},
    {"alg": "RS256", "typ": "JWT"},
    {"typ": "JWT", "alg": "ES256"},
    {"alg": "RS256", "kid": "", "typ": "JWT"},
)
JWT_SIGNATURE_BYTES = {"HS256": 32, "RS256": 256, "ES256": 64}


def gen_jwt(rng: random.Random) -> str:
    header = dict(rng.choice(JWT_HEADERS))
    if "kid" in header:
        header["kid"] = rand_str(rng, HEX, 16)
    issued = rng.randint(1_700_000_000, 1_790_000_000)
    payload = {
        "sub": str(rng.randint(10**5, 10**9)),
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "iat": issued,
        "exp": issued + 3600,
    }
    if rng.random() < 0.5:
        payload["scope"] = "read write"
    parts = (
        b64url(json.dumps(header, separators=(",", ":")).encode()),
        b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()),
        b64url(rng.randbytes(JWT_SIGNATURE_BYTES[str(header["alg"])])),
    )
    return ".".join(parts)


def gen_password(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        word = rng.choice(WORDS)
        return f"{word.capitalize()}{rng.randint(1970, 2029)}{rng.choice('!#$%&*')}"
    if style == 1:
        leet = str.maketrans({"o": "0", "a": "4", "e": "3", "s": "5"})
        return rng.choice(WORDS).translate(leet) + rng.choice("!#$%&*") + rng.choice(WORDS).upper()
    if style == 2:
        return "-".join(rng.sample(WORDS, 4))
    return rand_str(rng, ALNUM + "!#%^*_-", rng.randint(14, 24))


def gen_url_password(rng: random.Random) -> Value:
    password = rand_str(rng, ALNUM, rng.randint(10, 20))
    user = rng.choice(("app", "admin", "deploy", "svc_orders", "etl", "reporting", "root"))
    host = rng.choice(HOSTS)
    kind = rng.randrange(7)
    if kind == 0:
        return f"postgres://{user}:{password}@{host}:5432/orders"
    if kind == 1:
        return f"postgresql://{user}:{password}@{host}/analytics?sslmode=require"
    if kind == 2:
        return f"mysql://{user}:{password}@{host}:3306/app"
    if kind == 3:
        return f"mongodb+srv://{user}:{password}@{host}/prod?retryWrites=true"
    if kind == 4:
        return f"redis://:{password}@{host}:6379/0"
    if kind == 5:
        return f"amqp://{user}:{password}@{host}:5672/%2f"
    # (A URL whose password is a GitHub token is the token's finding, secret.github_token,
    # not a URL password: the hand-written evaluation corpus covers that case.)
    return f"https://{user}:{password}@{host}/job/build/"


def gen_generic_high_entropy(rng: random.Random) -> str:
    while True:
        value = rand_str(rng, ALNUM, rng.choice((32, 40, 48, 64)))
        if (
            any(c.isupper() for c in value)
            and any(c.islower() for c in value)
            and any(c.isdigit() for c in value)
        ):
            return value
