"""医保信用评价 (条例 Art. 33): a configurable scheme (``data/credit.yaml``; a province's file through
``load_scheme(path)``) turns the counted facts of a natural year into a score, a grade with its reasons, and the
grade's consequences (双随机 draw weight, review share, prepayment; for insured persons the suspension of
联网结算). A blacklisted subject (严重失信名单) takes the configured lowest grade directly. Pure: the service
counts the facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fundguard.core.errors import InputError

SUBJECTS = {"institution": "定点医药机构", "staff": "医药服务人员", "insured": "参保人员"}
_DEFAULT = Path(__file__).parent / "data" / "credit.yaml"


@dataclass(frozen=True)
class Scheme:
    name_zh: str
    base: int
    grades: tuple[tuple[str, str, int], ...]  # (grade, name_zh, floor), highest first
    items: dict[str, dict[str, dict[str, Any]]]  # subject → item → {label_zh, deduct, max}
    blacklist_grade: str
    blacklist_entry: dict[str, tuple[str, ...]]
    blacklist_years: int
    consequences: dict[str, dict[str, Any]]
    disclose_blacklist: bool
    repair_clean_months: int = 6
    repair_decide_working_days: int = 15
    insured_measures: dict[str, dict[str, Any]] = field(
        default_factory=dict
    )  # grade or "blacklist" → measure

    def grade_name(self, grade: str) -> str:
        return next((n for g, n, _ in self.grades if g == grade), grade)

    def measures(self, grade: str) -> dict[str, Any]:
        """The payment measures of a grade: 审核比例 (share of claims reviewed by hand), 预付 allowed, the 双随机
        weight and the measure in words; a grade the scheme does not price gets full review and no prepayment."""
        c = self.consequences.get(grade, {})
        return {"review_share": float(c.get("review_share", 1.0)), "prepayment": bool(c.get("prepayment", False)),
                "draw_weight": int(c.get("draw_weight", 1)), "measure_zh": str(c.get("measure_zh", ""))}  # fmt: skip

    def insured_suspension(self, grade: str, blacklisted: bool) -> tuple[int, str]:
        """(months of 联网结算 suspension, the measure in words) for an insured person of ``grade``; a listed
        person takes the longer of the grade's and the list's."""
        options = [self.insured_measures.get(grade, {})]
        if blacklisted:
            options.append(self.insured_measures.get("blacklist", {}))
        best = max(options, key=lambda m: int(m.get("settlement_suspend_months", 0)))
        return int(best.get("settlement_suspend_months", 0)), str(best.get("measure_zh", ""))


def load_scheme(path: str | Path | None = None) -> Scheme:
    p = Path(path) if path else _DEFAULT
    try:
        d: dict[str, Any] = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        grades = tuple(sorted(((str(g["grade"]), str(g["name_zh"]), int(g["floor"])) for g in d["grades"]),
                              key=lambda g: -g[2]))  # fmt: skip
        scheme = Scheme(
            name_zh=str(d.get("name_zh") or ""),
            base=int(d["base"]),
            grades=grades,
            items={str(s): {str(k): dict(v) for k, v in items.items()} for s, items in d["items"].items()},
            blacklist_grade=str(d.get("blacklist_grade") or grades[-1][0]),
            blacklist_entry={str(s): tuple(v) for s, v in (d.get("blacklist_entry") or {}).items()},
            blacklist_years=int(d.get("blacklist_years", 3)),
            consequences={str(g): dict(v) for g, v in (d.get("consequences") or {}).items()},
            disclose_blacklist=bool(d.get("disclose_blacklist", False)),
            repair_clean_months=int((d.get("repair") or {}).get("clean_months", 6)),
            repair_decide_working_days=int((d.get("repair") or {}).get("decide_working_days", 15)),
            insured_measures={str(g): dict(v) for g, v in (d.get("insured_measures") or {}).items()},
        )
    except (OSError, KeyError, TypeError, ValueError, AttributeError, IndexError, yaml.YAMLError) as exc:
        raise InputError(f"信用评价方案文件 {p} 有误：{exc}", f"bad credit scheme file {p}: {exc}") from None
    if scheme.blacklist_grade not in {g for g, _, _ in grades}:
        raise InputError(
            f"信用评价方案 {p}：失信名单等级不在等级表中", f"{p}: blacklist grade not among grades"
        )
    _check_measures(p, scheme)
    return scheme


def _check_measures(p: Path, scheme: Scheme) -> None:
    """Payment measures are figures a province sets: out-of-range ones are refused when the file loads, not
    silently applied to claims."""
    known = {g for g, _, _ in scheme.grades}
    for g, c in scheme.consequences.items():
        share = c.get("review_share", 1.0)
        if g not in known or not isinstance(share, int | float) or not 0 <= share <= 1 or not isinstance(
                c.get("prepayment", False), bool):  # fmt: skip
            raise InputError(f"信用评价方案 {p}：等级 {g} 的结算措施有误（审核比例应在 0–1 之间，预付应为 true/false）",
                             f"{p}: bad payment measures for grade {g} (review_share 0–1, prepayment a boolean)")  # fmt: skip
    for g, m in scheme.insured_measures.items():
        months = m.get("settlement_suspend_months", 0)
        if (g not in known and g != "blacklist") or not isinstance(months, int) or not 0 <= months <= 36:
            raise InputError(f"信用评价方案 {p}：参保人员措施 {g} 有误（暂停联网结算月数应为 0–36 的整数）",
                             f"{p}: bad insured measure {g} (settlement_suspend_months an integer 0–36)")  # fmt: skip


@dataclass(frozen=True)
class Grade:
    score: int
    grade: str
    grade_zh: str
    reasons: list[dict[str, Any]]  # {item, label_zh, count, deduct}
    blacklisted: bool
    entry_items: list[str]  # items that put the subject on the blacklist

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "grade": self.grade, "grade_zh": self.grade_zh, "reasons": self.reasons,
                "blacklisted": self.blacklisted}  # fmt: skip


def grade(scheme: Scheme, subject: str, counts: dict[str, int], blacklisted: bool = False) -> Grade:
    """Score = base − Σ deduct × count (each item capped by its ``max``); the grade is the first whose floor the
    score reaches; blacklisted → the configured lowest grade, said as the first reason."""
    if subject not in scheme.items:
        raise InputError(
            f"信用评价对象应为 {'、'.join(SUBJECTS)} 之一", f"unknown credit subject {subject!r}"
        )
    reasons, score = [], scheme.base
    for item, cfg in scheme.items[subject].items():
        n = int(counts.get(item, 0))
        if n <= 0:
            continue
        deduct = int(cfg["deduct"]) * n
        deduct = min(deduct, int(cfg["max"])) if "max" in cfg else deduct
        score -= deduct
        reasons.append({"item": item, "label_zh": str(cfg["label_zh"]), "count": n, "deduct": deduct})
    score = max(score, 0)
    g = next((g for g, _, floor in scheme.grades if score >= floor), scheme.grades[-1][0])
    entry = [i for i in scheme.blacklist_entry.get(subject, ()) if counts.get(i, 0) > 0]
    if blacklisted or entry:
        g = scheme.blacklist_grade
        reasons.insert(0, {"item": "blacklist", "label_zh": "列入严重失信名单，直接评为最低等级", "count": 1,
                           "deduct": 0})  # fmt: skip
    return Grade(score, g, scheme.grade_name(g), reasons, bool(blacklisted or entry), entry)


def grade_of_score(scheme: Scheme, score: int) -> str:
    """The grade a score reaches by the floors alone (no blacklist override): a repaired subject's grade."""
    return next((g for g, _, floor in scheme.grades if score >= floor), scheme.grades[-1][0])
