"""orjson in the real-time routes: bodies read and answers written exactly as with ``json``."""

from __future__ import annotations

import json

import pytest

from fundguard.api.realtime_guard import encode, parse_json
from fundguard.core.errors import InputError

SAME = [
    b'{"a":1,"a":2}', b' {"b":[true,false,null,-0,0,1]} ', b'{"n":123456789012345678901234567890}',
    b'{"n":18446744073709551616,"m":-9223372036854775809}', b'{"f":1.0,"g":1e5,"h":0.1}', b'"text"', b"12",
    b"\xef\xbb\xbf{}",  # a UTF-8 BOM: json reads bytes through utf-8-sig
    '{"中":"医保\\u00e9\\ud83d\\ude00\\u0000"}'.encode(), b'{"x":[{"a":[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}]}',
]  # fmt: skip


@pytest.mark.parametrize("body", SAME)
def test_bodies_read_as_json_reads_them(body: bytes) -> None:
    got = parse_json(body)
    assert repr(got) == repr(json.loads(body))  # types too: a big integer stays an int


@pytest.mark.parametrize(
    ("body", "word"),
    [
        (b'{"a":"\\ud800"}', "surrogate"),
        (b"[" * 30 + b"]" * 30, "deeper"),
        (b"[" * 5000 + b"]" * 5000, "deeper"),
        (b"\xff\xfe{", "JSON"),
        (b'{"a":NaN', "JSON"),
        (b"", "JSON"),
    ],
)
def test_refused_bodies_keep_their_errors(body: bytes, word: str) -> None:
    with pytest.raises(InputError) as e:
        parse_json(body)
    assert word in e.value.en


@pytest.mark.parametrize(
    "answer",
    [
        {"mdtrt_id": "V1", "hits": [{"evidence_zh": "同日“阿司匹林”计费2.0\u2028\x7f\x1f", "amount": "1.20"}],
         "audit_ms": {"total": 0.123, "validate": 1e-07, "big": 1e16, "n": 3}},
        {"k": [1, -2, None, True, 2.5, "é"]},
    ],
)  # fmt: skip
def test_answers_written_as_json_writes_them(answer: dict) -> None:
    assert json.loads(encode(answer)) == answer
    plain = json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    if "big" not in str(answer):  # 1e16 / 1e-07: the same numbers, spelled 1e16 / 1e-7 by orjson
        assert encode(answer) == plain


def test_what_orjson_refuses_is_written_by_json() -> None:
    assert encode({"n": 2**70}) == b'{"n":1180591620717411303424}'
    with pytest.raises(ValueError):
        encode({"x": float("nan")} | {"n": 2**70})  # json's refusal, as before
