"""Upload checks of issue 10 (low): Windows-style paths, PDF/HTML polyglots, PDF compression bombs, PNGs that
do not decode — each refused with a bilingual message; good files pass."""

from __future__ import annotations

import struct
import zlib

import pytest

from fundguard.service.clues import check_upload
from fundguard.service.errors import BadUpload

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _png(width: int = 2, height: int = 2, rows: bytes | None = None) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = rows if rows is not None else b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def test_good_files_pass_and_names_lose_every_path() -> None:
    assert check_upload("病历.pdf", "application/pdf", PDF) == ("病历.pdf", "application/pdf")
    assert check_upload("..\\..\\evil.png", "image/png", _png())[0] == "evil.png"
    assert check_upload("a/..\\b\\..\\c.pdf", "", PDF)[0] == "c.pdf"


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("x.pdf", PDF + b"<html><script>alert(1)</script></html>", "脚本"),
        ("x.pdf", b"%PDF-1.7\n<!DOCTYPE html><body>hi</body>", "脚本"),
        (
            "x.pdf",
            b"%PDF-1.4\n1 0 obj<</Filter/FlateDecode>>stream\n"
            + zlib.compress(b"\0" * (80 << 20), 9)
            + b"\nendstream endobj\n%%EOF",
            "解压后过大",
        ),
        ("x.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "无法解码"),
        ("x.png", _png(rows=b"\x00\x01"), "无法解码"),  # too few pixels for its size
    ],
)
def test_bad_files_are_refused(name: str, data: bytes, why: str) -> None:
    with pytest.raises(BadUpload, match=why) as err:
        check_upload(name, "", data)
    assert err.value.en
