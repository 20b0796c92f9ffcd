"""A bundle archive (.tar.gz) read into a PolicySource, as an untrusted stream.

`*.rego` modules at any path become the policy; data files and `.manifest` are read by
`documents`; anything else (policy.wasm, .signatures.json, READMEs) is ignored, as OPA
ignores files it does not load. `opa build` writes member names with a leading `/`
(`/data.json`, `/.manifest`); that slash means the bundle root, as it does for OPA.

Nothing is extracted to disk, and the archive is never decompressed whole. The tar stream
is read member by member from the decompressor, and what one bundle may cost is bounded
twice: a member whose header declares more bytes than are left of `max_bytes` is refused
from its header, before any of its content is decompressed, so a gzip bomb costs a few
kilobytes; and every decompressed byte (headers and ignored members included) counts
against `max_bytes`. Only the members the policy needs are held in memory. Links, devices,
sparse files, `..` and duplicate names are refused rather than guessed at.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sidecar.policy.bundle.documents import DATA_FILES, MANIFEST, DataTree, manifest_revision, text
from sidecar.policy.bundle.errors import BundleError, show
from sidecar.policy.errors import PolicyLoadError
from sidecar.policy.loader import PolicySource

MAX_BUNDLE_BYTES = 32 * 1024 * 1024
"""Cap on the decompressed tar stream (headers included), and on a download."""
MAX_MEMBERS = 4096
"""Cap on tar members, directories included."""
GZIP_MAGIC = b"\x1f\x8b"
REGO_SUFFIX = ".rego"
DELTA_FILE = "patch.json"
_CHUNK = 64 * 1024


def read_bundle(
    archive: bytes,
    origin: str,
    *,
    max_bytes: int = MAX_BUNDLE_BYTES,
    max_members: int = MAX_MEMBERS,
) -> PolicySource:
    """The PolicySource held by a .tar.gz bundle. `origin` (a file path or URL) only names
    the bundle in messages and becomes the source's `directory`. Raises BundleError."""
    if archive[:2] != GZIP_MAGIC:
        raise BundleError("not_gzip", f"{origin}: not a gzip file")
    modules: dict[str, str] = {}
    data = DataTree(origin)
    revision: str | None = None
    with gzip.GzipFile(fileobj=io.BytesIO(archive), mode="rb") as gz:
        stream = CappedStream(gz, max_bytes, origin)
        for path, content in _members(stream, origin, max_members):
            name = path.rsplit("/", 1)[-1]
            if path == MANIFEST:
                revision = manifest_revision(content, origin)
            elif name == DELTA_FILE and "/" not in path:
                raise BundleError(
                    "unsupported", f"{origin}: {path}: delta bundles are not supported"
                )
            elif name.endswith(REGO_SUFFIX):
                modules[path] = text(content, origin, path, "invalid_policy")
            elif name in DATA_FILES:
                data.add(path, content)
        stream.drain()  # the gzip trailer: a bundle cut short or with a bad CRC is refused
    if not modules:
        raise BundleError("invalid_policy", f"{origin}: no .rego files in the bundle")
    return PolicySource(Path(origin), modules, data.document(), revision)


def load_bundle_file(path: Path, *, max_bytes: int = MAX_BUNDLE_BYTES) -> PolicySource:
    """A bundle file on disk (`opa build` output, or one saved from a bundle server)."""
    try:
        with open(path, "rb") as handle:
            archive = handle.read(max_bytes + 1)
    except OSError as exc:
        raise PolicyLoadError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    if len(archive) > max_bytes:
        raise BundleError("too_large", f"{path}: bundle larger than {max_bytes} bytes")
    return read_bundle(archive, str(path), max_bytes=max_bytes)


def wanted(path: str) -> bool:
    """Whether a member's content is part of the policy (the rest is skipped unread)."""
    name = path.rsplit("/", 1)[-1]
    return (
        path == MANIFEST
        or name.endswith(REGO_SUFFIX)
        or name in DATA_FILES
        or (name == DELTA_FILE and "/" not in path)
    )


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class CappedStream:
    """The decompressed tar stream, refused once more than `limit` bytes came out of it.
    Decompression errors become BundleErrors: a stream that ends early is `truncated`,
    any other damage `corrupt`."""

    def __init__(self, source: _Readable, limit: int, origin: str) -> None:
        self._source = source
        self.limit = limit
        self.origin = origin
        self.consumed = 0
        """Decompressed bytes read so far."""

    @property
    def remaining(self) -> int:
        return self.limit - self.consumed

    def read(self, size: int = -1) -> bytes:
        want = self.remaining + 1 if size < 0 else min(size, self.remaining + 1)
        try:
            chunk = self._source.read(want)
        except EOFError:
            raise BundleError(
                "truncated", f"{self.origin}: corrupt gzip data: the stream ends early"
            ) from None
        except (OSError, zlib.error) as exc:
            raise BundleError(
                "corrupt", f"{self.origin}: corrupt gzip data: {exc.__class__.__name__}"
            ) from None
        self.consumed += len(chunk)
        if self.consumed > self.limit:
            raise self.too_large()
        return chunk

    def drain(self) -> None:
        """Read to the end (what follows the tar's end marker), so that the whole gzip
        stream, its length and CRC included, has been checked."""
        while self.read(_CHUNK):
            pass

    def too_large(self, member: str | None = None) -> BundleError:
        where = f"{show(member)}: " if member else ""
        return BundleError(
            "too_large", f"{self.origin}: {where}bundle expands past {self.limit} bytes"
        )


def _members(stream: CappedStream, origin: str, max_members: int) -> Iterator[tuple[str, bytes]]:
    """(path inside the bundle, bytes) of every regular member the policy needs, in
    archive order, each read only after its header passed every check."""
    seen: set[str] = set()
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
            count = 0
            while (member := tar.next()) is not None:
                count += 1
                if count > max_members:
                    raise BundleError(
                        "too_large", f"{origin}: more than {max_members} archive members"
                    )
                path = _member_path(member.name, origin)
                if member.isdir():
                    continue
                if not path:
                    raise BundleError(
                        "unsafe_member", f"{origin}: {show(member.name)}: file without a name"
                    )
                if not member.isreg() or member.issparse():
                    kind = _KINDS.get(member.type, "special file")
                    raise BundleError(
                        "unsafe_member",
                        f"{origin}: {show(member.name)}: {kind} not allowed in a bundle",
                    )
                if path in seen:
                    raise BundleError("unsafe_member", f"{origin}: {show(path)}: appears twice")
                seen.add(path)
                if member.size > stream.remaining:
                    raise stream.too_large(path)
                content = _read(tar, member, path, origin, keep=wanted(path))
                if content is not None:
                    yield path, content
    except tarfile.TarError as exc:
        raise BundleError(
            "corrupt", f"{origin}: corrupt tar data: {exc.__class__.__name__}"
        ) from None


def _read(
    tar: tarfile.TarFile, member: tarfile.TarInfo, path: str, origin: str, *, keep: bool
) -> bytes | None:
    """The member's content, or None for a member the policy does not need, which is read
    through but never held. Both are read in chunks: tarfile's own whole-member read holds
    three copies of the member at once."""
    handle = tar.extractfile(member)
    if handle is None:  # pragma: no cover - regular members always have data
        raise BundleError("corrupt", f"{origin}: {show(path)}: unreadable")
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := handle.read(_CHUNK):
            size += len(chunk)
            if keep:
                chunks.append(chunk)
    except tarfile.ReadError:  # a short read: the archive ends inside this member
        raise BundleError("truncated", f"{origin}: {show(path)}: truncated") from None
    if size != member.size:
        raise BundleError("truncated", f"{origin}: {show(path)}: truncated")
    return b"".join(chunks) if keep else None


_KINDS = {
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "FIFO",
    tarfile.GNUTYPE_SPARSE: "sparse file",
}


def _member_path(name: str, origin: str) -> str:
    """The member's path relative to the bundle root. One leading `/` (how `opa build`
    writes names) and leading `./` mean the root; `..`, empty or `.` segments inside the
    path, backslashes and control characters are refused. Directories may end in `/`."""
    path = name
    while path.startswith("./"):
        path = path[2:]
    if path.startswith("/"):
        path = path[1:]
    path = path.removesuffix("/")
    if path in ("", "."):
        return ""
    segments = path.split("/")
    if (
        "\\" in path
        or any(ord(c) < 0x20 or c == "\x7f" for c in path)
        or any(s in ("", ".", "..") for s in segments)
    ):
        raise BundleError(
            "unsafe_member", f"{origin}: {show(name)}: path escapes or is not normalised"
        )
    return path
