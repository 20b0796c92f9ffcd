"""Reads a policy directory into a regorus Engine: every *.rego plus data.json."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import regorus

from sidecar.policy.errors import PolicyLoadError, engine_message, reraise_if_fatal

DATA_FILE = "data.json"
TEST_SUFFIX = "_test.rego"


@dataclass(frozen=True)
class PolicySource:
    """The files of one policy revision, read once so that compile and hash see the same bytes."""

    directory: Path
    modules: dict[str, str]
    data: str | None
    bundle_revision: str | None = None
    """An OPA bundle's `.manifest` revision; when set it is the revision."""

    @property
    def revision(self) -> str:
        """The bundle's revision, else the first 12 hex digits of a sha256 over the file
        names and contents, in name order."""
        if self.bundle_revision:
            return self.bundle_revision
        digest = hashlib.sha256()
        for name in sorted(self.modules):
            digest.update(name.encode() + b"\0" + self.modules[name].encode() + b"\0")
        if self.data is not None:
            digest.update(DATA_FILE.encode() + b"\0" + self.data.encode())
        return digest.hexdigest()[:12]

    def without_tests(self) -> dict[str, str]:
        return {n: t for n, t in self.modules.items() if not n.endswith(TEST_SUFFIX)}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyLoadError(f"{path}: cannot read: {exc.__class__.__name__}") from None


def read_policy_dir(directory: Path) -> PolicySource:
    if not directory.is_dir():
        raise PolicyLoadError(f"{directory}: policy directory does not exist")
    modules = {p.name: _read(p) for p in sorted(directory.glob("*.rego"))}
    if not modules:
        raise PolicyLoadError(f"{directory}: no .rego files")
    data_path = directory / DATA_FILE
    data = _read(data_path) if data_path.is_file() else None
    return PolicySource(directory, modules, data)


_ENTRY = re.compile(r"^decision\s*:?=", re.MULTILINE)


def load_order(modules: dict[str, str]) -> list[tuple[str, str]]:
    """Modules in the order regorus needs: the one defining `decision` first, then by name.
    regorus (checked with gordon-to-regorus 0.13) evaluates a package split over several
    files to undefined inside `with input as …` tests when a module referring to the entry
    module's rules is added before it; OPA has no such order dependence. Bundles arrive in
    any order, so the order is fixed here rather than left to file names."""
    return sorted(modules.items(), key=lambda item: (_ENTRY.search(item[1]) is None, item[0]))


def compile_engine(source: PolicySource, modules: dict[str, str]) -> regorus.Engine:
    """A fresh Engine holding `modules` and the data document. regorus names the file, line
    and column of a parse error; the message keeps that and drops the Rust backtrace."""
    engine = regorus.Engine()
    for name, text in load_order(modules):
        try:
            engine.add_policy(str(source.directory / name), text)
        except BaseException as exc:
            reraise_if_fatal(exc)
            raise PolicyLoadError(engine_message(exc)) from None
    if source.data is not None:
        try:
            engine.add_data_json(source.data)
        except BaseException as exc:
            reraise_if_fatal(exc)
            raise PolicyLoadError(
                f"{source.directory / DATA_FILE}: {engine_message(exc)}"
            ) from None
    return engine
