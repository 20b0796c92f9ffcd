"""Where sealed audit lines go: a stream (stdout by default) or a size-rotated local file.

A sink receives complete lines (sealed, newline-terminated) in chain order, from the
audit writer thread only (`writer.py`), never from the event loop, so a write may block
as long as the stream behind it does. It raises OSError when it cannot take a line; the
writer then counts the record as dropped and the next record says so (`dropped_before`),
so a gap is explicit rather than silent. The HTTP sink with its on-disk queue lives in
`http.py`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol


class Sink(Protocol):
    name: str
    """Bounded label value for metrics: stdout, file, http."""

    def has_room(self, size: int) -> bool:
        """Whether a line of `size` bytes fits now (only a bounded queue ever says no).
        Any thread."""
        ...

    def on_room(self, callback: Callable[[], None]) -> None:
        """Have `callback` called whenever the sink frees room (bounded sinks only)."""
        ...

    def write(self, line: bytes) -> None:
        """Called from the writer thread only."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class StreamSink:
    """JSON lines on a binary stream, written per record so a log shipper sees each one as
    soon as the request is done. The default: stdout, which the cluster's log pipeline
    collects (Loki, Elasticsearch).

    Stdout is written with `os.write` on its descriptor, not through `sys.stdout`: a
    thread blocked in a buffered write holds the buffer's lock, and the interpreter needs
    that lock to flush stdout on exit, so a stuck pipe would turn a clean exit into a
    fatal error."""

    def __init__(self, stream: BinaryIO | None = None, name: str = "stdout") -> None:
        self._stream = stream
        self._fd: int | None = None
        if stream is None:
            try:
                self._fd = sys.stdout.fileno()
            except (AttributeError, OSError, ValueError):  # replaced by one without a descriptor
                self._stream = sys.stdout.buffer
        self.name = name

    def has_room(self, size: int) -> bool:
        return True

    def on_room(self, callback: Callable[[], None]) -> None:
        return None

    def write(self, line: bytes) -> None:
        if self._fd is None:
            assert self._stream is not None
            self._stream.write(line)
            self._stream.flush()
            return
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view) :]

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        """Nothing to flush: every line was flushed when written, and a stream the writer
        thread may still be stuck on must not be touched from the loop."""
        return None


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

    def on_room(self, callback: Callable[[], None]) -> None:
        return None

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
