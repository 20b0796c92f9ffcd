"""Microsoft Presidio as a peer on the evaluation corpus, in its own virtual environment.

Two halves in one file. Imported by `benchmarks/evaluate.py` (in the project's venv), it
installs Presidio on first use into a venv outside the repository (the user's cache
directory, or `--presidio-venv`) and runs this same file there as a script. Run as a script
(in Presidio's venv), it reads `{"texts": [...]}` on stdin and writes, per text, every
result of `AnalyzerEngine.analyze` with Presidio's default recognizers and default score
threshold, plus the seconds each call took.

No spaCy model package can be installed here (the en_core_web_* wheels are not on the
package index), so the NLP engine is a blank English pipeline, `spacy.blank("en")`:
Presidio's pattern recognizers (cards, e-mails, phones, IBANs, SSNs, IPs, dates...) run,
its NER recognizer finds nothing, and context words cannot raise a score (a blank pipeline
has no lemmas). PERSON and LOCATION recall is therefore 0 for a reason that is ours, not
Presidio's; the report says so. The e-mail recognizer's public-suffix lookup is kept
offline (the bundled snapshot), so the run makes no network request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REQUIREMENTS = ("presidio-analyzer>=2.2", "spacy>=3.7")

PRESIDIO_TO_TAG: dict[str, str] = {
    "PERSON": "pii.person_name",
    "LOCATION": "pii.street_address",
    "PHONE_NUMBER": "pii.phone",
    "EMAIL_ADDRESS": "pii.email",
    "CREDIT_CARD": "pci.pan",
    "US_SSN": "pii.ssn",
    "US_ITIN": "pii.itin",
    "IBAN_CODE": "pii.iban",
    "IP_ADDRESS": "pii.ip_address",
    "MAC_ADDRESS": "pii.mac_address",
    "DATE_TIME": "pii.date_of_birth",
    "US_PASSPORT": "pii.passport",
    "US_DRIVER_LICENSE": "pii.drivers_license",
    "MEDICAL_LICENSE": "phi.dea",
    "US_BANK_NUMBER": "pii.bank_account",
    "UK_NHS": "phi.nhs_number",
}
"""Presidio entity type -> our tag. DATE_TIME is every date, the closest Presidio has to a
date of birth. US_BANK_NUMBER and UK_NHS have no tag of ours: they keep a name of their
own, so they count at the document level and as false positives per type. Presidio has no
secret, MRN, NPI, ICD-10 or diagnosis recognizer. URL, UUID, CRYPTO, ORGANIZATION, NRP and
AGE are not regulated data here and are dropped."""

NLP_NOTE = (
    "spaCy blank English pipeline (no model package is installable here): pattern "
    "recognizers only, no NER, no lemma-based context boost; PERSON/LOCATION recall is 0 "
    "for that reason"
)


class PresidioUnavailable(Exception):
    """Presidio could not be installed or run here; the report says why."""


def default_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "llm-policy-router" / "presidio-venv"


def ensure_venv(venv: Path) -> Path:
    """The venv's python, creating the venv and installing Presidio on first use."""
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if marker.exists():
        return python
    print(f"installing {', '.join(REQUIREMENTS)} into {venv} ...", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        raise PresidioUnavailable(f"install failed: {exc} {detail[-400:]!r}") from exc
    marker.write_text("\n".join(REQUIREMENTS) + "\n")
    return python


def run(texts: list[str], venv: Path | None = None) -> dict[str, Any]:
    """Analyse every text with Presidio in its venv; see the module docstring."""
    python = ensure_venv(venv or default_venv())
    proc = subprocess.run(
        [str(python), str(Path(__file__).resolve())],
        input=json.dumps({"texts": texts}),
        capture_output=True,
        text=True,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
    )
    if proc.returncode != 0:
        raise PresidioUnavailable(f"presidio run failed: {proc.stderr[-800:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _serve() -> None:
    """In Presidio's venv: analyse the texts on stdin, print results as JSON."""
    import logging
    from importlib.metadata import version

    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())

    class BlankSpacyEngine(SpacyNlpEngine):  # type: ignore[misc]
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    texts = json.load(sys.stdin)["texts"]
    t0 = time.perf_counter()
    engine = BlankSpacyEngine(models=[{"lang_code": "en", "model_name": "blank:en"}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    analyzer.analyze("warm up 555-0100", language="en")
    load_seconds = time.perf_counter() - t0
    results, seconds = [], []
    for text in texts:
        t0 = time.perf_counter()
        found = analyzer.analyze(text, language="en")
        seconds.append(time.perf_counter() - t0)
        results.append([[r.entity_type, r.start, r.end, round(r.score, 4)] for r in found])
    out = {
        "versions": {p: version(p) for p in ("presidio-analyzer", "spacy")},
        "recognizers": sorted(r.name for r in analyzer.registry.recognizers),
        "load_seconds": round(load_seconds, 3),
        "results": results,
        "seconds": seconds,
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    _serve()
