"""The corpus files: generation for a seed, (de)serialisation, and the command line."""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path

from tests.data.corpus.lines import build_corpus
from tests.data.corpus.lookalikes import build_lookalikes
from tests.data.corpus.model import CORPUS_NAME, LOOKALIKES_NAME, SEED, Record

HERE = Path(__file__).resolve().parent.parent
"""tests/data, where the committed files live."""


def generate(seed: int = SEED) -> tuple[list[Record], list[Record]]:
    """The corpus and the look-alikes for `seed`."""
    rng = random.Random(seed)
    corpus = build_corpus(rng)
    lookalikes = build_lookalikes(rng)
    return corpus, lookalikes


def dumps(records: Sequence[Record]) -> bytes:
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def generate_bytes(seed: int = SEED) -> dict[str, bytes]:
    """File name to file content, as written by `main`."""
    corpus, lookalikes = generate(seed)
    return {CORPUS_NAME: dumps(corpus), LOOKALIKES_NAME: dumps(lookalikes)}


def load(path: Path) -> list[Record]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the seeded, labelled corpus.")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in generate_bytes(args.seed).items():
        (args.out_dir / name).write_bytes(content)
        lines = content.count(b"\n")
        print(f"{name}: {lines} lines, {len(content):,} bytes")
