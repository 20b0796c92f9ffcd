"""Compiled Hyperscan databases kept on disk between starts.

Compiling the detector catalogue (a fast database and a start-of-match one) takes about
0.75 s of CPU and leaves ~40 MB of compiler heap behind, most of a cold start; and merely
running Hyperscan's compiler maps ~4 MB of its code into the process for good. Hyperscan
serialises compiled databases for exactly this reason, so with
`classification.compiled_cache_dir` set, a start loads them in under a millisecond when
nothing changed. The file name is a digest of everything that goes into the database
(Hyperscan's version and mode, plus the expressions and flags, or whatever else the caller
names), so a changed custom detector compiles afresh; Hyperscan itself refuses a database
built for another CPU or library version, which also compiles afresh. Only files owned by
this user and writable by nobody else are read, since a database is executable matching
code for the scanner.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import hyperscan
import structlog

log = structlog.get_logger("llm_router.classify")

MODE = hyperscan.HS_MODE_BLOCK


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    h.update(importlib.metadata.version("hyperscan").encode() + b"\0%d\0" % MODE)
    for part in parts:
        h.update(b"%d\0" % len(part) + part)
    return h.hexdigest()[:32]


def _trusted(path: Path) -> bool:
    """Ours, and nobody else may have written it (nor its directory)."""
    for p in (path.parent, path):
        st = p.stat()
        if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return False
    return True


def cached_compile(
    expressions: list[bytes],
    flags: list[int],
    compile_fn: Callable[[list[bytes], list[int]], hyperscan.Database],
    cache_dir: Path | None,
) -> hyperscan.Database:
    """`compile_fn(expressions, flags)`, or the same database from `cache_dir`. A cache that
    cannot be read or written never stops start-up: it only costs the compilation."""
    parts = [b"%d" % f for f in flags] + expressions
    return cached_database(parts, lambda: compile_fn(expressions, flags), cache_dir)


def cached_database(
    key: Iterable[bytes], build: Callable[[], hyperscan.Database], cache_dir: Path | None
) -> hyperscan.Database:
    """`build()`, or the database it built before with the same `key` (everything the
    database depends on), from `cache_dir`."""
    if cache_dir is None:
        return build()
    path = Path(cache_dir) / f"hs-{_digest(key)}.db"
    try:
        if path.is_file() and _trusted(path):
            db = hyperscan.loadb(path.read_bytes(), MODE)
            db.scratch = hyperscan.Scratch(db)  # a loaded database comes without one
            return db
    except (OSError, hyperscan.error) as exc:
        log.warning("hyperscan_cache_unusable", path=str(path), error=type(exc).__name__)
    db = build()
    try:
        _store(path, hyperscan.dumpb(db))
    except (OSError, hyperscan.error) as exc:
        log.warning("hyperscan_cache_not_written", path=str(path), error=type(exc).__name__)
    return db


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hs-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)  # atomic: a concurrent start sees the old file or the new one
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
