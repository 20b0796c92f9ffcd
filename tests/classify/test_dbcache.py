"""Compiled Hyperscan databases cached on disk: same matches, compiled only when needed."""

from __future__ import annotations

import os
from pathlib import Path

import hyperscan
import pytest

from sidecar.classify.dbcache import cached_compile
from sidecar.classify.hs import compile_block

EXPRESSIONS = [rb"\b[a-z]+@example\.com\b", rb"\bDE[0-9]{20}\b"]
FLAGS = [0, hyperscan.HS_FLAG_SOM_LEFTMOST]
TEXT = b"write to jane@example.com about DE89370400440532013000 today"


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, expressions: list[bytes], flags: list[int]) -> hyperscan.Database:
        self.calls += 1
        return compile_block(expressions, flags)


def matches(db: hyperscan.Database) -> list[tuple[int, int, int]]:
    found: list[tuple[int, int, int]] = []
    db.scan(TEXT, match_event_handler=lambda i, s, e, f, c: found.append((i, s, e)))
    return found


def test_a_warm_cache_skips_compilation_and_matches_the_same(tmp_path: Path) -> None:
    compile_fn = Counting()
    first = cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path / "cache")
    second = cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path / "cache")
    assert compile_fn.calls == 1
    # no start of match without SOM: Hyperscan reports 0
    assert matches(first) == matches(second) == [(0, 0, 25), (1, 32, 54)]
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700


def test_other_patterns_or_flags_compile_afresh(tmp_path: Path) -> None:
    compile_fn = Counting()
    cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path)
    cached_compile(EXPRESSIONS[:1], FLAGS[:1], compile_fn, tmp_path)
    cached_compile(EXPRESSIONS, [0, 0], compile_fn, tmp_path)
    assert compile_fn.calls == 3
    assert len(list(tmp_path.glob("hs-*.db"))) == 3


def test_a_corrupt_file_is_replaced(tmp_path: Path) -> None:
    compile_fn = Counting()
    cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path)
    (db_file,) = tmp_path.glob("hs-*.db")
    db_file.write_bytes(b"not a database")
    db = cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path)
    assert compile_fn.calls == 2 and matches(db) == [(0, 0, 25), (1, 32, 54)]
    assert cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path) and compile_fn.calls == 2


def test_a_file_others_could_write_is_not_trusted(tmp_path: Path) -> None:
    compile_fn = Counting()
    cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path)
    (db_file,) = tmp_path.glob("hs-*.db")
    db_file.chmod(0o666)
    cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path)
    assert compile_fn.calls == 2


@pytest.mark.skipif(os.getuid() == 0, reason="root writes anywhere")
def test_an_unwritable_cache_only_costs_the_compilation(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    compile_fn = Counting()
    db = cached_compile(EXPRESSIONS, FLAGS, compile_fn, tmp_path / "sub")
    assert compile_fn.calls == 1 and matches(db)


def test_a_cache_path_that_is_a_file_only_costs_the_compilation(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    compile_fn = Counting()
    assert matches(cached_compile(EXPRESSIONS, FLAGS, compile_fn, blocker))
    assert compile_fn.calls == 1


def test_no_cache_dir_compiles(tmp_path: Path) -> None:
    compile_fn = Counting()
    cached_compile(EXPRESSIONS, FLAGS, compile_fn, None)
    cached_compile(EXPRESSIONS, FLAGS, compile_fn, None)
    assert compile_fn.calls == 2


def test_a_classifier_from_a_warm_cache_finds_the_same(tmp_path: Path) -> None:
    from sidecar.classify import Classifier
    from sidecar.classify.model import Segment
    from sidecar.config import ClassificationConfig

    cfg = ClassificationConfig(compiled_cache_dir=tmp_path)
    cold, warm = Classifier.from_config(cfg), Classifier.from_config(cfg)
    assert len(list(tmp_path.glob("hs-*.db"))) >= 2  # + the normalisation table, if built here
    text = "mail jane.doe@example.com, IBAN DE89370400440532013000, key AKIAIOSFODNN7EXAMPLE"
    segments = [Segment(("messages", 0, "content"), text)]
    a, b = cold.classify(segments), warm.classify(segments)
    assert a == b and {"pii.email", "pii.iban"} <= set(a.tags)


def test_normalisation_table_from_a_warm_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sidecar.classify import normalize as n

    text = "ｆｕｌｌ\u200bwidth ٣٤٥ and ﬁ ligature"
    expected = n.normalize(text).text
    monkeypatch.setattr(n, "_changing_db", None)
    n.prepare(tmp_path)
    assert len(list(tmp_path.glob("hs-*.db"))) == 1
    monkeypatch.setattr(n, "_changing_db", None)

    def no_build() -> hyperscan.Database:
        raise AssertionError("a warm cache must not walk the code points")

    monkeypatch.setattr(n, "_build_changing", no_build)
    n.prepare(tmp_path)
    assert n.normalize(text).text == expected == "fullwidth 345 and fi ligature"
