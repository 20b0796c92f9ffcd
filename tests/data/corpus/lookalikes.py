"""Look-alikes: lines a good classifier reports nothing in."""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

from tests.data.corpus.common import (
    ALNUM,
    B64,
    B64URL,
    HEX,
    PRODUCTS,
    b64url,
    group,
    iban_check_digits,
    rand_digits,
    rand_str,
)
from tests.data.corpus.model import LOOKALIKES_PER_KIND, Record
from tests.data.corpus.values.pci import card_number, format_pan
from tests.data.corpus.values.phi import gen_dea, gen_npi
from tests.data.corpus.values.pii import IBAN_COUNTRIES, gen_aba_routing


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    h = h[:12] + "4" + h[13:16] + rng.choice("89ab") + h[17:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _luhn_invalid_card(rng: random.Random) -> str:
    number, brand = card_number(rng)
    wrong = str((int(number[-1]) + rng.randint(1, 9)) % 10)
    return format_pan(rng, number[:-1] + wrong, brand)


def _invalid_ssn(rng: random.Random) -> str:
    kind = rng.randrange(6)
    area = f"{rng.randint(1, 899):03d}".replace("666", "667")
    group_ = f"{rng.randint(1, 99):02d}"
    serial = f"{rng.randint(1, 9999):04d}"
    if kind == 0:
        area = "000"
    elif kind == 1:
        area = "666"
    elif kind == 2:  # 9xx with a group no ITIN uses: neither an SSN nor an ITIN
        area = f"9{rng.randint(0, 99):02d}"
        group_ = f"{rng.choice((*range(1, 50), *range(66, 70), 89, 93)):02d}"
    elif kind == 3:
        group_ = "00"
    elif kind == 4:
        serial = "0000"
    else:
        return rng.choice(("078-05-1120", "219-09-9999", "123-45-6789"))
    return f"{area}-{group_}-{serial}"


def _ean13(rng: random.Random) -> str:
    # GS1 prefixes outside every card IIN range (US/Canada, Switzerland, Italy, Netherlands)
    body = rng.choice(("0", "76", "80", "81", "82", "83", "87"))
    body += rand_digits(rng, 12 - len(body))
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    return body + str(check)


def _isbn13(rng: random.Random) -> str:
    body = rng.choice(("978", "979")) + rand_digits(rng, 9)
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    full = body + str(check)
    return f"{full[:3]}-{full[3]}-{full[4:7]}-{full[7:12]}-{full[12]}"


def _bad_aba(rng: random.Random) -> str:
    good = gen_aba_routing(rng)
    return good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)


def _bad_npi(rng: random.Random) -> str:
    good = gen_npi(rng)
    return good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)


def _bad_dea(rng: random.Random) -> str:
    good = gen_dea(rng)
    return good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)


def _bad_iban(rng: random.Random) -> str:
    country, bban = rng.choice(IBAN_COUNTRIES)(rng)
    good = iban_check_digits(country, bban)
    wrong = f"{(int(good) + rng.randint(1, 90)) % 97 + 2:02d}"
    if wrong == good:
        wrong = f"{(int(good) + 1) % 97 + 2:02d}"
    value = country + wrong + bban
    return group(value, [4] * 8, " ") if rng.random() < 0.5 else value


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice((f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d:02d}.{m:02d}.{y}"))


def _epoch(rng: random.Random) -> str:
    """Seconds and milliseconds since 1970: a millisecond stamp of these years starts with
    16 or 17 (thirteen random digits would be no timestamp, and may well be a card)."""
    seconds = rng.randint(1_600_000_000, 1_800_000_000)
    return f"epoch {seconds} ms {seconds * 1000 + rng.randint(0, 999)}"


def _semver(rng: random.Random) -> str:
    return f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}"


def _harmless_b64(rng: random.Random) -> str:
    sentence = rng.choice(
        (
            "Hello, world! This is a harmless message.",
            "The quick brown fox jumps over the lazy dog.",
            "Meeting notes: ship the dashboard on Friday.",
            '{"theme": "dark", "fontSize": 14, "locale": "en-GB"}',
        )
    )
    return base64.b64encode(sentence.encode()).decode()


def _not_jwt(rng: random.Random) -> str:
    header = b64url(json.dumps({"typ": "JWT", "cty": "text"}).encode())
    payload = b64url(json.dumps({"page": rng.randint(1, 9), "q": "shoes"}).encode())
    return f"{header}.{payload}.{rand_str(rng, B64URL, 20)}"


def _public_block(rng: random.Random, label: str) -> str:
    body = rand_str(rng, B64, 360)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def _dea_shaped(rng: random.Random) -> str:
    return gen_dea(rng)


LOOKALIKE_KINDS: dict[str, tuple[Callable[[random.Random], str], ...]] = {
    "order_number": (
        lambda r: f"Order #{rand_digits(r, 10)} has shipped via UPS.",
        lambda r: f"Invoice INV-{r.randint(2019, 2026)}-{rand_digits(r, 6)} is overdue.",
        lambda r: f"Your order number is {r.randint(1, 9)}{rand_digits(r, 11)}.",
        lambda r: f"Reference {rand_str(r, string.ascii_uppercase, 3)}-{rand_digits(r, 8)}",
    ),
    "uuid": (
        lambda r: f"request_id={_uuid(r)}",
        lambda r: f"Trace {_uuid(r)} failed; retry with {_uuid(r)}.",
        lambda r: f'{{"id": "{_uuid(r)}", "parent": "{_uuid(r)}"}}',
    ),
    "git_sha": (
        lambda r: f"commit {rand_str(r, HEX, 40)}",
        lambda r: f"Fixed in {rand_str(r, HEX, 7)} (see {rand_str(r, HEX, 40)}).",
        lambda r: f"git cherry-pick {rand_str(r, HEX, 12)}",
    ),
    "digest": (
        lambda r: f"sha256:{rand_str(r, HEX, 64)}",
        lambda r: f"image digest {rand_str(r, HEX, 64)}",
        lambda r: f"SHA-256 checksum: {rand_str(r, HEX, 64).upper()}",
        lambda r: f"md5 {rand_str(r, HEX, 32)}  release.tar.gz",
    ),
    "version": (
        lambda r: f"Upgrade to {_semver(r)} before {_semver(r)} is retired.",
        lambda r: (
            f"firmware v{r.randint(1, 20)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(0, 99)}"
        ),
        lambda r: "version 1.2.3 and v10.4.1.2",
        lambda r: (
            f"Python 3.{r.randint(8, 13)}.{r.randint(0, 12)} with pip "
            f"{r.randint(20, 25)}.{r.randint(0, 3)}"
        ),
    ),
    "barcode": (
        lambda r: f"ISBN {_isbn13(r)}",
        lambda r: f"EAN-13 {_ean13(r)}",
        lambda r: f"scan barcode {_ean13(r)} at the till",
    ),
    "timestamp": (
        lambda r: (
            f"{r.randint(2020, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T"
            f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z"
        ),
        lambda r: (
            f"started at {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        ),
        lambda r: f"elapsed 00:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{rand_digits(r, 3)}",
        _epoch,
    ),
    "luhn_invalid_card": (
        lambda r: f"card {_luhn_invalid_card(r)}",
        lambda r: f"test number {_luhn_invalid_card(r)} was declined",
    ),
    "invalid_ssn": (
        lambda r: f"SSN {_invalid_ssn(r)}",
        lambda r: f"social security number {_invalid_ssn(r)} is not valid",
    ),
    "nine_digits_no_context": (
        lambda r: f"tracking number {r.randint(1, 8)}{rand_digits(r, 8)}",
        lambda r: f"{r.randint(1, 8)}{rand_digits(r, 8)} rows were imported",
        lambda r: f"the job id is {r.randint(1, 8)}{rand_digits(r, 8)}",
    ),
    "aws_names": (
        lambda r: "S3, EC2, EKS and IAM are AWS services.",
        lambda r: f"Move the {r.choice(PRODUCTS)} from EC2 to EKS and read from S3 via IAM roles.",
        lambda r: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ),
    "placeholders": (
        lambda r: "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        lambda r: "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        lambda r: f"STRIPE_KEY=sk_test_{rand_str(r, ALNUM, 24)}",
        lambda r: f"publishable key pk_live_{rand_str(r, ALNUM, 24)}",
        lambda r: "password=${DB_PASSWORD}",
        lambda r: "password: ********",
        lambda r: 'api_key="<YOUR_API_KEY>"',
        lambda r: "password = os.environ['DB_PASSWORD']",
        lambda r: "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DBNAME",
        lambda r: "secret: REPLACE_ME",
    ),
    "not_personal_ip": (
        lambda r: "listen on 127.0.0.1:8080 and 0.0.0.0:9090",
        lambda r: f"example host 192.0.2.{r.randint(1, 254)} in the docs",
        lambda r: f"see 198.51.100.{r.randint(1, 254)} and 203.0.113.{r.randint(1, 254)}",
        lambda r: "netmask 255.255.255.0, broadcast 255.255.255.255",
        lambda r: "IPv6 loopback ::1 and documentation prefix 2001:db8::1",
        lambda r: "multicast group 224.0.0.251 for mDNS",
    ),
    "product_code": (
        lambda r: f"SKU {r.randint(2, 9)}{rand_digits(r, 9)}",
        lambda r: f"part no. {r.randint(2, 9)}{rand_digits(r, 9)} in stock",
        lambda r: f"model {rand_str(r, string.ascii_uppercase, 2)}{rand_digits(r, 10)}",
    ),
    "date_no_context": (
        lambda r: f"The release is planned for {_date(r)}.",
        lambda r: f"invoice dated {_date(r)}, due {_date(r)}",
        lambda r: f"Last login: {_date(r)}",
    ),
    "icd_like_no_context": (
        lambda r: f"Meet in room {r.choice(('E11', 'F32', 'J45', 'K21'))} at {r.randint(1, 5)} pm.",
        lambda r: f"Put the total in spreadsheet cell {r.choice(('I10', 'E11', 'M17', 'G43'))}.",
        lambda r: (
            f"Boarding at gate {r.choice(('C50', 'B20', 'D50', 'F20'))}, seat {r.randint(1, 40)}A."
        ),
        lambda r: f"Excel range E11:E{r.randint(20, 99)} holds the totals.",
    ),
    "harmless_base64": (
        lambda r: f"payload: {_harmless_b64(r)}",
        lambda r: f"data:text/plain;base64,{_harmless_b64(r)}",
    ),
    "not_a_jwt": (lambda r: f"cursor {_not_jwt(r)}",),
    "public_pem": (
        lambda r: _public_block(r, "PUBLIC KEY"),
        lambda r: "server.crt:\n" + _public_block(r, "CERTIFICATE"),
    ),
    "bad_checksums": (
        lambda r: f"IBAN {_bad_iban(r)} (check digits wrong)",
        lambda r: f"routing number {_bad_aba(r)} failed validation",
        lambda r: f"NPI {_bad_npi(r)} is not on file",
        lambda r: f"DEA {_bad_dea(r)} was rejected",
    ),
    "hidden_context_words": (
        lambda r: f"Adobe shipped the update on {_date(r)}.",  # "dob"
        lambda r: f"a stubborn bug since {_date(r)}",  # "born"
        lambda r: f"mRNA-1273 lot {rand_digits(r, 7)}",  # "mrn"
        lambda r: "The public DATABASE is read-only.",  # "bic"; DATABASE is BIC-shaped
        lambda r: f"Deal ID {_dea_shaped(r)} closed last quarter",  # "dea"
        lambda r: f"bundle {r.randint(1, 4)}{rand_digits(r, 7)} shipped",  # "dl"
        lambda r: f"expected {r.randint(1, 12)}/{r.randint(20, 31)} checks to pass",  # "exp"
        lambda r: f"unpinned build {_bad_npi(r)}",  # "npi"
    ),
    "code_and_prose": (
        lambda r: "std::vector<int> v; v.push_back(42);",
        lambda r: f"colour #{rand_str(r, HEX, 6)} on #{rand_str(r, HEX, 6)}",
        lambda r: f"price ${r.randint(1, 999)}.{r.randint(0, 99):02d}, qty {r.randint(1, 99)}",
        lambda r: "not an email: foo@bar, @decorator, user@localhost",
        lambda r: f"score {r.randint(1, 9)}-{r.randint(0, 9)} after {r.randint(60, 90)} minutes",
        lambda r: "MAC-then-encrypt is weaker than encrypt-then-MAC.",
        lambda r: "broadcast MAC ff:ff:ff:ff:ff:ff and null MAC 00:00:00:00:00:00",
    ),
}


def build_lookalikes(rng: random.Random) -> list[Record]:
    records: list[Record] = []
    for kind, makers in LOOKALIKE_KINDS.items():
        for n in range(LOOKALIKES_PER_KIND):
            text = makers[n % len(makers)](rng)
            records.append({"id": f"{kind}-{n:02d}", "text": text, "labels": []})
    return records
