"""OPA bundles: a gzipped tarball of policy and data, read into a PolicySource, from a file
or polled from a bundle server.

The format is OPA's: `*.rego` modules at any path; `data.json` / `data.yaml` / `data.yml`
files whose directory inside the bundle is their place in the data tree (`a/b/data.json`
is `data.a.b`), merged into one document; an optional `.manifest` JSON object whose
`revision` becomes the policy revision. `opa build` writes member names with a leading `/`
(`/data.json`, `/.manifest`); that slash means the bundle root, as it does for OPA.

Nothing is extracted to disk. An archive is still untrusted input: the decompressed stream
is capped before the tar reader sees it, so a gzip bomb or a giant tar header costs at most
`max_bytes`; links, devices, sparse files, `..` and duplicate names are refused rather than
guessed at. Every failure is a PolicyLoadError naming the origin and the member, never the
member's contents.

The poller speaks OPA's bundle service protocol: GET, `If-None-Match` with the ETag of what
it holds, `304 Not Modified` when nothing changed, optional `Authorization: Bearer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import io
import random
import tarfile
import zlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import orjson
import structlog
import yaml

from sidecar.policy.errors import PolicyLoadError
from sidecar.policy.loader import DATA_FILE, PolicySource

log = structlog.get_logger("llm_router.bundle")

MAX_BUNDLE_BYTES = 32 * 1024 * 1024
"""Cap on the decompressed tar stream (headers included), and on a download."""
MAX_MEMBERS = 4096
"""Cap on tar members, directories included."""
MAX_YAML_NODES = 1_000_000
"""Cap on values built from YAML data, whose aliases can expand exponentially."""

MANIFEST = ".manifest"
DATA_FILES = frozenset({DATA_FILE, "data.yaml", "data.yml"})
REGO_SUFFIX = ".rego"
DELTA_FILE = "patch.json"

PollOutcome = Literal["updated", "not_modified", "rejected", "error"]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


# ---- reading an archive ------------------------------------------------------------------


def read_bundle(
    archive: bytes,
    origin: str,
    *,
    max_bytes: int = MAX_BUNDLE_BYTES,
    max_members: int = MAX_MEMBERS,
) -> PolicySource:
    """The PolicySource held by a .tar.gz bundle. `origin` (a file path or URL) only names
    the bundle in messages and becomes the source's `directory`."""
    members = _members(_gunzip(archive, origin, max_bytes), origin, max_members)
    modules: dict[str, str] = {}
    data_files: list[tuple[str, Any]] = []
    raw_root_data: str | None = None
    revision: str | None = None
    for path, content in members:
        name = path.rsplit("/", 1)[-1]
        if path == MANIFEST:
            revision = _manifest_revision(_json(_text(content, origin, path), origin, path), origin)
        elif name == DELTA_FILE and "/" not in path:
            raise PolicyLoadError(f"{origin}: {path}: delta bundles are not supported")
        elif name.endswith(REGO_SUFFIX):
            modules[path] = _text(content, origin, path)
        elif name in DATA_FILES:
            if name == DATA_FILE:
                text = _text(content, origin, path)
                value = _json(text, origin, path)
                if path == DATA_FILE:
                    raw_root_data = text
            else:
                value = _yaml(content, origin, path)
            data_files.append((path, value))
        # Anything else (policy.wasm, .signatures.json, READMEs) is ignored, as OPA ignores
        # files it does not load.
    if not modules:
        raise PolicyLoadError(f"{origin}: no .rego files in the bundle")
    return PolicySource(
        Path(origin), modules, _data_text(data_files, raw_root_data, origin), revision
    )


def load_bundle_file(path: Path, *, max_bytes: int = MAX_BUNDLE_BYTES) -> PolicySource:
    """A bundle file on disk (`opa build` output, or one saved from a bundle server)."""
    try:
        with open(path, "rb") as handle:
            archive = handle.read(max_bytes + 1)
    except OSError as exc:
        raise PolicyLoadError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    if len(archive) > max_bytes:
        raise PolicyLoadError(f"{path}: bundle larger than {max_bytes} bytes")
    return read_bundle(archive, str(path), max_bytes=max_bytes)


def _gunzip(archive: bytes, origin: str, max_bytes: int) -> bytes:
    """The tar stream, decompressed incrementally and refused past `max_bytes`, so the
    tar reader never buffers more than that."""
    if archive[:2] != b"\x1f\x8b":
        raise PolicyLoadError(f"{origin}: not a gzip file")
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(archive), mode="rb") as stream:
            raw = stream.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise PolicyLoadError(f"{origin}: corrupt gzip data: {exc.__class__.__name__}") from None
    if len(raw) > max_bytes:
        raise PolicyLoadError(f"{origin}: bundle expands past {max_bytes} bytes")
    return raw


def _members(raw: bytes, origin: str, max_members: int) -> list[tuple[str, bytes]]:
    """(path inside the bundle, bytes) of every regular file, in archive order."""
    files: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            count = 0
            while (member := tar.next()) is not None:
                count += 1
                if count > max_members:
                    raise PolicyLoadError(f"{origin}: more than {max_members} archive members")
                path = _member_path(member.name, origin)
                if member.isdir():
                    continue
                if not path:
                    raise PolicyLoadError(f"{origin}: {_show(member.name)}: file without a name")
                if not member.isreg() or member.issparse():
                    kind = _KINDS.get(member.type, "special file")
                    raise PolicyLoadError(
                        f"{origin}: {_show(member.name)}: {kind} not allowed in a bundle"
                    )
                if path in seen:
                    raise PolicyLoadError(f"{origin}: {_show(path)}: appears twice")
                seen.add(path)
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - regular members always have data
                    raise PolicyLoadError(f"{origin}: {_show(path)}: unreadable")
                content = handle.read()
                if len(content) != member.size:
                    raise PolicyLoadError(f"{origin}: {_show(path)}: truncated")
                files.append((path, content))
    except tarfile.TarError as exc:
        raise PolicyLoadError(f"{origin}: corrupt tar data: {exc.__class__.__name__}") from None
    return files


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
        raise PolicyLoadError(f"{origin}: {_show(name)}: path escapes or is not normalised")
    return path


def _show(name: str) -> str:
    """A member name safe to put in a message: printable, at most 120 characters."""
    clean = "".join(c if c.isprintable() else "?" for c in name)
    return clean if len(clean) <= 120 else clean[:117] + "..."


def _text(content: bytes, origin: str, path: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyLoadError(f"{origin}: {_show(path)}: not valid UTF-8") from None


def _json(text: str, origin: str, path: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise PolicyLoadError(f"{origin}: {_show(path)}: invalid JSON at {where}") from None


def _manifest_revision(manifest: Any, origin: str) -> str | None:
    if not isinstance(manifest, dict):
        raise PolicyLoadError(f"{origin}: {MANIFEST}: not a JSON object")
    revision = manifest.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise PolicyLoadError(f"{origin}: {MANIFEST}: revision is not a string")
    roots = manifest.get("roots")
    if roots is not None and not (
        isinstance(roots, list) and all(isinstance(r, str) for r in roots)
    ):
        raise PolicyLoadError(f"{origin}: {MANIFEST}: roots is not a list of strings")
    return revision or None


class _Pairs(list[tuple[Any, Any]]):
    """A YAML mapping as its (key, value) pairs: keys that a Python dict would merge (1 and
    true) or refuse (lists) are kept apart until they are converted to JSON strings."""


class _YamlLoader(yaml.SafeLoader):
    """YAML 1.1 as OPA reads it into JSON: timestamps stay strings, mappings stay pairs."""


def _construct_mapping(loader: _YamlLoader, node: yaml.MappingNode) -> Iterator[_Pairs]:
    pairs = _Pairs()
    yield pairs  # first, so that an alias inside the mapping can refer to it
    loader.flatten_mapping(node)  # `<<` merge keys
    pairs.extend(loader.construct_pairs(node))


_YamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml(content: bytes, origin: str, path: str) -> Any:
    text = _text(content, origin, path)
    try:
        value = yaml.load(text, Loader=_YamlLoader)  # a SafeLoader: builds plain values only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "syntax"
        raise PolicyLoadError(f"{origin}: {_show(path)}: invalid YAML ({where})") from None
    budget = [MAX_YAML_NODES]
    try:
        return _json_value(value, budget)
    except (ValueError, RecursionError) as exc:
        problem = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise PolicyLoadError(f"{origin}: {_show(path)}: {problem}") from None


def _json_value(value: Any, budget: list[int]) -> Any:
    """YAML value → JSON value; keys become strings as OPA converts them."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError("YAML expands to too many values")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN or infinity is not JSON")
        return value
    if isinstance(value, _Pairs):
        obj: dict[str, Any] = {}
        for key, item in value:
            name = _json_key(key)
            if name in obj:
                raise ValueError(f"YAML key {_show(name)!r} appears twice in one mapping")
            obj[name] = _json_value(item, budget)
        return obj
    if isinstance(value, list):
        return [_json_value(v, budget) for v in value]
    raise ValueError(f"YAML {type(value).__name__} values are not JSON")


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    raise ValueError(f"YAML {type(key).__name__} keys are not JSON")


def _data_text(files: list[tuple[str, Any]], raw_root: str | None, origin: str) -> str | None:
    """One data document from every data file, each at its directory's path. A lone root
    data.json is kept byte for byte, so a bundle of a policy directory hashes (and so
    revisions) like the directory."""
    if not files:
        return None
    if len(files) == 1 and files[0][0] == DATA_FILE and raw_root is not None:
        if not isinstance(files[0][1], dict):
            raise PolicyLoadError(f"{origin}: {DATA_FILE}: the root document is not an object")
        return raw_root
    tree: dict[str, Any] = {}
    for path, value in files:
        keys = path.split("/")[:-1]
        if not keys and not isinstance(value, dict):
            raise PolicyLoadError(f"{origin}: {_show(path)}: the root document is not an object")
        try:
            _insert(tree, keys, value)
        except _Conflict as conflict:
            at = ".".join(["data", *conflict.keys])
            raise PolicyLoadError(
                f"{origin}: {_show(path)}: conflicts with other data at {_show(at)}"
            ) from None
        except RecursionError:
            raise PolicyLoadError(f"{origin}: {_show(path)}: nested too deeply") from None
    try:
        return orjson.dumps(tree).decode()
    except orjson.JSONEncodeError:
        raise PolicyLoadError(f"{origin}: data nested too deeply to merge") from None


class _Conflict(Exception):
    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        """Where in the data tree, from its root."""


def _insert(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    """Place `value` at `keys` under `tree`, merging objects; two values at one key where
    either is not an object conflict (OPA refuses such a bundle too)."""
    node = tree
    for i, key in enumerate(keys[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise _Conflict(keys[: i + 1])
        node = child
    if not keys:
        _merge(tree, value, [])
        return
    last = keys[-1]
    if last not in node:
        node[last] = value
    elif isinstance(node[last], dict) and isinstance(value, dict):
        _merge(node[last], value, keys)
    else:
        raise _Conflict(keys)


def _merge(into: dict[str, Any], value: dict[str, Any], at: list[str]) -> None:
    for key, item in value.items():
        if key not in into:
            into[key] = item
        elif isinstance(into[key], dict) and isinstance(item, dict):
            _merge(into[key], item, [*at, key])
        else:
            raise _Conflict([*at, key])


# ---- polling a bundle server -------------------------------------------------------------


def backoff_delay(failures: int, min_delay: float, max_delay: float) -> float:
    """Seconds to wait after `failures` consecutive failed polls: min_delay, doubling with
    each further failure, never more than max_delay."""
    if failures <= 0:
        return min_delay
    return float(min(max_delay, min_delay * 2 ** min(failures - 1, 60)))


def poll_delay(min_delay: float, max_delay: float, rng: random.Random) -> float:
    """Seconds to wait after a successful poll: uniform in [min, max], so that many
    sidecars do not poll in step (OPA jitters the same way)."""
    return rng.uniform(min_delay, max_delay)


def redact_url(url: str) -> str:
    """The URL without user info, query or fragment: a presigned URL carries its credential
    in the query, and this string goes into logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class BundlePoller:
    """Polls one bundle URL and hands each new bundle to `apply`, which verifies and
    activates it and returns True, or returns False (or raises PolicyLoadError) to reject it.

    Two bundles are remembered, by ETag and by sha256 of the bytes: the active one (last
    applied) and the last rejected one. Both ETags go in `If-None-Match`, so a server still
    offering either answers 304, and a bundle that failed verification is not fetched and
    verified again every poll; it is never mistaken for the active one either. A server that
    ignores `If-None-Match` is handled by comparing digests instead. A different bundle, or a
    roll-back to the active one, clears the rejection.

    Counters for metrics: `polls`, `updates`, `rejections`, `errors`, `consecutive_errors`;
    `last_error` (short, no content), `last_outcome`, `revision` (of the active bundle) and
    `rejected_revision`.
    """

    def __init__(
        self,
        url: str,
        *,
        apply: Callable[[PolicySource], Awaitable[bool]],
        token: str | None = None,
        min_delay: float = 10,
        max_delay: float = 60,
        timeout: float = 10,
        max_bytes: int = MAX_BUNDLE_BYTES,
        rng: random.Random | None = None,
    ) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("bundle URL must be http or https")
        if not 0 < min_delay <= max_delay:
            raise ValueError("need 0 < min_delay <= max_delay")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.url = url
        self.origin = redact_url(url)
        self.min_delay = float(min_delay)
        self.max_delay = float(max_delay)
        self.timeout = float(timeout)
        self.max_bytes = max_bytes
        self._apply = apply
        self._token = token
        self._rng = rng or random.Random()

        self.polls = 0
        self.updates = 0
        self.rejections = 0
        self.errors = 0
        self.consecutive_errors = 0
        self.last_error: str | None = None
        self.last_outcome: PollOutcome | None = None

        self.etag: str | None = None
        """ETag of the active (last applied) bundle."""
        self.revision: str | None = None
        self.rejected_etag: str | None = None
        self.rejected_revision: str | None = None
        self._digest: str | None = None
        self._rejected_digest: str | None = None

        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        parts = urlsplit(url)
        if token and parts.scheme == "http" and parts.hostname not in _LOOPBACK:
            log.warning("bundle_token_over_plain_http", url=self.origin)

    # -- one poll --

    async def poll_once(self) -> PollOutcome:
        """One conditional GET; never raises (except cancellation)."""
        async with self._lock:
            self.polls += 1
            try:
                outcome = await self._poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outcome = self._error(f"unexpected {exc.__class__.__name__}")
            self.last_outcome = outcome
            if outcome != "error":
                self.consecutive_errors = 0
            return outcome

    async def _poll(self) -> PollOutcome:
        headers = {"Accept-Encoding": "identity"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        known = [t for t in (self.etag, self.rejected_etag) if t]
        if known:
            headers["If-None-Match"] = ", ".join(known)
        try:
            async with self._client().get(
                self.url, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as response:
                if response.status == 304:
                    if not known:
                        return self._error("HTTP 304 to an unconditional request")
                    if response.headers.get("ETag") == self.etag:
                        self.forget_rejected()  # the server rolled back to the active bundle
                    log.debug("bundle_not_modified", url=self.origin)
                    return "not_modified"
                if response.status != 200:
                    return self._error(f"HTTP {response.status}")
                etag = response.headers.get("ETag") or None
                body = await self._read(response)
                if body is None:
                    message = f"{self.origin}: bundle larger than {self.max_bytes} bytes"
                    return self._rejected(etag, None, None, message)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return self._error(_describe(exc))
        return await self._consider(body, etag)

    async def _read(self, response: aiohttp.ClientResponse) -> bytes | None:
        if response.content_length is not None and response.content_length > self.max_bytes:
            return None
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > self.max_bytes:
                return None
        return bytes(body)

    async def _consider(self, body: bytes, etag: str | None) -> PollOutcome:
        """A 200 body: the bytes, not the ETag, decide whether it is new, since a server
        that ignored If-None-Match may also label bundles loosely."""
        digest = hashlib.sha256(body).hexdigest()
        if digest == self._digest:
            self.etag = etag or self.etag
            self.forget_rejected()
            return "not_modified"
        if digest == self._rejected_digest:
            self.rejected_etag = etag or self.rejected_etag
            return "not_modified"
        try:
            # Off the loop: YAML data is parsed in pure Python and may take a while.
            source = await asyncio.to_thread(
                read_bundle, body, self.origin, max_bytes=self.max_bytes
            )
        except PolicyLoadError as exc:
            return self._rejected(etag, digest, None, str(exc))
        try:
            applied = await self._apply(source)
        except asyncio.CancelledError:
            raise
        except PolicyLoadError as exc:
            return self._rejected(etag, digest, source.revision, str(exc))
        except Exception as exc:
            # Not a verdict on the bundle: nothing is remembered and it is fetched again.
            return self._error(f"apply failed: {exc.__class__.__name__}")
        if not applied:
            return self._rejected(etag, digest, source.revision, "rejected by verification")
        self.etag, self._digest, self.revision = etag, digest, source.revision
        self.forget_rejected()
        self.updates += 1
        self.last_error = None
        log.info("bundle_activated", url=self.origin, revision=source.revision)
        return "updated"

    def _rejected(
        self, etag: str | None, digest: str | None, revision: str | None, message: str
    ) -> PollOutcome:
        self.rejected_etag, self._rejected_digest = etag, digest
        self.rejected_revision = revision
        self.rejections += 1
        self.last_error = _first_line(message)
        log.warning(
            "bundle_rejected",
            url=self.origin,
            revision=revision,
            active_revision=self.revision,
            error=self.last_error,
        )
        return "rejected"

    def forget_rejected(self) -> None:
        """Drop the rejection memory, so the bundle on offer is fetched and verified again
        (for when what verification depends on, not the bundle, has changed)."""
        self.rejected_etag = self._rejected_digest = self.rejected_revision = None

    def _error(self, message: str) -> PollOutcome:
        self.errors += 1
        self.consecutive_errors += 1
        self.last_error = message
        log.warning(
            "bundle_poll_failed",
            url=self.origin,
            error=message,
            consecutive=self.consecutive_errors,
        )
        return "error"

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Bundles are fetched byte for byte: a server that adds Content-Encoding: gzip to
            # a .tar.gz must not have it unwrapped into a bare tar.
            self._session = aiohttp.ClientSession(auto_decompress=False)
        return self._session

    # -- the loop --

    def next_delay(self, outcome: PollOutcome) -> float:
        if outcome == "error":
            return backoff_delay(self.consecutive_errors, self.min_delay, self.max_delay)
        return poll_delay(self.min_delay, self.max_delay, self._rng)

    async def run(self) -> None:
        """Poll now, then forever: a jittered delay after each answer, a doubling back-off
        after each failure."""
        while True:
            outcome = await self.poll_once()
            await asyncio.sleep(self.next_delay(outcome))

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name=f"bundle-poller {self.origin}"
            )

    async def stop(self) -> None:
        """Cancel the loop (a poll in flight, apply included, is cancelled at its next
        await) and close the HTTP session."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> BundlePoller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _describe(exc: BaseException) -> str:
    """A short, content-free description of a transport failure."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "cannot connect"
    return exc.__class__.__name__


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "rejected"
    return line if len(line) <= 300 else line[:297] + "..."
