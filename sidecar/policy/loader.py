"""Reads a policy directory into a regorus Engine: every *.rego plus data.json."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import regorus

from sidecar.policy.errors import PolicyLoadError, engine_message

DATA_FILE = "data.json"


@dataclass(frozen=True)
class PolicySource:
    """The files of one policy revision, read once so that compile and hash see the same bytes."""

    directory: Path
    modules: dict[str, str]
    data: str | None

    @property
    def revision(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.modules):
            digest.update(name.encode() + b"\0" + self.modules[name].encode() + b"\0")
        digest.update((self.data or "").encode())
        return digest.hexdigest()[:12]

    def without_tests(self) -> dict[str, str]:
        return {n: t for n, t in self.modules.items() if not n.endswith("_test.rego")}


def read_policy_dir(directory: Path) -> PolicySource:
    if not directory.is_dir():
        raise PolicyLoadError(f"{directory}: policy directory does not exist")
    modules = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.rego"))}
    if not modules:
        raise PolicyLoadError(f"{directory}: no .rego files")
    data_path = directory / DATA_FILE
    data = data_path.read_text(encoding="utf-8") if data_path.is_file() else None
    return PolicySource(directory, modules, data)


def compile_engine(source: PolicySource, modules: dict[str, str]) -> regorus.Engine:
    engine = regorus.Engine()
    for name, text in modules.items():
        try:
            engine.add_policy(str(source.directory / name), text)
        except Exception as exc:  # regorus raises RuntimeError with file:line:col
            raise PolicyLoadError(engine_message(exc)) from None
    if source.data is not None:
        try:
            engine.add_data_json(source.data)
        except Exception as exc:
            raise PolicyLoadError(
                f"{source.directory / DATA_FILE}: {engine_message(exc)}"
            ) from None
    return engine
