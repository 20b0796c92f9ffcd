"""Polling a bundle server with OPA's bundle service protocol: GET, `If-None-Match` with the
ETag of what the sidecar holds, `304 Not Modified` when nothing changed, an optional
`Authorization: Bearer`, a jittered interval and a doubling back-off after failures.

Each new bundle is read on one dedicated thread (YAML data is parsed in pure Python and may
take a while, so not on the loop), then handed to `apply`, which verifies and activates it.
One thread and not the loop's default pool: every thread that allocates gets a malloc arena
of its own that keeps what a large bundle left behind, so one reader thread bounds that to
one arena, reused by every bundle.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import structlog

from sidecar.policy.bundle.archive import MAX_BUNDLE_BYTES, read_bundle
from sidecar.policy.bundle.errors import BundleError, FailureReason
from sidecar.policy.bundle.health import BundleHealth
from sidecar.policy.bundle.memory import release_freed_memory
from sidecar.policy.errors import PolicyLoadError
from sidecar.policy.loader import PolicySource

log = structlog.get_logger("llm_router.bundle")

PollOutcome = Literal["updated", "not_modified", "rejected", "error"]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


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
    activates it and returns True, or returns False (or raises PolicyLoadError; a
    BundleError says why) to reject it. A bundle refused before it reached `apply` (it
    does not unpack) is reported to `refused(revision, message)`, so that the caller counts
    every refused revision in one place.

    Two bundles are remembered, by ETag and by sha256 of the bytes: the active one (last
    applied) and the last rejected one. Both ETags go in `If-None-Match`, so a server still
    offering either answers 304, and a bundle that failed verification is not fetched and
    verified again every poll; it is never mistaken for the active one either. A server that
    ignores `If-None-Match` is handled by comparing digests instead. A different bundle, or a
    roll-back to the active one, clears the rejection.

    `health` gets every poll's result (see health.py). Counters: `polls`, `updates`,
    `rejections`, `errors`, `consecutive_errors`; `last_error` (short, no content),
    `last_outcome`, `revision` (of the active bundle) and `rejected_revision`.
    """

    def __init__(
        self,
        url: str,
        *,
        apply: Callable[[PolicySource], Awaitable[bool]],
        refused: Callable[[str, str], object] | None = None,
        token: str | None = None,
        min_delay: float = 10,
        max_delay: float = 60,
        timeout: float = 10,
        max_bytes: int = MAX_BUNDLE_BYTES,
        health: BundleHealth | None = None,
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
        self.health = health or BundleHealth(self.origin, self.max_delay)
        self._apply = apply
        self._refused = refused
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
        self._confirmed = False
        """Set during a poll that found the active bundle current."""
        self._failure: tuple[FailureReason, str] | None = None
        """Set during a poll that failed or refused a bundle."""
        self._downloaded = False
        """Set during a poll that received a bundle's bytes."""

        self._session: aiohttp.ClientSession | None = None
        self._reader: ThreadPoolExecutor | None = None
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
            self._confirmed, self._failure, self._downloaded = False, None, False
            try:
                outcome = await self._poll()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outcome = self._error("internal_error", f"unexpected {exc.__class__.__name__}")
            if self._downloaded:  # every copy of the bundle is garbage by now
                release_freed_memory()
            self.last_outcome = outcome
            if outcome != "error":
                self.consecutive_errors = 0
            self.health.record(
                answered=outcome != "error",
                confirmed=self._confirmed,
                activated=outcome == "updated",
                failure=self._failure,
            )
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
                        return self._error("http_status", "HTTP 304 to an unconditional request")
                    self._not_modified(response.headers.get("ETag"))
                    log.debug("bundle_not_modified", url=self.origin)
                    return "not_modified"
                if response.status != 200:
                    return self._error("http_status", f"HTTP {response.status}")
                etag = response.headers.get("ETag") or None
                self._downloaded = True
                body = await self._read(response)
                if body is None:
                    message = f"{self.origin}: bundle larger than {self.max_bytes} bytes"
                    return self._unreadable(etag, None, BundleError("too_large", message))
        except TimeoutError:
            return self._error("timeout", "timed out")
        except aiohttp.ClientConnectorError:
            return self._error("connect_error", "cannot connect")
        except (aiohttp.ClientError, OSError) as exc:
            return self._error("transport_error", exc.__class__.__name__)
        return await self._consider(body, etag)

    def _not_modified(self, etag: str | None) -> None:
        """A 304: the server offers one of the two bundles named in If-None-Match. Which
        one, its ETag says; without one, only a request that named the active bundle alone
        can have meant it."""
        if self.etag is not None and etag == self.etag:
            self.forget_rejected()  # the server rolled back to the active bundle
            self._confirmed = True
        elif etag is None and self.etag is not None and self.rejected_etag is None:
            self._confirmed = True

    async def _read(self, response: aiohttp.ClientResponse) -> bytes | None:
        if response.content_length is not None and response.content_length > self.max_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def _consider(self, body: bytes, etag: str | None) -> PollOutcome:
        """A 200 body: the bytes, not the ETag, decide whether it is new, since a server
        that ignored If-None-Match may also label bundles loosely."""
        digest = hashlib.sha256(body).hexdigest()
        if digest == self._digest:
            self.etag = etag or self.etag
            self.forget_rejected()
            self._confirmed = True
            return "not_modified"
        if digest == self._rejected_digest:
            self.rejected_etag = etag or self.rejected_etag
            return "not_modified"
        try:
            source = await asyncio.get_running_loop().run_in_executor(
                self._thread(), partial(read_bundle, body, self.origin, max_bytes=self.max_bytes)
            )
        except BundleError as exc:
            return self._unreadable(etag, digest, exc)
        try:
            applied = await self._apply(source)
        except asyncio.CancelledError:
            raise
        except BundleError as exc:
            return self._rejected(etag, digest, source.revision, exc.reason, str(exc))
        except PolicyLoadError as exc:
            return self._rejected(etag, digest, source.revision, "compile_error", str(exc))
        except Exception as exc:
            # Not a verdict on the bundle: nothing is remembered and it is fetched again.
            return self._error("internal_error", f"apply failed: {exc.__class__.__name__}")
        if not applied:
            return self._rejected(
                etag, digest, source.revision, "verification_failed", "rejected by verification"
            )
        self.etag, self._digest, self.revision = etag, digest, source.revision
        self.forget_rejected()
        self.updates += 1
        self.last_error = None
        self._confirmed = True
        log.info("bundle_activated", url=self.origin, revision=source.revision)
        return "updated"

    def _unreadable(self, etag: str | None, digest: str | None, exc: BundleError) -> PollOutcome:
        """A bundle that does not unpack: it never reaches `apply`, so `refused` hears."""
        message = str(exc)
        outcome = self._rejected(etag, digest, None, exc.reason, message)
        if self._refused is not None:
            self._refused("unreadable", message)
        return outcome

    def _rejected(
        self,
        etag: str | None,
        digest: str | None,
        revision: str | None,
        reason: FailureReason,
        message: str,
    ) -> PollOutcome:
        self.rejected_etag, self._rejected_digest = etag, digest
        self.rejected_revision = revision
        self.rejections += 1
        self.last_error = _first_line(message)
        self._failure = (reason, self.last_error)
        log.warning(
            "bundle_rejected",
            url=self.origin,
            revision=revision,
            active_revision=self.revision,
            reason=reason,
            error=self.last_error,
        )
        return "rejected"

    def forget_rejected(self) -> None:
        """Drop the rejection memory, so the bundle on offer is fetched and verified again
        (for when what verification depends on, not the bundle, has changed)."""
        self.rejected_etag = self._rejected_digest = self.rejected_revision = None

    def _error(self, reason: FailureReason, message: str) -> PollOutcome:
        self.errors += 1
        self.consecutive_errors += 1
        self.last_error = message
        self._failure = (reason, message)
        log.warning(
            "bundle_poll_failed",
            url=self.origin,
            reason=reason,
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

    def _thread(self) -> ThreadPoolExecutor:
        if self._reader is None:
            self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bundle-reader")
        return self._reader

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
        if self._reader is not None:
            # A read in progress finishes on its own; nothing waits for it.
            self._reader.shutdown(wait=False, cancel_futures=True)
            self._reader = None

    async def __aenter__(self) -> BundlePoller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "rejected"
    return line if len(line) <= 300 else line[:297] + "..."
