"""Checks on uploaded evidence files beyond the extension and magic bytes (issue 10, uploads): names cleaned
of paths in either slash style, no HTML/script inside (PDF/HTML polyglots), PDF streams that would inflate
past a limit (compression bombs), and PNGs that really decode."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import PureWindowsPath

MAX_INFLATED = 64 * 1024 * 1024  # what all of one file's compressed streams may inflate to
_ACTIVE = re.compile(rb"<\s*(?:!doctype\s+html|html|script|iframe|body|svg|object|embed)\b|javascript:", re.I)
_STREAM = re.compile(rb"stream\r?\n")


def safe_name(filename: str) -> str:
    """The last component of a name given as ``a/b/c``, ``..\\..\\c`` or a mix; control characters dropped."""
    name = PureWindowsPath((filename or "").replace("/", "\\")).name
    return "".join(c for c in name if c.isprintable()).strip(" .")[:200]


def problems(ext: str, data: bytes) -> tuple[str, str] | None:
    """Why ``data`` (of type ``ext``: .pdf/.png/.jpg) is refused, or None."""
    if _ACTIVE.search(data):
        return "文件内嵌网页或脚本内容", "the file embeds HTML or script"
    if ext == ".pdf":
        return _pdf_bomb(data)
    if ext == ".png":
        return _png_problem(data)
    return None


def _pdf_bomb(data: bytes) -> tuple[str, str] | None:
    left = MAX_INFLATED
    for m in _STREAM.finditer(data):
        end = data.find(b"endstream", m.end())
        chunk = data[m.end() : end if end > 0 else len(data)]
        d = zlib.decompressobj()
        try:
            out = d.decompress(chunk, left + 1)
        except zlib.error:
            continue  # not Flate (images in DCT, say): stored as it is
        left -= len(out)
        if left < 0 or d.unconsumed_tail:
            return "PDF 中的数据流解压后过大", "a PDF stream inflates past the limit"
    return None


def _png_problem(data: bytes) -> tuple[str, str] | None:
    bad = ("PNG 图片无法解码", "the PNG does not decode")
    pos, idat, ihdr = 8, [], None
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length] or b"\0\0\0\0")
        if len(body) != length or zlib.crc32(kind + body) != crc:
            return bad
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    else:
        return bad
    if ihdr is None or not idat:
        return bad
    width, height, depth, colour = ihdr[:4]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if not channels or not width or not height or ihdr[6]:  # interlaced images are rare in scans: refused
        return bad
    expected = height * (1 + (width * channels * depth + 7) // 8)
    if expected > MAX_INFLATED:
        return "PNG 图片过大", "the PNG is too large"
    d = zlib.decompressobj()
    try:
        raw = d.decompress(b"".join(idat), expected + 1)
    except zlib.error:
        return bad
    return None if len(raw) == expected else bad
