"""Seeded, labelled corpus for the classifier's accuracy benchmark and tests.

    python -m tests.data.corpus [--seed 20261125] [--out-dir tests/data]

writes two JSON Lines files, one record a line:

    {"id": str, "text": str, "labels": [{"tag": str, "start": int, "end": int}]}

with character offsets (``text[start:end]`` is the labelled value).

``corpus.jsonl``
    Realistic sentences, snippets and config fragments carrying valid values for every tag
    in ``TAGS`` (Luhn-valid card numbers with real IIN prefixes, SSNs under the SSA rules,
    IBANs with correct mod-97 and national check digits, ABA/NPI/DEA checksums, GitHub
    tokens with their CRC32 checksum, ...), plus about 20% lines with nothing to find.
    Every value of a taxonomy type in a line is labelled, so any other finding is a false
    positive.

``lookalikes.jsonl``
    Lines with no labels that a good classifier reports nothing in: order numbers, UUIDs,
    digests, version strings, barcodes, timestamps, Luhn-failing and SSA-invalid numbers,
    documentation placeholders, test keys, loopback and documentation addresses, values
    without the context their type needs, and context words hidden inside other words
    ("Adobe" holds "dob", "mRNA" holds "mrn", "public" holds "bic").

Label conventions:

* Assignment-style secrets (``password=...``, ``AccountKey=...``, ``aws_secret_access_key =
  ...``) label the value only; URLs with credentials label the whole URL.
* ``secret.gcp_service_account`` labels the whole JSON object. Values inside it that are
  sensitive on their own are labelled too: the ``private_key`` PEM block as
  ``secret.private_key`` and the ``client_email`` as ``pii.email``. Likewise the PAN inside
  track data is labelled ``pci.pan``, and a GitHub token used as a URL password is labelled
  ``secret.github_token`` inside the ``secret.url_password`` label. Scorers treat a label
  lying inside a label of another tag as optional: finding it counts, missing it does not
  (the engine drops a candidate inside a longer accepted one).
* ``phi.clinical`` labels the condition or treatment phrase ("type 2 diabetes",
  "sertraline 50 mg"), not the whole sentence.
* ``secret.password_assignment`` is a value assigned to a password-like key
  (password, passwd, pwd, secret, api_key, client_secret); ``secret.generic_high_entropy``
  is a random-looking token named in prose or a header ("the deploy token is ...",
  "X-Auth-Token: ...") rather than assigned to a password-like key.

The output depends only on the seed: regenerating gives identical bytes.

Modules: `model` (taxonomy, record types, sizes), `common` (vocabulary, checksums), `values`
(one generator per tag), `templates` (the sentences values are put in), `lines` (the line
builder and the corpus), `lookalikes`, and `generate` (output and the command line).
"""

from tests.data.corpus.generate import generate, generate_bytes, load, main
from tests.data.corpus.model import (
    CORPUS_NAME,
    LOOKALIKES_NAME,
    SEED,
    TAGS,
    Label,
    Record,
)

__all__ = [
    "CORPUS_NAME",
    "LOOKALIKES_NAME",
    "SEED",
    "TAGS",
    "Label",
    "Record",
    "generate",
    "generate_bytes",
    "load",
    "main",
]
