"""Health identifiers (MRN, NPI, DEA, MBI, ICD-10 codes) and clinical phrases."""

from __future__ import annotations

import random
import string

from tests.data.corpus.common import luhn_check_digit, rand_digits


def gen_mrn(rng: random.Random) -> str:
    n = rng.randint(6, 10)
    return (
        str(rng.randint(1, 9)) + rand_digits(rng, n - 1)
        if rng.random() < 0.7
        else "00" + rand_digits(rng, n - 2)
    )


def gen_npi(rng: random.Random) -> str:
    head = rng.choice("12") + rand_digits(rng, 8)
    return head + luhn_check_digit("80840" + head)


DEA_REGISTRANTS = "ABCDFGHMPRX"


def gen_dea(rng: random.Random) -> str:
    second = rng.choice(string.ascii_uppercase)
    d = [rng.randrange(10) for _ in range(6)]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return rng.choice(DEA_REGISTRANTS) + second + "".join(map(str, d)) + str(check)


MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # A-Z without S, L, O, I, B, Z


def gen_mbi(rng: random.Random) -> str:
    an = string.digits + MBI_LETTERS
    chars = (
        rng.choice("123456789"),
        rng.choice(MBI_LETTERS),
        rng.choice(an),
        rng.choice(string.digits),
        rng.choice(MBI_LETTERS),
        rng.choice(an),
        rng.choice(string.digits),
        rng.choice(MBI_LETTERS),
        rng.choice(MBI_LETTERS),
        rng.choice(string.digits),
        rng.choice(string.digits),
    )
    value = "".join(chars)
    return f"{value[:4]}-{value[4:7]}-{value[7:]}" if rng.random() < 0.3 else value


ICD10_CODES = (
    "E11.9", "E11.65", "E10.9", "I10", "I25.10", "I48.91", "J45.909", "J44.9", "J18.9",
    "F32.A", "F32.9", "F41.1", "F33.1", "F90.0", "G43.909", "G47.33", "K21.9", "K58.9",
    "M54.50", "M17.11", "N39.0", "R07.9", "R51.9", "E78.5", "E66.9", "E03.9", "Z79.4",
    "C50.911", "C34.90", "O24.419", "S72.001A", "U07.1", "B20", "F17.210", "L40.0", "H10.9",
    "N18.30", "D50.9", "F20.9", "F31.9",
)  # fmt: skip


def gen_icd10(rng: random.Random) -> str:
    return rng.choice(ICD10_CODES)


CONDITIONS = (
    "type 2 diabetes", "HIV", "major depressive disorder", "stage III colon cancer",
    "schizophrenia", "hepatitis C", "bipolar I disorder", "chronic kidney disease",
    "opioid use disorder", "early-onset Alzheimer's disease", "breast cancer", "epilepsy",
    "multiple sclerosis", "COPD", "generalized anxiety disorder", "atrial fibrillation",
    "anorexia nervosa", "Crohn's disease", "post-traumatic stress disorder",
)  # fmt: skip
TREATMENTS = (
    "metformin 500 mg twice daily", "chemotherapy", "sertraline 50 mg",
    "insulin glargine 20 units", "methadone maintenance", "dialysis", "PrEP",
    "lithium 300 mg", "radiotherapy",
)  # fmt: skip
