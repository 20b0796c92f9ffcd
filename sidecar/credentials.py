"""Provider keys: read from the environment or a mounted file, never logged.

Kubernetes rotates a mounted Secret by swapping files under the mount, so a file-backed key
is re-read when its modification time changes (checked at most once per `recheck` seconds,
so the hot path costs one monotonic clock read).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Credential:
    """One provider's key. `value` is None when the key is missing (provider unavailable)."""

    provider: str
    env: str | None = None
    file: Path | None = None
    recheck: float = 2.0
    value: str | None = field(default=None, repr=False)
    problem: str | None = None
    _mtime: float | None = field(default=None, repr=False)
    _checked: float = field(default=0.0, repr=False)

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return f"Credential(provider={self.provider!r}, available={self.value is not None})"

    def load(self, environ: Mapping[str, str]) -> None:
        if self.env is not None:
            raw = environ.get(self.env, "").strip()
            self.value = raw or None
            self.problem = None if raw else f"environment variable {self.env} is not set"
        elif self.file is not None:
            self._read_file()
        else:
            self.value = None
            self.problem = "no api_key_env or api_key_file configured"

    def current(self) -> str | None:
        """The key to use now, re-reading a rotated file if due."""
        if self.file is not None:
            now = time.monotonic()
            if now - self._checked >= self.recheck:
                self._checked = now
                try:
                    mtime = self.file.stat().st_mtime
                except OSError:
                    mtime = None
                if mtime != self._mtime:
                    self._read_file()
        return self.value

    def _read_file(self) -> None:
        assert self.file is not None
        try:
            self._mtime = self.file.stat().st_mtime
            raw = self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            self.value, self._mtime = None, None
            self.problem = f"cannot read key file {self.file}: {exc.strerror}"
            return
        self.value = raw or None
        self.problem = None if raw else f"key file {self.file} is empty"
        self._checked = time.monotonic()


def load_credential(
    provider: str, env: str | None, file: Path | None, environ: Mapping[str, str] | None = None
) -> Credential:
    cred = Credential(provider=provider, env=env, file=file)
    cred.load(environ if environ is not None else os.environ)
    return cred
