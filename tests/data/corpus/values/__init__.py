"""One value generator per tag: `GENERATORS[tag](rng)` is a valid value of that tag, or
(value, inner labels) when sensitive values sit inside it."""

from __future__ import annotations

from tests.data.corpus.model import Gen
from tests.data.corpus.values.pci import gen_cvv, gen_expiry, gen_pan, gen_track_data
from tests.data.corpus.values.phi import gen_dea, gen_icd10, gen_mbi, gen_mrn, gen_npi
from tests.data.corpus.values.pii import (
    gen_aba_routing,
    gen_date_of_birth,
    gen_drivers_license,
    gen_email,
    gen_iban,
    gen_ip_address,
    gen_itin,
    gen_mac_address,
    gen_passport,
    gen_phone,
    gen_ssn,
    gen_swift_bic,
)
from tests.data.corpus.values.secret import (
    gen_anthropic_key,
    gen_aws_access_key,
    gen_aws_secret_key,
    gen_azure_storage_key,
    gen_gcp_service_account,
    gen_generic_high_entropy,
    gen_github_token,
    gen_gitlab_token,
    gen_jwt,
    gen_openai_key,
    gen_password,
    gen_private_key,
    gen_slack_token,
    gen_stripe_key,
    gen_url_password,
)

GENERATORS: dict[str, Gen] = {
    "pii.email": gen_email,
    "pii.phone": gen_phone,
    "pii.ssn": gen_ssn,
    "pii.itin": gen_itin,
    "pii.passport": gen_passport,
    "pii.drivers_license": gen_drivers_license,
    "pii.date_of_birth": gen_date_of_birth,
    "pii.iban": gen_iban,
    "pii.swift_bic": gen_swift_bic,
    "pii.aba_routing": gen_aba_routing,
    "pii.ip_address": gen_ip_address,
    "pii.mac_address": gen_mac_address,
    "pci.pan": gen_pan,
    "pci.track_data": gen_track_data,
    "pci.cvv": gen_cvv,
    "pci.expiry": gen_expiry,
    "phi.mrn": gen_mrn,
    "phi.npi": gen_npi,
    "phi.dea": gen_dea,
    "phi.mbi": gen_mbi,
    "phi.icd10": gen_icd10,
    "secret.aws_access_key": gen_aws_access_key,
    "secret.aws_secret_key": gen_aws_secret_key,
    "secret.gcp_service_account": gen_gcp_service_account,
    "secret.azure_storage_key": gen_azure_storage_key,
    "secret.github_token": gen_github_token,
    "secret.gitlab_token": gen_gitlab_token,
    "secret.slack_token": gen_slack_token,
    "secret.stripe_key": gen_stripe_key,
    "secret.openai_key": gen_openai_key,
    "secret.anthropic_key": gen_anthropic_key,
    "secret.private_key": gen_private_key,
    "secret.jwt": gen_jwt,
    "secret.url_password": gen_url_password,
    "secret.password_assignment": gen_password,
    "secret.generic_high_entropy": gen_generic_high_entropy,
}
