"""Bundles for the bundle tests: the shipped policies as members, hand-made archives that
build_bundle would never write, and the caller's side of a poller."""

from __future__ import annotations

import asyncio
import gzip
import io
import os
import tarfile

from sidecar.emulators.bundles import BundleServer, build_bundle
from sidecar.policy import EmbeddedEngine
from sidecar.policy.loader import PolicySource
from tests.policy.support import POLICIES

ORIGIN = "bundles/router.tar.gz"
TOKEN = "bundle-token-6d1e9a"
MINIMAL = "package llm_router\n\nimport rego.v1\n\ndecision := {}\n"
BROKEN = "package llm_router\n\ndecision := {\n"


def policy_files(prefix: str = "") -> dict[str, str | bytes]:
    """The shipped policies/ directory as bundle members: modules under `prefix`, data.json
    at the root (its document is rooted at data)."""
    files: dict[str, str | bytes] = {
        prefix + p.name: p.read_text() for p in sorted(POLICIES.glob("*.rego"))
    }
    files["data.json"] = (POLICIES / "data.json").read_text()
    return files


def raw_tar_gz(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    """A .tar.gz of hand-made members, for archives build_bundle would never write."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, content in members:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return gzip.compress(buffer.getvalue(), mtime=0)


def regular(name: str, content: bytes = b"") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    return info, content


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def revision_bundle(revision: str) -> bytes:
    return build_bundle(policy_files(), {"revision": revision})


class Applier:
    """The caller's side: verify with the embedded engine, record what was offered."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.offered: list[str] = []
        self.engine: EmbeddedEngine | None = None

    async def __call__(self, source: PolicySource) -> bool:
        self.offered.append(source.revision)
        if not self.accept:
            return False
        self.engine = EmbeddedEngine.from_source(source, 50)
        return True


def bad_bundles(n: int) -> list[tuple[str, bytes]]:
    """The review's sequence, different bytes in every round."""
    good = build_bundle(policy_files("policies/"), {"revision": f"cut-{n}"})
    huge_invalid = b'{"k": "' + b"x" * (8 << 20) + f'{n}",'.encode()
    return [
        ("not_gzip", os.urandom(1 << 20)),
        ("truncated", good[: len(good) // 2]),
        ("unsafe_member", raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular(f"../{n}"))),
        (
            "gzip_bomb",
            raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular(f"b{n}", bytes(200 << 20))),
        ),
        (
            "invalid_data",
            raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("data.json", huge_invalid)),
        ),
        (
            "compile_error",
            build_bundle({**policy_files("policies/"), "policies/zz.rego": BROKEN + str(n)}),
        ),
        (
            "test_failure",
            build_bundle(
                {
                    **policy_files("policies/"),
                    "policies/zz_test.rego": "package zz_test\n\nimport rego.v1\n\n"
                    f"test_fails if {{ {n} == -1 }}\n",
                }
            ),
        ),
    ]


async def served_and_processed(server: BundleServer, before: int) -> None:
    """Until the server answered the bundle with 200 and then the next poll: by then the
    poll that read it has finished, trimming included."""
    for _ in range(1500):
        statuses = server.statuses()[before:]
        if 200 in statuses and len(statuses) > statuses.index(200) + 1:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the bundle was not polled")
