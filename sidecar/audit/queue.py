"""A bounded on-disk FIFO of audit lines, so that neither a collector outage nor a sidecar
restart loses a record.

Lines are appended to numbered segment files (`0000000000000001.jsonl`, …) in a directory
of their own; `cursor` (written atomically: temp file, then rename) holds the position up to
which the collector has acknowledged. After a restart everything past the cursor is sent
again. A crash can therefore re-send a batch the collector had already stored (it acked,
the cursor was not yet written): delivery is at-least-once, and each record's `hash` (or
`instance`+`seq`) is the key a collector de-duplicates on.

Two threads use it: the audit writer thread appends (so a slow disk, or `fsync: true`,
which forces every append to the device, never holds up the event loop), and the sender on
the event loop peeks and acknowledges. The appender alone owns the segment being written;
the byte and record counts are shared, under a lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

SUFFIX = ".jsonl"
CURSOR = "cursor"
LOCK = "lock"


class QueueInUse(OSError):
    """Another process holds the queue directory."""


@dataclass(frozen=True, slots=True)
class Position:
    segment: int
    offset: int


@dataclass(slots=True)
class Batch:
    lines: list[bytes]
    end: Position
    size: int


class DiskQueue:
    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        segment_bytes: int = 4 << 20,
        fsync: bool = False,
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.pending_bytes = 0
        self.pending_records = 0
        self.recovered_records = 0
        """Records found unacknowledged on disk when the queue was opened (a restart)."""
        self.truncated_bytes = 0
        """Bytes of a half-written last line removed on open (a crash mid-append)."""
        self._cursor = Position(1, 0)
        self._write_segment = 1
        self._writer: BinaryIO | None = None
        self._write_size = 0
        self._lock_file: BinaryIO | None = None
        self._counts = threading.Lock()

    # ---- open / close ------------------------------------------------------------------

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock()
        segments = self._segments()
        self._cursor = self._read_cursor(segments)
        for index in segments:
            if index < self._cursor.segment:
                self._path(index).unlink(missing_ok=True)
        segments = [i for i in segments if i >= self._cursor.segment]
        if segments:
            self._write_segment = segments[-1]
            self.truncated_bytes = _truncate_partial_line(self._path(segments[-1]))
        else:
            self._write_segment = self._cursor.segment
        for index in segments:
            data = self._path(index).read_bytes()
            if index == self._cursor.segment:
                data = data[self._cursor.offset :]
            self.pending_bytes += len(data)
            self.pending_records += data.count(b"\n")
        self.recovered_records = self.pending_records
        self._open_writer()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock (as does the process dying)
            self._lock_file = None

    def _lock(self) -> None:
        """One process per queue: two sidecars sharing a directory would corrupt it."""
        handle = open(self.directory / LOCK, "a+b")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise QueueInUse(f"audit queue {self.directory} is in use by another process") from None
        self._lock_file = handle

    # ---- producer side -----------------------------------------------------------------

    def has_room(self, size: int) -> bool:
        return self.pending_bytes + size <= self.max_bytes

    def append(self, line: bytes) -> None:
        """Append one newline-terminated line. Raises OSError (nothing half-written stays)."""
        if self._writer is None:
            raise OSError("audit queue is closed")
        if self._write_size and self._write_size + len(line) > self.segment_bytes:
            self._writer.close()
            self._write_segment += 1
            self._open_writer()
        writer = self._writer
        try:
            view = memoryview(line)
            while view:
                view = view[writer.write(view) or 0 :]
            if self.fsync:
                os.fsync(writer.fileno())
        except OSError:
            with contextlib.suppress(OSError):
                writer.truncate(self._write_size)
            raise
        self._write_size += len(line)
        with self._counts:
            self.pending_bytes += len(line)
            self.pending_records += 1

    # ---- consumer side -----------------------------------------------------------------

    def peek(self, max_records: int, max_bytes: int) -> Batch | None:
        """The oldest unacknowledged lines (at least one, whatever its size), or None."""
        position = self._cursor
        while True:
            # Read before the data: a segment the appender had left when this was read is
            # complete, so finding it exhausted means it is done with.
            write_segment = self._write_segment
            path = self._path(position.segment)
            try:
                with open(path, "rb") as handle:
                    handle.seek(position.offset)
                    data = handle.read(max(max_bytes, 1))
                    if data and b"\n" not in data:  # one line longer than max_bytes
                        data += handle.readline()
            except FileNotFoundError:
                data = b""
            if data or position.segment >= write_segment:
                break
            # An exhausted older segment: acknowledge its end and move on.
            position = Position(position.segment + 1, 0)
            self._store_cursor(position)
        end = data.rfind(b"\n")
        if end < 0:
            return None
        lines = data[: end + 1].splitlines(keepends=True)[:max_records]
        size = sum(len(line) for line in lines)
        return Batch(lines, Position(position.segment, position.offset + size), size)

    def ack(self, batch: Batch) -> None:
        """The collector stored `batch`: move the cursor past it and free its space."""
        self._store_cursor(batch.end)
        with self._counts:
            self.pending_bytes = max(0, self.pending_bytes - batch.size)
            self.pending_records = max(0, self.pending_records - len(batch.lines))

    # ---- files ---------------------------------------------------------------------------

    def _path(self, index: int) -> Path:
        return self.directory / f"{index:016d}{SUFFIX}"

    def _segments(self) -> list[int]:
        found = []
        for entry in self.directory.iterdir():
            stem, suffix = entry.name[: -len(SUFFIX)], entry.name[-len(SUFFIX) :]
            if suffix == SUFFIX and stem.isdigit():
                found.append(int(stem))
        return sorted(found)

    def _read_cursor(self, segments: list[int]) -> Position:
        try:
            raw = orjson.loads((self.directory / CURSOR).read_bytes())
            return Position(int(raw["segment"]), int(raw["offset"]))
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return Position(segments[0] if segments else 1, 0)

    def _store_cursor(self, position: Position) -> None:
        previous = self._cursor
        self._cursor = position
        tmp = self.directory / (CURSOR + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(orjson.dumps({"segment": position.segment, "offset": position.offset}))
            if self.fsync:
                os.fsync(handle.fileno())
        os.replace(tmp, self.directory / CURSOR)
        for index in range(previous.segment, position.segment):
            self._path(index).unlink(missing_ok=True)

    def _open_writer(self) -> None:
        self._writer = open(self._path(self._write_segment), "ab", buffering=0)  # noqa: SIM115
        self._write_size = self._writer.tell()


def _truncate_partial_line(path: Path) -> int:
    """Cut a last line that has no newline (the process died while appending it)."""
    with open(path, "r+b") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        handle.seek(max(0, size - 1))
        if handle.read(1) == b"\n":
            return 0
        data = (handle.seek(0), handle.read())[1]
        keep = data.rfind(b"\n") + 1
        handle.truncate(keep)
        return size - keep
