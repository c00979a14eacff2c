"""双随机一公开: the random draw of inspection targets and inspectors, reproducible and verifiable.

Pure functions, no database. A draw is fully determined by its *record*: the two pools (targets with type,
level, region and risk weight; inspectors with 执法证号, region and the recusal facts), the rules (strata,
sampling ratio, risk weighting, team size, same-county recusal) and the seed value fixed before the draw
(a published number, the hash of the previous draw, a value entered before witnesses). The working seed is
``sha256(value | sha256(pools) | sha256(rules))``, so the value cannot be chosen after the pools were seen
without it showing.

Two algorithms, named by the record's ``format`` so that every record stays verifiable:

- ``fundguard-draw/2`` (the default): one PCG64 stream (NumPy's bit generator, whose raw output is fixed by
  the algorithm and does not change between NumPy versions — we read raw 64-bit words, never a NumPy
  distribution) seeded by the working seed. Its words are consumed in a fixed order: the strata sorted,
  within one the members sorted by code, one word each (Efraimidis–Spirakis keys ``log(u) / weight``, the
  largest win); then, for each drawn target in order, one word per inspector (sorted by id), the largest
  keys first, skipping those who must stand aside. Vectorised: a province-sized draw takes milliseconds.
- ``fundguard-draw/1`` (the first records): each key is ``sha256(seed | purpose | id)`` read as a uniform
  number — recomputable with any sha256, but 10⁶ hashes for a province-sized team draw (seconds).

The target weight is one function, ``target_weight`` (the plan's risk weight; further factors such as the
credit grade belong there, read from fields recorded in the pool so that verification sees them too).

``verify(record)`` recomputes the record's hash and the draw with the record's own algorithm and lists every
difference.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fundguard.core.errors import InputError

FORMAT_V1 = "fundguard-draw/1"  # hash-keyed (sha256 per candidate)
FORMAT = "fundguard-draw/2"  # PCG64 raw stream, vectorised (the default)
FORMATS = (FORMAT_V1, FORMAT)
STRATA = {"fixmedins_type": "机构类型", "hosp_lv": "医院等级", "admdvs": "区划"}


@dataclass(frozen=True)
class Rules:
    """How a draw picks: ``ratio`` of each stratum (at least ``min_per_stratum``), strata by ``strata``
    fields, keys weighted by risk when ``risk_weighted``; ``team_size`` inspectors per target (the first is
    the leader, 组长), at most ``max_per_inspector`` targets each (0: no limit), and, when
    ``recuse_same_county``, no inspector from the target's own county."""

    ratio: float = 0.1
    min_per_stratum: int = 1
    strata: tuple[str, ...] = ("fixmedins_type", "hosp_lv", "admdvs")
    risk_weighted: bool = True
    team_size: int = 2
    max_per_inspector: int = 0
    recuse_same_county: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.ratio <= 1:
            raise InputError("抽查比例应在 (0, 1] 之间", "ratio must be in (0, 1]")
        if self.team_size < 2:
            raise InputError("检查组至少 2 名执法人员", "a team needs at least 2 inspectors")
        if self.min_per_stratum < 0 or self.max_per_inspector < 0:
            raise InputError("人数限制不能为负", "limits cannot be negative")
        unknown = [s for s in self.strata if s not in STRATA]
        if unknown:
            raise InputError(f"未知分层字段 {unknown}（可用：{list(STRATA)}）", f"unknown strata {unknown}")

    def as_dict(self) -> dict[str, Any]:
        return {"ratio": self.ratio, "min_per_stratum": self.min_per_stratum, "strata": list(self.strata),
                "risk_weighted": self.risk_weighted, "team_size": self.team_size,
                "max_per_inspector": self.max_per_inspector, "recuse_same_county": self.recuse_same_county}  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rules:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "strata" in known:
            known["strata"] = tuple(known["strata"])
        return cls(**known)


def canonical(value: Any) -> bytes:
    """The one JSON form that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256(value: Any) -> str:
    return hashlib.sha256(value if isinstance(value, bytes) else canonical(value)).hexdigest()


def _record_hash(record: Mapping[str, Any], pools_json: bytes) -> str:
    """``sha256(record)`` (without its ``hash``) with the pools' canonical JSON encoded once already: a
    canonical object is its sorted ``key:value`` pairs, so the bytes are the same as encoding it whole."""
    parts = [canonical(k) + b":" + (pools_json if k == "pools" else canonical(v))
             for k, v in sorted(record.items()) if k != "hash"]  # fmt: skip
    return sha256(b"{" + b",".join(parts) + b"}")


def derive_seed(seed_value: str, pools: Mapping[str, Any], rules: Mapping[str, Any], *,
                pools_json: bytes | None = None) -> str:  # fmt: skip
    if not str(seed_value).strip():
        raise InputError("随机种子不能为空（应为抽取前已确定的值）", "the seed value cannot be empty")
    pools_hash = sha256(pools_json if pools_json is not None else canonical(pools))
    return sha256(f"{seed_value}|{pools_hash}|{sha256(rules)}".encode())


def _uniform(seed: str, purpose: str, key: str) -> float:
    """A number in (0, 1) from the seed: the first 52 bits of sha256(seed|purpose|key), never 0."""
    bits = int(hashlib.sha256(f"{seed}|{purpose}|{key}".encode()).hexdigest()[:13], 16)
    return (bits + 0.5) / 2**52


def _weighted_key(seed: str, purpose: str, key: str, weight: float) -> float:
    return _uniform(seed, purpose, key) ** (1.0 / weight)  # Efraimidis–Spirakis


def _county(admdvs: str) -> str | None:
    return admdvs if len(admdvs or "") == 6 and not admdvs.endswith("00") else None


def recusal(inspector: Mapping[str, Any], target: Mapping[str, Any], rules: Rules) -> str | None:
    """Why ``inspector`` must stand aside from ``target`` (回避), in Chinese; None when they need not."""
    code = target["code"]
    if code in (inspector.get("former_employers") or ()):
        return "曾在该机构任职"
    if code in (inspector.get("relatives_at") or ()):
        return "近亲属在该机构任职"
    county = _county(target.get("admdvs", ""))
    if rules.recuse_same_county and county and inspector.get("admdvs") == county:
        return "与被检查机构同属一个县（区）"
    return None


def _strata(targets: Sequence[Mapping[str, Any]], rules: Rules) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for t in targets:
        groups.setdefault("|".join(str(t.get(s, "")) for s in rules.strata), []).append(t)
    return dict(sorted(groups.items()))


def _compute_v1(pools: Mapping[str, Any], rules: Rules, seed: str,
                weight: Callable[[Mapping[str, Any], Rules], float]) -> dict[str, Any]:  # fmt: skip
    """``fundguard-draw/1``: every key a sha256 of the seed, the purpose and the candidate's id."""
    targets = [t for t in pools["targets"] if t.get("eligible", True)]
    drawn: list[dict[str, Any]] = []
    strata_out = []
    for key, members in _strata(targets, rules).items():
        n = min(len(members), max(rules.min_per_stratum, math.ceil(len(members) * rules.ratio)))
        ranked = sorted(
            members,
            key=lambda t: (
                -_weighted_key(
                    seed,
                    "target",
                    t["code"],
                    weight(t, rules),
                ),
                t["code"],
            ),
        )
        strata_out.append({"stratum": key, "size": len(members), "drawn": n})
        drawn += [{"code": t["code"], "name": t.get("name", ""), "admdvs": t.get("admdvs", ""), "stratum": key}
                  for t in ranked[:n]]  # fmt: skip
    load: dict[str, int] = {}
    inspectors = [i for i in pools["inspectors"] if i.get("available", True) and i.get("cert_no")]
    unstaffed = []
    for target in drawn:
        ranked = sorted(
            inspectors, key=lambda i: (-_uniform(seed, f"team|{target['code']}", i["id"]), i["id"])
        )
        team, recused = [], []
        for i in ranked:
            why = recusal(i, target, rules)
            if why:
                recused.append({"id": i["id"], "reason": why})
            elif not rules.max_per_inspector or load.get(i["id"], 0) < rules.max_per_inspector:
                team.append(i["id"])
            if len(team) == rules.team_size:
                break
        for i in team:
            load[i] = load.get(i, 0) + 1
        target["team"], target["leader"], target["recused"] = team, (team[0] if team else None), recused
        if len(team) < rules.team_size:
            unstaffed.append(target["code"])
    return {"strata": strata_out, "targets": drawn, "unstaffed": unstaffed}


def target_weight(target: Mapping[str, Any], rules: Rules) -> float:
    """The weight of one target in its stratum: its risk weight (1–10, 名录库) when the plan weights by risk,
    else 1. The one place for further factors (e.g. the credit grade): read them from the pool entry, which
    the record keeps, so that ``verify`` recomputes the same weights."""
    return max(float(target.get("risk", 1)), 1e-3) if rules.risk_weighted else 1.0


def _unit(words: np.ndarray) -> np.ndarray:
    """Raw 64-bit words → uniforms in (0, 1): the top 53 bits, offset by half a step (never 0)."""
    return ((words >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


def _descending(row: np.ndarray, cut: float) -> Iterator[int]:
    """Indices of ``row`` by key descending (ties by index), as a full stable sort would give them: first those
    at or above ``cut`` (a partition's few), the rest sorted only if the caller reads that far."""
    best = np.nonzero(row >= cut)[0]
    yield from (int(i) for i in best[np.lexsort((best, -row[best]))])
    rest = np.nonzero(row < cut)[0]
    yield from (int(i) for i in rest[np.lexsort((rest, -row[rest]))])


def _compute_v2(pools: Mapping[str, Any], rules: Rules, seed: str,
                weight: Callable[[Mapping[str, Any], Rules], float]) -> dict[str, Any]:  # fmt: skip
    """``fundguard-draw/2``: one PCG64 stream seeded by the working seed, consumed in a fixed order."""
    bits = np.random.PCG64(int(seed, 16))
    targets = [t for t in pools["targets"] if t.get("eligible", True)]
    drawn: list[dict[str, Any]] = []
    strata_out = []
    for key, members in _strata(targets, rules).items():
        members = sorted(members, key=lambda t: t["code"])
        n = min(len(members), max(rules.min_per_stratum, math.ceil(len(members) * rules.ratio)))
        w = np.array([weight(t, rules) for t in members], dtype=np.float64)
        keys = np.log(_unit(bits.random_raw(len(members)))) / w  # Efraimidis–Spirakis, in logs
        order = np.argsort(-keys, kind="stable")  # ties (never in practice) keep the code order
        strata_out.append({"stratum": key, "size": len(members), "drawn": n})
        drawn += [{"code": members[i]["code"], "name": members[i].get("name", ""),
                   "admdvs": members[i].get("admdvs", ""), "stratum": key} for i in order[:n]]  # fmt: skip
    inspectors = sorted((i for i in pools["inspectors"] if i.get("available", True) and i.get("cert_no")),
                        key=lambda i: str(i["id"]))  # fmt: skip
    load: dict[str, int] = {}
    unstaffed = []
    m = len(inspectors)
    # one row of keys per drawn target (the stream read row by row); only the best few of a row are ever
    # needed, so each row is ordered from a partition and fully sorted only when recusals exhaust those
    keys = _unit(bits.random_raw(len(drawn) * m)).reshape(len(drawn), m) if m else np.empty((len(drawn), 0))
    k = min(m, rules.team_size * 4)
    cut = np.partition(keys, m - k, axis=1)[:, m - k] if m else np.empty(len(drawn))
    for row, target in enumerate(drawn):
        team, recused = [], []
        if m:
            for idx in _descending(keys[row], cut[row]):
                i = inspectors[int(idx)]
                why = recusal(i, target, rules)
                if why:
                    recused.append({"id": i["id"], "reason": why})
                elif not rules.max_per_inspector or load.get(i["id"], 0) < rules.max_per_inspector:
                    team.append(i["id"])
                if len(team) == rules.team_size:
                    break
        for i in team:
            load[i] = load.get(i, 0) + 1
        target["team"], target["leader"], target["recused"] = team, (team[0] if team else None), recused
        if len(team) < rules.team_size:
            unstaffed.append(target["code"])
    return {"strata": strata_out, "targets": drawn, "unstaffed": unstaffed}


def compute(pools: Mapping[str, Any], rules: Rules, seed: str, *, algorithm: str = FORMAT,
            weight: Callable[[Mapping[str, Any], Rules], float] = target_weight) -> dict[str, Any]:  # fmt: skip
    """The draw's result from its pools, rules and working seed (deterministic) with ``algorithm`` (a record
    format) and the target ``weight`` function."""
    if algorithm == FORMAT_V1:
        return _compute_v1(pools, rules, seed, weight)
    if algorithm == FORMAT:
        return _compute_v2(pools, rules, seed, weight)
    raise InputError(
        f"未知抽取算法 {algorithm}（可用：{list(FORMATS)}）", f"unknown draw algorithm {algorithm}"
    )


def draw(pools: Mapping[str, Any], rules: Rules, seed_value: str, *, meta: Mapping[str, Any] | None = None,
         previous: Mapping[str, Any] | None = None, algorithm: str = FORMAT,
         weight: Callable[[Mapping[str, Any], Rules], float] = target_weight) -> dict[str, Any]:  # fmt: skip
    """A complete, sealed draw record. ``previous`` ({number, hash, reason}) makes it a redraw that cites the
    draw it replaces; the reason is required. ``algorithm`` is recorded as the record's ``format``."""
    if not pools.get("targets"):
        raise InputError("检查对象名录库为空，无法抽取", "the target pool is empty")
    if previous is not None and not str(previous.get("reason") or "").strip():
        raise InputError("重新抽取须说明理由", "a redraw must give its reason")
    rules_d = rules.as_dict()
    pools_json = canonical(pools)  # encoded once: the seed and the seal both hash it
    seed = derive_seed(seed_value, pools, rules_d, pools_json=pools_json)
    record = {
        "format": algorithm, "meta": dict(meta or {}), "seed_value": str(seed_value), "seed": seed,
        "pools": pools, "rules": rules_d, "previous": dict(previous) if previous else None,
        "result": compute(pools, rules, seed, algorithm=algorithm, weight=weight),
    }  # fmt: skip
    record["hash"] = _record_hash(record, pools_json)
    return record


def verify(record: Mapping[str, Any],
           weight: Callable[[Mapping[str, Any], Rules], float] = target_weight) -> list[str]:  # fmt: skip
    """Every way ``record`` differs from a draw recomputed from its own pools, rules and seed value (in
    Chinese); empty when it is intact."""
    problems = []
    if record.get("format") not in FORMATS:
        return [f"不是抽取记录（format 应为 {' 或 '.join(FORMATS)}）"]
    pools_json = canonical(record.get("pools"))
    if _record_hash(record, pools_json) != record.get("hash"):
        problems.append("记录哈希不符：记录内容在封存后被改动")
    try:
        rules = Rules.from_dict(record["rules"])
        seed = derive_seed(record["seed_value"], record["pools"], record["rules"], pools_json=pools_json)
    except (InputError, KeyError, TypeError) as exc:
        return [*problems, f"记录不完整或规则无效：{exc}"]
    if seed != record.get("seed"):
        problems.append("随机种子与种子值、名录库、规则推导的结果不符")
    result = compute(record["pools"], rules, seed, algorithm=record["format"], weight=weight)
    if result != record.get("result"):
        was = [t["code"] for t in record.get("result", {}).get("targets", [])]
        now = [t["code"] for t in result["targets"]]
        problems.append(f"抽取结果与重新计算不符（记录 {len(was)} 家，重算 {len(now)} 家；差异 "
                        f"{sorted(set(was) ^ set(now))[:10]}，或检查组不同）")  # fmt: skip
    return problems
