"""Builds the name lexicon `data/names_census.txt.gz` from the US Census Bureau's 1990 name
frequency files (public domain), as the `names` package (MIT) ships them.

    pip install 'names>=0.3'
    python -m sidecar.classify.entities.build_names [--check]

Given names: every entry of `dist.female.first` and `dist.male.first` (5,163 names, 90% of
the population counted). Surnames: the most frequent `SURNAMES` of `dist.all.last` (ranked
by frequency; the tail are names of a handful of households each, and many of them are
English words). A name that is also a common capitalised word is left out
(`name_cues.NOT_NAMES`: "Will", "May", "June" are kept out of the given names, "Street",
"House" out of the surnames). Only the build needs the package; the sidecar reads the file.

`--check` rebuilds in memory and fails if the committed file differs.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import sys
from pathlib import Path

from sidecar.classify.entities.name_cues import NOT_NAMES
from sidecar.classify.entities.name_lexicon import DATA, FIRST, LAST

SURNAMES = 30000
"""Surnames kept, most frequent first: ~87% of the 1990 population's surnames."""
_FILES = ("dist.female.first", "dist.male.first")


def _column(path: Path) -> list[str]:
    return [line.split()[0].lower() for line in path.read_text().splitlines() if line.strip()]


def build(source: Path) -> bytes:
    first = sorted({n for f in _FILES for n in _column(source / f)} - NOT_NAMES)
    last = [n for n in _column(source / "dist.all.last")[:SURNAMES] if n not in NOT_NAMES]
    text = "\n".join([FIRST, *first, LAST, *sorted(set(last))]) + "\n"
    return gzip.compress(text.encode(), mtime=0)


def _source() -> Path:
    spec = importlib.util.find_spec("names")
    if spec is None or spec.origin is None:
        raise SystemExit("the build needs the `names` package: pip install 'names>=0.3'")
    return Path(spec.origin).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if the file is stale")
    args = parser.parse_args(argv)
    data = build(_source())
    if args.check:
        stale = not DATA.exists() or gzip.decompress(DATA.read_bytes()) != gzip.decompress(data)
        print("stale" if stale else "up to date")
        return 1 if stale else 0
    DATA.write_bytes(data)
    print(f"wrote {DATA.name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
