"""What is scanned is exactly what is sent: the upstream body is serialised from the parsed
object that was scanned, so every way two JSON parsers could disagree is either decoded
into that object or refused with a 400, and nothing half-parsed is ever forwarded."""

from __future__ import annotations

import gzip
import zlib

import aiohttp
import orjson
import pytest

from tests.conftest import Harness
from tests.test_routing import SSN

HELLO = b'"messages": [{"role": "user", "content": "hi"}]'


async def post(h: Harness, raw: bytes, **headers: str) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.post(
            h.running.app_url + "/v1/chat/completions",
            data=raw,
            headers={"content-type": "application/json", **headers},
        ) as resp,
    ):
        return resp.status, await resp.read()


def sent(h: Harness) -> list[bytes]:
    return [r.body for emu in h.upstreams.values() for r in emu.received]


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf{" + HELLO + b', "model": "gpt-4o"}',  # a byte order mark
        b"{" + HELLO + b', "model": "gpt-4o", "temperature": NaN}',
        b"{" + HELLO + b', "model": "gpt-4o", "temperature": Infinity}',
        b"{" + HELLO + b', "model": "gpt-4o", "user": "\\ud800"}',  # a lone surrogate
        b"{" + HELLO + b', "model": "gpt-4o", "user": "\xff\xfe"}',  # not UTF-8
    ],
    ids=["bom", "nan", "infinity", "lone-surrogate", "not-utf8"],
)
async def test_what_two_parsers_could_read_differently_is_refused(
    harness: Harness, raw: bytes
) -> None:
    status, body = await post(harness, raw)
    assert status == 400, body
    assert orjson.loads(body)["error"]["type"] == "invalid_request_error"
    assert sent(harness) == []


@pytest.mark.parametrize("order", ["ssn-first", "ssn-last"])
async def test_duplicate_keys_reach_the_upstream_as_the_one_value_that_was_scanned(
    harness: Harness, order: str
) -> None:
    pair = [f'"user": "{SSN}"', '"user": "customer-42"']
    if order == "ssn-last":
        pair.reverse()
    raw = ("{" + HELLO.decode() + ', "model": "gpt-4o", ' + ", ".join(pair) + "}").encode()
    status, _ = await post(harness, raw)
    assert status == 200
    [forwarded] = sent(harness)
    assert forwarded.count(b'"user":') == 1  # one key: the one the scanner saw
    record = harness.audit_records()[-1]
    if order == "ssn-last":
        assert SSN.encode() in forwarded and record["classification"]["tags"] == {"pii.ssn": 1}
        assert not harness.upstreams["openrouter"].received
    else:
        assert SSN.encode() not in forwarded and record["classification"]["level"] == "public"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compressed_body_is_decoded_then_scanned(harness: Harness, encoding: str) -> None:
    raw = orjson.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": f"ssn {SSN}"}]})
    packed = gzip.compress(raw) if encoding == "gzip" else zlib.compress(raw)
    status, _ = await post(harness, packed, **{"content-encoding": encoding})
    assert status == 200
    assert not harness.upstreams["openrouter"].received
    assert harness.audit_records()[-1]["classification"]["tags"] == {"pii.ssn": 1}


@pytest.mark.parametrize("encoding", ["x-unknown", "br"])
async def test_an_encoding_that_cannot_be_decoded_is_refused(
    harness: Harness, encoding: str
) -> None:
    raw = orjson.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    status, _ = await post(harness, gzip.compress(raw), **{"content-encoding": encoding})
    assert 400 <= status < 500
    assert sent(harness) == []


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_is_not_what_its_encoding_says_is_a_400(
    harness: Harness, encoding: str
) -> None:
    raw = orjson.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    status, body = await post(harness, raw, **{"content-encoding": encoding})
    assert status == 400, body
    assert orjson.loads(body)["error"]["type"] == "invalid_request_error"
    assert sent(harness) == []


@pytest.mark.parametrize(
    "literal",
    [b"1180591620717411303424", b"18446744073709551616", b"-9223372036854775809", b"9" * 400],
    ids=["2**70", "2**64", "below-int64", "400-digits"],
)
@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
async def test_an_integer_beyond_64_bits_is_refused_not_turned_into_a_float(
    harness: Harness, literal: bytes, path: str
) -> None:
    raw = b'{"model": "gpt-4o", "max_tokens": ' + literal + b", " + HELLO + b"}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            harness.running.app_url + path, data=raw, headers={"content-type": "application/json"}
        ) as resp,
    ):
        status, body = resp.status, await resp.read()
    assert status == 400, body
    error = orjson.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    if path == "/v1/chat/completions":
        assert error["code"] == "integer_out_of_range"
    assert literal[:12] not in body  # the value itself is not echoed
    assert sent(harness) == []


async def test_integers_at_the_64_bit_edges_and_long_digit_strings_are_forwarded_exactly(
    harness: Harness,
) -> None:
    raw = (
        b'{"model": "gpt-4o", "seed": 18446744073709551615, "metadata": {"n": '
        b'-9223372036854775808, "ref": "123456789012345678901234567890"}, ' + HELLO + b"}"
    )
    status, body = await post(harness, raw)
    assert status == 200, body
    [forwarded] = sent(harness)
    assert b"18446744073709551615" in forwarded
    assert b"-9223372036854775808" in forwarded
    assert b'"123456789012345678901234567890"' in forwarded
