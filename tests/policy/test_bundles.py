"""OPA bundles: reading a .tar.gz safely into a PolicySource, and polling a bundle server
(the loopback one) with conditional GETs, rejection memory and back-off."""

from __future__ import annotations

import asyncio
import gzip
import io
import random
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from sidecar.emulators.bundles import BundleServer, build_bundle, etag_matches
from sidecar.policy import EmbeddedEngine, PolicyLoadError
from sidecar.policy import bundle as bundle_module
from sidecar.policy.bundle import (
    MAX_BUNDLE_BYTES,
    BundlePoller,
    backoff_delay,
    load_bundle_file,
    read_bundle,
    redact_url,
)
from sidecar.policy.loader import PolicySource, read_policy_dir
from tests.policy.support import POLICIES, VECTORS, load_vector

ORIGIN = "bundles/router.tar.gz"
TOKEN = "bundle-token-6d1e9a"
MINIMAL = "package llm_router\n\nimport rego.v1\n\ndecision := {}\n"


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


# ---- read_bundle -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def directory_engine() -> EmbeddedEngine:
    return EmbeddedEngine.load(POLICIES, 50)


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
async def test_bundle_of_shipped_policies_decides_like_the_directory(
    directory_engine: EmbeddedEngine, path: Path
) -> None:
    archive = build_bundle(policy_files("policies/"), {"revision": "v1", "roots": [""]})
    source = read_bundle(archive, ORIGIN)
    assert source.revision == "v1"
    assert source.directory == Path(ORIGIN)
    names = {"policies/" + p.name for p in POLICIES.glob("*.rego")}
    assert set(source.modules) == names
    assert set(source.without_tests()) == {n for n in names if not n.endswith("_test.rego")}
    engine = EmbeddedEngine.from_source(source, 50)
    assert engine.revision == "v1"
    vector = load_vector(path)
    got, want = await engine.decide(vector["input"]), await directory_engine.decide(vector["input"])
    assert got.error is None
    assert (got.allow, got.routes, got.reasons, got.obligations) == (
        want.allow,
        want.routes,
        want.reasons,
        want.obligations,
    )


def test_without_a_manifest_revision_is_the_directory_content_hash() -> None:
    source = read_bundle(build_bundle(policy_files()), ORIGIN)
    assert source.bundle_revision is None
    assert source.revision == read_policy_dir(POLICIES).revision
    empty = read_bundle(build_bundle(policy_files(), {"revision": ""}), ORIGIN)
    assert empty.revision == source.revision


def test_names_as_opa_build_and_tar_write_them() -> None:
    """`opa build` writes /data.json, /.manifest, /x.rego; `tar -C dir .` writes ./x."""
    archive = raw_tar_gz(
        special("./", tarfile.DIRTYPE),
        regular("/.manifest", b'{"revision": "opa-build"}'),
        regular("/data.json", b'{"a": 1}'),
        special("./policies/", tarfile.DIRTYPE),
        regular("./policies/p.rego", MINIMAL.encode()),
    )
    source = read_bundle(archive, ORIGIN)
    assert source.modules == {"policies/p.rego": MINIMAL}
    assert source.revision == "opa-build"
    assert source.data is not None and orjson.loads(source.data) == {"a": 1}


def test_data_files_are_placed_at_their_directory_path() -> None:
    archive = build_bundle(
        {
            "p.rego": MINIMAL,
            "data.json": '{"top": true, "a": {"x": 1}}',
            "a/b/data.json": '{"y": 2}',
            "a/c/data.json": "[1, 2]",
            "roles/data.yaml": "admins: [ann]\n1: one\ntrue: yes\nsince: 2024-01-02\n"
            "base: &b {x: 1}\nderived: {<<: *b, y: 2}\n",
            "notes/readme.json": '{"ignored": true}',
        }
    )
    source = read_bundle(archive, ORIGIN)
    assert source.data is not None
    assert orjson.loads(source.data) == {
        "top": True,
        "a": {"x": 1, "b": {"y": 2}, "c": [1, 2]},
        # OPA's YAML: keys become strings, timestamps stay strings.
        "roles": {
            "admins": ["ann"],
            "1": "one",
            "true": True,
            "since": "2024-01-02",
            "base": {"x": 1},
            "derived": {"x": 1, "y": 2},
        },
    }
    rego = 'package t\n\nimport rego.v1\n\nv := [data.a.b.y, data.a.x, data.roles["1"]]\n'
    engine = EmbeddedEngine.from_source(
        PolicySource(source.directory, {**source.modules, "t.rego": rego}, source.data), 50
    )
    assert engine.revision


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({"data.json": '{"a": {"b": 1}}', "a/b/data.json": '{"c": 2}'}, "data.a.b"),
        ({"a/data.json": '{"b": {"c": 1}}', "a/b/data.json": '{"c": 2}'}, "data.a.b.c"),
        ({"a/data.json": "1", "a/b/data.json": "{}"}, "data.a"),
        ({"a/data.json": '{"k": 1}', "a/data.yaml": "k: 2\n"}, "data.a.k"),
    ],
)
def test_conflicting_data_is_refused(files: dict[str, str | bytes], where: str) -> None:
    with pytest.raises(PolicyLoadError, match="conflicts with other data at " + where):
        read_bundle(build_bundle({"p.rego": MINIMAL, **files}), ORIGIN)


def test_objects_from_several_files_merge_deeply() -> None:
    archive = build_bundle(
        {"p.rego": MINIMAL, "data.json": '{"a": {"b": {"x": 1}}}', "a/data.json": '{"b": {"y": 2}}'}
    )
    source = read_bundle(archive, ORIGIN)
    assert source.data is not None and orjson.loads(source.data) == {"a": {"b": {"x": 1, "y": 2}}}


def test_root_data_must_be_an_object() -> None:
    with pytest.raises(PolicyLoadError, match="root document is not an object"):
        read_bundle(build_bundle({"p.rego": MINIMAL, "data.json": "[1]"}), ORIGIN)


@pytest.mark.parametrize(
    "name",
    [
        "../evil.rego",
        "a/../../evil.rego",
        "a/./b.rego",
        "a//b.rego",
        "//etc/x.rego",
        "a\\..\\b.rego",
        "a\nb.rego",
    ],
)
def test_paths_that_escape_or_are_not_normalised_are_refused(name: str) -> None:
    archive = raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular(name, MINIMAL.encode()))
    with pytest.raises(PolicyLoadError, match="path escapes or is not normalised") as caught:
        read_bundle(archive, ORIGIN)
    assert str(caught.value).startswith(ORIGIN + ": ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("member", "kind"),
    [
        (special("p.rego", tarfile.SYMTYPE, "/etc/passwd"), "symbolic link"),
        (special("q.rego", tarfile.LNKTYPE, "p.rego"), "hard link"),
        (special("dev.rego", tarfile.CHRTYPE), "character device"),
        (special("blk", tarfile.BLKTYPE), "block device"),
        (special("fifo", tarfile.FIFOTYPE), "FIFO"),
    ],
)
def test_links_and_devices_are_refused(member: tuple[tarfile.TarInfo, None], kind: str) -> None:
    archive = raw_tar_gz(regular("ok.rego", MINIMAL.encode()), member)
    with pytest.raises(PolicyLoadError, match=f"{kind} not allowed"):
        read_bundle(archive, ORIGIN)


def test_a_decompression_bomb_is_cut_off() -> None:
    bomb = raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("big", bytes(MAX_BUNDLE_BYTES)))
    assert len(bomb) < MAX_BUNDLE_BYTES // 100
    with pytest.raises(PolicyLoadError, match=f"expands past {MAX_BUNDLE_BYTES} bytes"):
        read_bundle(bomb, ORIGIN)


def test_size_and_member_caps() -> None:
    archive = build_bundle({"p.rego": MINIMAL, "a.rego": MINIMAL, "b.rego": MINIMAL})
    with pytest.raises(PolicyLoadError, match="expands past 1000 bytes"):
        read_bundle(archive, ORIGIN, max_bytes=1000)
    with pytest.raises(PolicyLoadError, match="more than 2 archive members"):
        read_bundle(archive, ORIGIN, max_members=2)


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        (b"definitely not a bundle", "not a gzip file"),
        (b"", "not a gzip file"),
        (build_bundle({"p.rego": MINIMAL})[:40], "corrupt gzip data"),
        (gzip.compress(b"gzip, but no tarball inside" * 40), "corrupt tar data"),
        (gzip.compress(b""), "corrupt tar data"),
    ],
)
def test_corrupt_archives_are_refused(archive: bytes, message: str) -> None:
    with pytest.raises(PolicyLoadError, match=message):
        read_bundle(archive, ORIGIN)


def test_plain_tar_is_not_a_bundle() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info, content = regular("p.rego", MINIMAL.encode())
        tar.addfile(info, io.BytesIO(content))
    with pytest.raises(PolicyLoadError, match="not a gzip file"):
        read_bundle(buffer.getvalue(), ORIGIN)


SECRET = "sk-live-planted-in-data-0099"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"data.json": '{"key": "' + SECRET + '",}'}, r"data\.json: invalid JSON at line 1"),
        ({"a/data.json": b'{"k": "\xff' + SECRET.encode() + b'"}'}, "a/data.json: not valid UTF-8"),
        ({"x.rego": b"package x\n# \xfe " + SECRET.encode()}, "x.rego: not valid UTF-8"),
        ({"data.yaml": "k: [" + SECRET}, r"data\.yaml: invalid YAML \(line 1\)"),
        ({"data.yaml": "k: !!binary aGVsbG8="}, "YAML bytes values are not JSON"),
        ({"data.yaml": "1: a\n'1': b\n"}, "YAML key '1' appears twice"),
        ({"data.yaml": "? [a]\n: b\n"}, "YAML list keys are not JSON"),
        ({".manifest": "{" + SECRET}, r"\.manifest: invalid JSON"),
        ({".manifest": "[]"}, r"\.manifest: not a JSON object"),
        ({".manifest": '{"revision": 7}'}, "revision is not a string"),
        ({".manifest": '{"roots": "a"}'}, "roots is not a list of strings"),
    ],
)
def test_bad_member_content_names_the_member_not_the_content(
    files: dict[str, str | bytes], message: str
) -> None:
    with pytest.raises(PolicyLoadError, match=message) as caught:
        read_bundle(build_bundle({"p.rego": MINIMAL, **files}), ORIGIN)
    assert str(caught.value).startswith(ORIGIN + ": ")
    assert SECRET not in str(caught.value)


def test_yaml_alias_expansion_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle_module, "MAX_YAML_NODES", 10_000)
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    with pytest.raises(PolicyLoadError, match="too many values"):
        read_bundle(build_bundle({"p.rego": MINIMAL, "data.yaml": laughs}), ORIGIN)


def test_duplicate_members_and_other_refusals() -> None:
    twice = raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("./p.rego", b"package y"))
    with pytest.raises(PolicyLoadError, match=r"p\.rego: appears twice"):
        read_bundle(twice, ORIGIN)
    with pytest.raises(PolicyLoadError, match="delta bundles are not supported"):
        read_bundle(build_bundle({"p.rego": MINIMAL, "patch.json": '{"data": []}'}), ORIGIN)
    with pytest.raises(PolicyLoadError, match=r"no \.rego files"):
        read_bundle(build_bundle({"data.json": "{}"}, {"revision": "v1"}), ORIGIN)


def test_test_modules_are_kept_for_the_runner_and_dropped_for_serving() -> None:
    source = read_bundle(build_bundle({"p.rego": MINIMAL, "t/p_test.rego": MINIMAL}), ORIGIN)
    assert set(source.modules) == {"p.rego", "t/p_test.rego"}
    assert set(source.without_tests()) == {"p.rego"}


def test_compile_errors_name_the_member(tmp_path: Path) -> None:
    broken = "package llm_router\n\nimport rego.v1\n\ndecision if {\n\tinput.x ==\n}\n"
    source = read_bundle(build_bundle({"policies/broken.rego": broken}), ORIGIN)
    with pytest.raises(PolicyLoadError, match=r"policies/broken\.rego:7:"):
        EmbeddedEngine.from_source(source, 50)


def test_load_bundle_file(tmp_path: Path) -> None:
    path = tmp_path / "bundle.tar.gz"
    path.write_bytes(build_bundle(policy_files(), {"revision": "file-1"}))
    source = load_bundle_file(path)
    assert source.revision == "file-1" and source.directory == path
    with pytest.raises(PolicyLoadError, match="cannot read: FileNotFoundError"):
        load_bundle_file(tmp_path / "missing.tar.gz")
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    with pytest.raises(PolicyLoadError, match=r"junk\.tar\.gz: not a gzip file"):
        load_bundle_file(tmp_path / "junk.tar.gz")


def test_build_bundle_is_deterministic() -> None:
    assert build_bundle(policy_files(), {"revision": "x"}) == build_bundle(
        policy_files(), {"revision": "x"}
    )


# ---- the emulator ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"abc"', True),
        ('"zzz", "abc"', True),
        ('W/"abc"', True),
        ("*", True),
        ('"zzz"', False),
        ("", False),
    ],
)
def test_if_none_match_comparison(header: str, matches: bool) -> None:
    assert etag_matches(header, '"abc"') is matches


# ---- the poller --------------------------------------------------------------------------


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


def revision_bundle(revision: str) -> bytes:
    return build_bundle(policy_files(), {"revision": revision})


@pytest.fixture
async def server() -> AsyncIterator[BundleServer]:
    async with BundleServer() as s:
        s.publish(revision_bundle("v1"))
        yield s


def poller_for(url: str, apply: Applier, **kwargs: Any) -> BundlePoller:
    return BundlePoller(url, apply=apply, min_delay=0.01, max_delay=0.02, timeout=2, **kwargs)


async def test_conditional_polling(server: BundleServer) -> None:
    apply = Applier()
    async with poller_for(server.url, apply) as poller:
        assert await poller.poll_once() == "updated"
        assert "If-None-Match" not in server.received[0].headers
        assert (poller.revision, poller.etag, apply.offered) == ("v1", server.etag, ["v1"])
        assert apply.engine is not None and apply.engine.revision == "v1"

        assert await poller.poll_once() == "not_modified"
        assert server.received[1].headers["If-None-Match"] == server.etag
        assert server.statuses() == [200, 304]
        assert apply.offered == ["v1"]

        v2 = server.publish(revision_bundle("v2"))
        assert await poller.poll_once() == "updated"
        assert (poller.revision, poller.etag, apply.offered) == ("v2", v2, ["v1", "v2"])
        assert (poller.polls, poller.updates, poller.errors, poller.rejections) == (3, 2, 0, 0)


async def test_a_corrupt_bundle_is_rejected_once_and_not_activated(server: BundleServer) -> None:
    apply = Applier()
    async with poller_for(server.url, apply) as poller:
        assert await poller.poll_once() == "updated"
        active = poller.etag
        server.serve_corrupt = True
        assert await poller.poll_once() == "rejected"
        assert apply.offered == ["v1"], "a bundle that does not parse never reaches apply"
        assert (poller.revision, poller.etag) == ("v1", active)
        assert poller.rejected_etag == server.etag
        assert poller.last_error is not None and "corrupt gzip data" in poller.last_error

        # Still broken: both ETags are offered, the server answers 304, nothing is re-read.
        assert await poller.poll_once() == "not_modified"
        assert server.received[-1].headers["If-None-Match"] == f"{active}, {server.etag}"
        assert server.statuses()[-1] == 304
        assert poller.rejections == 1

        server.serve_corrupt = False  # a roll-back to the active bundle clears the rejection
        assert await poller.poll_once() == "not_modified"
        assert poller.rejected_etag is None and poller.revision == "v1"

        server.publish(revision_bundle("v3"))
        assert await poller.poll_once() == "updated"
        assert poller.revision == "v3" and apply.offered == ["v1", "v3"]


async def test_a_bundle_refused_by_verification_is_not_retried(server: BundleServer) -> None:
    apply = Applier(accept=False)
    async with poller_for(server.url, apply) as poller:
        assert await poller.poll_once() == "rejected"
        assert (poller.etag, poller.revision, poller.rejected_revision) == (None, None, "v1")
        assert await poller.poll_once() == "not_modified"
        assert server.received[-1].headers["If-None-Match"] == server.etag
        assert apply.offered == ["v1"], "the same broken bundle is verified once"

        apply.accept = True
        server.publish(revision_bundle("v2"))
        assert await poller.poll_once() == "updated"
        assert poller.revision == "v2" and poller.rejected_etag is None


async def test_apply_raising_policy_load_error_is_a_rejection(server: BundleServer) -> None:
    server.publish(
        build_bundle({"p.rego": "package llm_router\n\nother := 1\n"}, {"revision": "bad"})
    )

    async def apply(source: PolicySource) -> bool:
        EmbeddedEngine.from_source(source, 50)
        return True

    async with BundlePoller(server.url, apply=apply) as poller:
        assert await poller.poll_once() == "rejected"
        assert poller.rejected_revision == "bad" and poller.revision is None
        assert poller.last_error is not None and "data.llm_router.decision" in poller.last_error


async def test_a_server_ignoring_if_none_match_is_compared_by_content(
    server: BundleServer,
) -> None:
    server.honor_if_none_match = False
    apply = Applier()
    async with poller_for(server.url, apply) as poller:
        assert await poller.poll_once() == "updated"
        assert await poller.poll_once() == "not_modified"
        assert server.statuses() == [200, 200]
        assert apply.offered == ["v1"]


async def test_server_errors_and_recovery(server: BundleServer) -> None:
    apply = Applier()
    async with poller_for(server.url, apply) as poller:
        server.fail_status = 500
        assert await poller.poll_once() == "error"
        assert await poller.poll_once() == "error"
        assert (poller.errors, poller.consecutive_errors, poller.last_error) == (2, 2, "HTTP 500")
        assert poller.revision is None and apply.offered == []
        server.fail_status = None
        assert await poller.poll_once() == "updated"
        assert poller.consecutive_errors == 0 and poller.last_error is None


async def test_bearer_token() -> None:
    async with BundleServer(token=TOKEN) as server:
        server.publish(revision_bundle("v1"))
        async with poller_for(server.url, Applier(), token=TOKEN) as poller:
            assert await poller.poll_once() == "updated"
            assert server.received[-1].headers["Authorization"] == f"Bearer {TOKEN}"
        async with poller_for(server.url, Applier()) as anonymous:
            assert await anonymous.poll_once() == "error"
            assert anonymous.last_error == "HTTP 401"
        async with poller_for(server.url, Applier(), token="wrong") as wrong:
            assert await wrong.poll_once() == "error"


async def test_unreachable_server_is_an_error() -> None:
    server = BundleServer()
    url = await server.start()
    await server.stop()
    async with poller_for(url, Applier()) as poller:
        assert await poller.poll_once() == "error"
        assert poller.last_error == "cannot connect"


async def test_an_oversized_download_is_rejected(server: BundleServer) -> None:
    async with poller_for(server.url, Applier(), max_bytes=1024) as poller:
        assert await poller.poll_once() == "rejected"
        assert poller.last_error is not None and "larger than 1024 bytes" in poller.last_error
        assert await poller.poll_once() == "not_modified"


async def test_credentials_in_the_url_stay_out_of_messages(server: BundleServer) -> None:
    server.serve_corrupt = True
    url = server.url + "?X-Amz-Signature=presigned-secret-77"
    async with poller_for(url, Applier()) as poller:
        assert await poller.poll_once() == "rejected"
        assert poller.last_error is not None and "presigned-secret-77" not in poller.last_error
        assert poller.last_error.startswith(server.url + ": ")
    assert redact_url("https://user:pw@h.example:8443/b.tar.gz?sig=s#f") == (
        "https://h.example:8443/b.tar.gz"
    )


def test_backoff_doubles_from_min_to_max() -> None:
    assert [backoff_delay(n, 10, 60) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert backoff_delay(10_000, 10, 60) == 60
    assert backoff_delay(0, 10, 60) == 10


async def test_next_delay_backs_off_after_errors_and_jitters_after_success(
    server: BundleServer,
) -> None:
    rng = random.Random(7)
    async with BundlePoller(
        server.url, apply=Applier(), min_delay=10, max_delay=60, rng=rng
    ) as poller:
        server.fail_status = 503
        delays = []
        for _ in range(4):
            delays.append(poller.next_delay(await poller.poll_once()))
        assert delays == [10, 20, 40, 60]
        server.fail_status = None
        assert await poller.poll_once() == "updated"
        jittered = {poller.next_delay("updated") for _ in range(20)}
        assert all(10 <= d <= 60 for d in jittered) and len(jittered) > 1


def test_poller_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="http or https"):
        BundlePoller("ftp://bundles.example/b.tar.gz", apply=Applier())
    with pytest.raises(ValueError, match="min_delay"):
        BundlePoller("http://127.0.0.1/b", apply=Applier(), min_delay=5, max_delay=1)


async def test_start_and_stop(server: BundleServer) -> None:
    apply = Applier()
    poller = poller_for(server.url, apply)
    poller.start()
    for _ in range(200):  # the server's count: `polls` counts a poll when it starts
        if len(server.statuses()) >= 2:
            break
        await asyncio.sleep(0.01)
    await poller.stop()
    assert poller.updates == 1 and poller.polls >= 2
    assert server.statuses()[:2] == [200, 304]
    polls = poller.polls
    await asyncio.sleep(0.05)
    assert poller.polls == polls, "stopped means stopped"
