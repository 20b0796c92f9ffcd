"""Where sealed audit lines go: a stream (stdout by default) or a size-rotated local file.

A sink receives complete lines (sealed, newline-terminated) in chain order and raises
OSError when it cannot take one; `AuditLog` then counts the record as dropped and the next
record says so (`dropped_before`), so a gap is explicit rather than silent. The HTTP sink
with its on-disk queue lives in `http.py`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import BinaryIO, Protocol


class Sink(Protocol):
    name: str
    """Bounded label value for metrics: stdout, file, http."""

    def has_room(self, size: int) -> bool:
        """Whether a line of `size` bytes fits now (only a bounded queue ever says no)."""
        ...

    def write(self, line: bytes) -> None: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class StreamSink:
    """JSON lines on a binary stream, flushed per record so a log shipper sees each one as
    soon as the request is done. The default: stdout, which the cluster's log pipeline
    collects (Loki, Elasticsearch)."""

    def __init__(self, stream: BinaryIO | None = None, name: str = "stdout") -> None:
        self._stream = stream if stream is not None else sys.stdout.buffer
        self.name = name

    def has_room(self, size: int) -> bool:
        return True

    def write(self, line: bytes) -> None:
        self._stream.write(line)
        self._stream.flush()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self._stream.flush()


class RotatingFileSink:
    """Appends to `path`; past `max_bytes` the file becomes `path.1` (`path.1` becomes
    `path.2`, …, and the oldest beyond `backups` is deleted). A line never straddles two
    files, so each file is a run of whole records and the chain continues across them:
    verify the files oldest first (`path.N … path.1 path`)."""

    name = "file"

    def __init__(self, path: Path, max_bytes: int = 0, backups: int = 5) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._file: BinaryIO | None = None
        self._size = 0

    def has_room(self, size: int) -> bool:
        return True

    def _open(self) -> BinaryIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Unbuffered: a failed write can be undone by truncating to the last whole line.
        handle = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed in close()
        self._size = handle.tell()
        self._file = handle
        return handle

    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.backups <= 0:
            self.path.unlink(missing_ok=True)
            return
        oldest = self.path.with_name(f"{self.path.name}.{self.backups}")
        oldest.unlink(missing_ok=True)
        for index in range(self.backups - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{index}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{self.path.name}.{index + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))

    def write(self, line: bytes) -> None:
        handle = self._file or self._open()
        if self.max_bytes and self._size and self._size + len(line) > self.max_bytes:
            self._rotate()
            handle = self._open()
        try:
            view = memoryview(line)
            while view:
                written = handle.write(view) or 0
                view = view[written:]
        except OSError:
            with contextlib.suppress(OSError):
                handle.truncate(self._size)
            raise
        self._size += len(line)

    async def start(self) -> None:
        self._open()

    async def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
