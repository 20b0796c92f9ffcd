"""Tiny, fixed, valid media payloads for request bodies: PNG, WAV, MP3 and PDF.

They are built once at import from a few lines of code instead of pasted as opaque hex, so a
reader can see they carry nothing but silence, one grey pixel and a line of safe text. The
sidecar decodes base64 runs that look like text and scans them, so binary payloads must stay
binary: the PDF carries the customary non-UTF-8 comment line right after its header, which
also keeps its xref table (ten-digit offsets) away from the digit detectors.
"""

from __future__ import annotations

import base64
import struct
import zlib


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    pixels = zlib.compress(b"\x00\x80")  # filter byte 0, one grey pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _wav_silence(samples: int = 16) -> bytes:
    data = b"\x80" * samples  # 8-bit unsigned PCM: 0x80 is silence
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)  # PCM, mono, 8 kHz, 8 bit
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _mp3_frame() -> bytes:
    # One MPEG-1 Layer III frame, 128 kbit/s, 44.1 kHz, mono, no CRC: 144 * 128000 / 44100
    # = 417 bytes. Zeroed side information and main data decode to silence.
    header = bytes((0xFF, 0xFB, 0x90, 0xC0))
    return header + b"\x00" * (417 - len(header))


def _pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 20 50 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


PNG = _png_1x1()
WAV = _wav_silence()
MP3 = _mp3_frame()
PDF = _pdf("hello from a tiny page")


def b64(data: bytes) -> str:
    """Standard padded base64, the encoding both providers document for inline payloads."""
    return base64.b64encode(data).decode("ascii")


def data_url(media_type: str, data: bytes) -> str:
    """An RFC 2397 `data:` URL, as OpenAI takes images and files inline."""
    return f"data:{media_type};base64,{b64(data)}"


PNG_B64 = b64(PNG)
WAV_B64 = b64(WAV)
MP3_B64 = b64(MP3)
PDF_B64 = b64(PDF)
