"""Builds the ICD-derived half of the diagnosis lexicon: `data/diagnoses_icd.txt.gz`.

    pip install 'simple-icd-10-cm>=1.5'
    python -m sidecar.classify.entities.build_diagnoses [--check]

The source is the public ICD-10-CM code set (titles and inclusion terms of every category
and subcategory, as the `simple-icd-10-cm` package ships them); only the build needs that
package, the sidecar reads the generated file. Kept: the disease chapters A00-Q99, COVID-19
(U07.1) and the fracture categories of chapter S. Left out: symptoms and findings (R), the
other injuries and poisonings (S, T), external causes (V-Y) and contact with health services
(Z), whose titles are not diagnoses a prompt would name. Every title is reduced to the words
people write by `diagnosis_titles.reduce_title`; the lay names, abbreviations and a few
German, French and Spanish terms are hand-written in `data/diagnoses_lay.txt`, beside it.

`--check` rebuilds in memory and fails if the committed file differs, so a change to the
reduction rules cannot leave a stale lexicon behind.
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import importlib.metadata
import sys
from pathlib import Path

from sidecar.classify.entities.diagnosis_titles import reduce_title

OUT = Path(__file__).with_name("data") / "diagnoses_icd.txt.gz"
PACKAGE = "simple-icd-10-cm"

_CHAPTERS = tuple("ABCDEFGHIJKLMNOPQ")


def _wanted(code: str, title: str) -> bool:
    if code.startswith(_CHAPTERS):
        return True
    if code == "U07.1":
        return True
    return code.startswith("S") and len(code) == 3 and title.startswith("Fracture")


def build() -> list[str]:
    """The reduced phrases, sorted and unique."""
    icd = importlib.import_module("simple_icd_10_cm")
    phrases: set[str] = set()
    for code in icd.get_all_codes(True):
        if not icd.is_category_or_subcategory(code) or icd.is_extended_subcategory(code):
            continue
        title = icd.get_description(code)
        if not _wanted(code, title):
            continue
        phrases.update(reduce_title(title, tuple(icd.get_inclusion_term(code))))
    return sorted(phrases)


def render(phrases: list[str]) -> bytes:
    version = importlib.metadata.version(PACKAGE)
    header = f"# ICD-10-CM titles reduced by diagnosis_titles; source {PACKAGE} {version}\n"
    return (header + "".join(p + "\n" for p in phrases)).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    phrases = build()
    data = render(phrases)
    if args.check:
        current = gzip.decompress(OUT.read_bytes()) if OUT.exists() else b""
        if current != data:
            print(f"{OUT.name} is stale: rebuild it", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(exist_ok=True)
    # mtime=0: the same phrases give the same bytes, so a rebuild shows no spurious diff.
    OUT.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{OUT.name}: {len(phrases)} phrases, {OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
