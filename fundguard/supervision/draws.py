"""双随机一公开: the random draw of inspection targets and inspectors, reproducible and verifiable.

Pure functions, no database. A draw is fully determined by its *record*: the two pools (targets with type,
level, region and risk weight; inspectors with 执法证号, region and the recusal facts), the rules (strata,
sampling ratio, risk weighting, team size, same-county recusal) and the seed value fixed before the draw
(a published number, the hash of the previous draw, a value entered before witnesses). The working seed is
``sha256(value | sha256(pools) | sha256(rules))``, so the value cannot be chosen after the pools were seen
without it showing.

Randomness is hash-based rather than ``random.Random``: each candidate's key is
``sha256(seed | purpose | id)`` read as a uniform number, so anyone can recompute a draw with any sha256
implementation and the result does not depend on a Python version. Targets are sampled without
replacement within each stratum by weighted keys (Efraimidis–Spirakis: ``u ** (1 / weight)``, the largest
keys win); each drawn target gets the inspectors with the largest keys among those not recused.

``verify(record)`` recomputes the record's hash and the draw and lists every difference.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fundguard.core.errors import InputError

FORMAT = "fundguard-draw/1"
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


def derive_seed(seed_value: str, pools: Mapping[str, Any], rules: Mapping[str, Any]) -> str:
    if not str(seed_value).strip():
        raise InputError("随机种子不能为空（应为抽取前已确定的值）", "the seed value cannot be empty")
    return sha256(f"{seed_value}|{sha256(pools)}|{sha256(rules)}".encode())


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


def compute(pools: Mapping[str, Any], rules: Rules, seed: str) -> dict[str, Any]:
    """The draw's result from its pools, rules and working seed (deterministic)."""
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
                    max(float(t.get("risk", 1)), 1e-3) if rules.risk_weighted else 1.0,
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


def draw(pools: Mapping[str, Any], rules: Rules, seed_value: str, *, meta: Mapping[str, Any] | None = None,
         previous: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """A complete, sealed draw record. ``previous`` ({number, hash, reason}) makes it a redraw that cites the
    draw it replaces; the reason is required."""
    if not pools.get("targets"):
        raise InputError("检查对象名录库为空，无法抽取", "the target pool is empty")
    if previous is not None and not str(previous.get("reason") or "").strip():
        raise InputError("重新抽取须说明理由", "a redraw must give its reason")
    rules_d = rules.as_dict()
    seed = derive_seed(seed_value, pools, rules_d)
    record = {
        "format": FORMAT, "meta": dict(meta or {}), "seed_value": str(seed_value), "seed": seed,
        "pools": pools, "rules": rules_d, "previous": dict(previous) if previous else None,
        "result": compute(pools, rules, seed),
    }  # fmt: skip
    record["hash"] = sha256(record)
    return record


def verify(record: Mapping[str, Any]) -> list[str]:
    """Every way ``record`` differs from a draw recomputed from its own pools, rules and seed value (in
    Chinese); empty when it is intact."""
    problems = []
    if record.get("format") != FORMAT:
        return [f"不是抽取记录（format 应为 {FORMAT}）"]
    body = {k: v for k, v in record.items() if k != "hash"}
    if sha256(body) != record.get("hash"):
        problems.append("记录哈希不符：记录内容在封存后被改动")
    try:
        rules = Rules.from_dict(record["rules"])
        seed = derive_seed(record["seed_value"], record["pools"], record["rules"])
    except (InputError, KeyError, TypeError) as exc:
        return [*problems, f"记录不完整或规则无效：{exc}"]
    if seed != record.get("seed"):
        problems.append("随机种子与种子值、名录库、规则推导的结果不符")
    result = compute(record["pools"], rules, seed)
    if result != record.get("result"):
        was = [t["code"] for t in record.get("result", {}).get("targets", [])]
        now = [t["code"] for t in result["targets"]]
        problems.append(f"抽取结果与重新计算不符（记录 {len(was)} 家，重算 {len(now)} 家；差异 "
                        f"{sorted(set(was) ^ set(now))[:10]}，或检查组不同）")  # fmt: skip
    return problems
