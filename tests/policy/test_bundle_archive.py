"""Reading a bundle archive safely into a PolicySource: names, data placement, refusals
(each with the reason it is counted under), and what reading costs in memory."""

from __future__ import annotations

import gzip
import io
import tarfile
import tracemalloc
from pathlib import Path

import orjson
import pytest

from sidecar.emulators.bundles import build_bundle, etag_matches
from sidecar.policy import EmbeddedEngine, PolicyLoadError
from sidecar.policy.bundle import documents
from sidecar.policy.bundle.archive import MAX_BUNDLE_BYTES, load_bundle_file, read_bundle
from sidecar.policy.bundle.errors import FAILURE_REASONS, BundleError
from sidecar.policy.loader import PolicySource, read_policy_dir
from tests.policy.bundle_support import (
    MINIMAL,
    ORIGIN,
    policy_files,
    raw_tar_gz,
    regular,
    special,
)
from tests.policy.support import POLICIES, VECTORS, load_vector

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


def _cut_tar(files: dict[str, str | bytes]) -> bytes:
    """A valid gzip stream of a tar cut short inside its last member's content."""
    tar = gzip.decompress(build_bundle(files))
    return gzip.compress(tar[: 512 * 3 + 100], mtime=0)


def _bundle(**files: str | bytes) -> bytes:
    return build_bundle({"p.rego": MINIMAL, **files})


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        pytest.param(b"<html>not found</html>", "not_gzip", id="not-gzip"),
        pytest.param(build_bundle(policy_files())[:1500], "truncated", id="truncated-gzip"),
        pytest.param(_cut_tar({"p.rego": MINIMAL * 40}), "truncated", id="truncated-member"),
        pytest.param(gzip.compress(b"no tar" * 100), "corrupt", id="corrupt-tar"),
        pytest.param(build_bundle({"p.rego": MINIMAL})[:-8] + b"\0" * 8, "corrupt", id="bad-crc"),
        pytest.param(
            raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("../x.rego")),
            "unsafe_member",
            id="dot-dot",
        ),
        pytest.param(
            raw_tar_gz(special("p.rego", tarfile.SYMTYPE, "/etc/passwd")),
            "unsafe_member",
            id="symlink",
        ),
        pytest.param(
            raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("big", bytes(40 << 20))),
            "too_large",
            id="gzip-bomb",
        ),
        pytest.param(_bundle(**{"data.json": '{"a": '}), "invalid_data", id="invalid-data-json"),
        pytest.param(_bundle(**{"a/data.yaml": "k: ["}), "invalid_data", id="invalid-yaml"),
        pytest.param(_bundle(**{".manifest": "[]"}), "invalid_manifest", id="manifest"),
        pytest.param(_bundle(**{"patch.json": "{}"}), "unsupported", id="delta"),
        pytest.param(build_bundle({"data.json": "{}"}), "invalid_policy", id="no-rego"),
        pytest.param(_bundle(**{"x.rego": b"\xff"}), "invalid_policy", id="rego-not-utf8"),
    ],
)
def test_every_refusal_has_its_reason(archive: bytes, reason: str) -> None:
    """The reason is the `reason` label of llm_router_policy_bundle_failures_total."""
    with pytest.raises(BundleError) as caught:
        read_bundle(archive, ORIGIN)
    assert caught.value.reason == reason
    assert reason in FAILURE_REASONS
    assert str(caught.value).startswith(ORIGIN + ": ")


def _peak_bytes(archive: bytes, **kwargs: int) -> tuple[int, BaseException | None]:
    """The most memory Python held at once while reading `archive`, and what it raised."""
    tracemalloc.start()
    raised: BaseException | None = None
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        read_bundle(archive, ORIGIN, **kwargs)
    except PolicyLoadError as exc:
        raised = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1] - before
        tracemalloc.stop()
    return peak, raised


def test_a_gzip_bomb_is_refused_from_its_header_without_being_decompressed() -> None:
    """A member declaring more bytes than the cap leaves is refused before any of its
    content is decompressed: the bomb costs kilobytes, not `max_bytes` (it used to be
    decompressed up to the cap, 32 MiB held at once, before the size check)."""
    bomb = raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("big", bytes(200 << 20)))
    assert len(bomb) < 300_000
    peak, raised = _peak_bytes(bomb)
    assert isinstance(raised, BundleError) and raised.reason == "too_large"
    assert "big: bundle expands past" in str(raised)
    assert peak < 1 << 20, f"{peak} bytes held to refuse a bomb"


def test_members_the_policy_does_not_need_are_read_through_never_held() -> None:
    """An ignored member (policy.wasm, a README) counts against the cap and is checked for
    being complete, but is streamed through in chunks."""
    archive = raw_tar_gz(
        regular("p.rego", MINIMAL.encode()), regular("policy.wasm", bytes(24 << 20))
    )
    peak, raised = _peak_bytes(archive)
    assert raised is None
    assert peak < 1 << 20, f"{peak} bytes held for an ignored member"
    with pytest.raises(BundleError, match="expands past") as caught:
        read_bundle(archive, ORIGIN, max_bytes=20 << 20)
    assert caught.value.reason == "too_large"


def test_a_needed_member_is_held_twice_at_most() -> None:
    """A large module is held as its bytes, then its text; not as tarfile's whole-member
    read, which held the member three times over besides the whole decompressed tar."""
    module = b"package p\n# " + b"x" * (8 << 20) + b"\n"
    archive = raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("big.rego", module))
    peak, raised = _peak_bytes(archive)
    assert raised is None
    assert peak < 2.5 * len(module), f"{peak / len(module):.1f} copies of the member at once"


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
    monkeypatch.setattr(documents, "MAX_YAML_NODES", 10_000)
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
