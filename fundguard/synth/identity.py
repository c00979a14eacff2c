"""Pseudonymous identities of the insured: Chinese names from small fixed lists and 18-character
居民身份证号码 (GB 11643-1999) on the fictional province ``89``, so that no number can be a real person's.

A number is ``8901`` + a county ``01``–``99`` + birth date ``YYYYMMDD`` + a 3-digit sequence whose parity
is the sex (odd 男, even 女) + the ISO 7064 MOD 11-2 check character; birth date and sex agree with
``brdy`` and ``gend``. Numbers are drawn at random, so two persons share one with probability ~1e-6 at
a million lines (the person key is ``psn_no``).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fundguard.synth import arrowcols as ac
from fundguard.synth.world import CITY

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林兵峰建国志海东",  # 1 男
    "芳娜敏静丽艳娟秀霞燕玲桂丹萍红玉兰英梅琳莉雪婷倩颖慧佳欣瑶怡晶璐蓉月凤洁琴",  # 2 女
)
_G = len(GIVEN[0])
N_NAMES = len(SURNAMES) * _G * (_G + 1)
"""Names per sex: surname × first given character × (second given character or none)."""
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.frombuffer(b"10X98765432", np.uint8)


def draw(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Random name index (in ``[0, N_NAMES)``, ~15 % one-character given names), county and sequence."""
    sur = rng.integers(0, len(SURNAMES), n)
    g1 = rng.integers(0, _G, n)
    g2 = np.where(rng.random(n) < 0.15, _G, rng.integers(0, _G, n))
    return {
        "name": (sur * _G + g1) * (_G + 1) + g2,
        "county": rng.integers(1, 100, n),
        "seq": rng.integers(0, 500, n),
    }


@cache
def _all_names(sex: int) -> pa.Array:
    given = GIVEN[sex - 1]
    return pa.array([s + a + b for s in SURNAMES for a in given for b in (*given, "")], pa.string())


def names(name: np.ndarray, gend: np.ndarray) -> pa.Array:
    """The name strings of ``name`` indices for persons of sex ``gend`` (1/2)."""
    male = _all_names(1).take(pa.array(np.asarray(name, np.int64)))
    female = _all_names(2).take(pa.array(np.asarray(name, np.int64)))
    return pc.if_else(pa.array(np.asarray(gend) == 1), male, female)


def certno(county: np.ndarray, brdy: np.ndarray, seq: np.ndarray, gend: np.ndarray) -> pa.Array:
    """18-character ID numbers with a valid GB 11643 check character."""
    d = np.asarray(brdy, dtype=np.int64).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    s = 2 * np.asarray(seq, np.int64) + (np.asarray(gend) == 1)
    body = np.concatenate(
        [
            np.broadcast_to(np.frombuffer(CITY.encode(), np.uint8), (len(d), 4)),
            ac.digits(county, 2),
            ac.digits(y * 10_000 + m * 100 + day, 8),
            ac.digits(s, 3),
        ],
        axis=1,
    )
    check = _CHECK[((body - 48).astype(np.int64) @ _WEIGHTS) % 11]
    return ac.fixed_width(np.concatenate([body, check[:, None]], axis=1))


def valid_certno(s: str) -> bool:
    """GB 11643 check of one number (for tests)."""
    if len(s) != 18 or not s[:17].isdigit():
        return False
    return "10X98765432"[sum(int(c) * w for c, w in zip(s[:17], _WEIGHTS, strict=True)) % 11] == s[17]
