"""Rule examples: the positive and negative claims every template and every local rule ships, run for real.

An example is a small set of visits, fee lines and other canonical rows plus the hits the rule must return
(``expect``: one entry per hit, its ``bkkp_sn`` list and amount, optionally ``kp_id``/``kp_id_prefix`` and
``evidence_contains``); every line not named there is a negative that must NOT be flagged. Template examples
ship in ``rules/examples/<template>.yaml`` (each names its ``rule``); a rule file's entry may carry its own
``examples:`` list. ``run_example`` ingests the rows into a throw-away store and runs the real batch engine,
so an example proves the rule end to end: ``fundguard rules test`` and the test suite both call it.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import yaml

from fundguard.core.sql import literal
from fundguard.data.ingest import ingest
from fundguard.data.store import Store
from fundguard.engine.batch import run_batch
from fundguard.rules.base import HIT_COLUMNS
from fundguard.rules.spec import EXAMPLES_DIR, NATIONAL_DIR, RuleSet, load_rules

VISIT_DEFAULTS = {
    "fixmedins_code": "H1",
    "begntime": "2025-03-01 08:00:00",
    "gend": "1",
    "brdy": "1970-01-01",
    "hosp_lv": "02",
    "insutype": "310",
    "vali_flag": "1",
}
"""What an example's visit row holds unless it says otherwise."""


@dataclass(frozen=True)
class ExampleResult:
    rule_id: str
    name: str
    source: str
    problems: tuple[str, ...] = ()
    hits: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Example:
    rule_id: str
    name: str
    source: str
    case: dict[str, Any] = field(compare=False)


def template_examples(templates: set[str] | None = None) -> list[Example]:
    """The shipped examples of the templates (all when ``templates`` is None)."""
    out = []
    for f in sorted(EXAMPLES_DIR.glob("*.yaml")):
        if templates is not None and f.stem not in templates:
            continue
        for case in yaml.safe_load(f.read_text(encoding="utf-8")) or []:
            out.append(Example(case["rule"], case["name"], f"{f.name}", case))
    return out


def rule_examples(rules: RuleSet) -> list[Example]:
    """The examples carried by the rules themselves (local rules must carry them)."""
    return [
        Example(r.id, case.get("name") or f"{r.id}-{i + 1}", r.source_file, case)
        for r in rules.rules.values()
        for i, case in enumerate(r.examples)
    ]


def _write(path: Path, rows: list[dict]) -> Path:
    header = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, header)
        w.writeheader()
        w.writerows(rows)
    return path


def build_store(
    tmp: Path, visits: list[dict], lines: list[dict], tables: dict[str, list[dict]] | None = None
) -> Path:
    """A real workspace store from example rows: visits and lines (defaults filled in: a line takes its
    visit's institution, person and day) plus any other canonical table given by name in ``tables``."""
    vs = [{**VISIT_DEFAULTS, **v} for v in visits]
    by_id = {v["mdtrt_id"]: v for v in vs}
    ls = []
    for raw in lines:
        v = by_id[raw["mdtrt_id"]]
        cnt = Decimal(str(raw.get("cnt", "1")))
        det = Decimal(str(raw["det_item_fee_sumamt"]))
        ls.append(
            {
                "setl_id": "S" + raw["mdtrt_id"],
                "fixmedins_code": v["fixmedins_code"],
                "psn_no": v["psn_no"],
                "fee_ocur_time": v["begntime"].replace("08:00", "09:00"),
                "cnt": str(cnt),
                "pric": str(det / cnt),
                "inscp_amt": str(det),
                "chrgitm_lv": "02",
                "hilist_name": raw["hilist_code"],
                "vali_flag": "1",
                **raw,
            }
        )
    src, ws = tmp / "src", tmp / "ws"
    src.mkdir()
    files = [_write(src / f"{name}.csv", rows) for name, rows in
             (("mdtrt_d", vs), ("fee_list_d", ls), *(tables or {}).items()) if rows]  # fmt: skip
    report = ingest(files, ws, progress=False)
    bad = [
        f"{Path(f.path).name}：{f.reject_zh or f'{f.rows_quarantined} 行被隔离'} / "
        f"{f.reject_en or f'{f.rows_quarantined} rows quarantined'}"
        for f in report.files
        if f.status == "rejected" or f.rows_quarantined or not f.rows_loaded
    ]
    if bad:
        raise ValueError("示例数据无效 example rows invalid: " + "; ".join(bad))
    return ws


def check_hits(example: Example, got: list[dict]) -> list[str]:
    """What is wrong with ``got`` (hit dicts) against the example's ``expect`` (empty list: all good)."""
    want = example.case.get("expect") or []
    got = sorted(got, key=lambda h: h["bkkp_sn"])
    problems = []
    if [g["bkkp_sn"] for g in got] != [e["bkkp_sn"] for e in want]:
        problems.append(
            f"命中明细不符 hits differ: 期望 expected {[e['bkkp_sn'] for e in want]}，"
            f"实得 got {[g['bkkp_sn'] for g in got]}"
        )
        return problems
    for g, e in zip(got, want, strict=True):
        where = f"{g['bkkp_sn']}: "
        if g["rule_id"] != example.rule_id:
            problems.append(where + f"规则 rule {g['rule_id']} ≠ {example.rule_id}")
        if g["amount"] != Decimal(str(e["amount"])):
            problems.append(where + f"金额 amount {g['amount']} ≠ {e['amount']}")
        if not (g["evidence_zh"] and g["psn_no"] and g["mdtrt_id"]):
            problems.append(where + "缺少证据、人员或就诊 missing evidence/person/visit")
        if "evidence_contains" in e and e["evidence_contains"] not in (g["evidence_zh"] or ""):
            problems.append(where + f"证据未含 evidence lacks {e['evidence_contains']!r}: {g['evidence_zh']}")
        if "kp_id" in e and g["kp_id"] != e["kp_id"]:
            problems.append(where + f"知识点 kp_id {g['kp_id']} ≠ {e['kp_id']}")
        if "kp_id_prefix" in e and not str(g["kp_id"]).startswith(e["kp_id_prefix"]):
            problems.append(where + f"知识点 kp_id {g['kp_id']} 不以 {e['kp_id_prefix']} 开头")
    return problems


def run_example(rules: RuleSet, example: Example, tmp: Path | None = None) -> ExampleResult:
    """Run one example through a fresh store and the batch engine with its rule from ``rules``."""
    base = ExampleResult(example.rule_id, example.name, example.source)
    if example.rule_id not in rules.rules:
        return replace(base, problems=(f"未知规则 unknown rule {example.rule_id}",))
    with tempfile.TemporaryDirectory(prefix="fg-example-", dir=tmp) as d:
        case = example.case
        try:
            ws = build_store(Path(d), case.get("visits", []), case.get("lines", []), case.get("tables"))
        except (ValueError, KeyError) as exc:
            return replace(base, problems=(str(exc),))
        res = run_batch(ws, rules.select([example.rule_id]), progress=False)
        with duckdb.connect() as con:
            cur = con.execute(f"SELECT * FROM read_parquet({literal(str(res.hits_path))})")
            cols = [c[0] for c in cur.description]
            got = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        problems = check_hits(example, got) + realtime_differences(ws, rules, example.rule_id, got)
        return replace(base, problems=tuple(problems), hits=len(got))


def _hit_key(h: dict) -> tuple:
    return tuple(str(h[c]) if c == "amount" else h[c] for c in HIT_COLUMNS) if h else ()


def realtime_differences(ws: Path, rules: RuleSet, rule_id: str, batch_hits: list[dict]) -> list[str]:
    """Every stored visit replayed through the real-time auditor must give exactly the batch's hits of the
    rule on that visit, evidence included (nothing to check for a batch-only rule)."""
    from fundguard.engine.realtime import RealtimeAuditor, claim_from_store, realtime_rules

    one = rules.select([rule_id])
    stages = tuple(s for s in ("事前", "事中") if s in one[rule_id].stages)
    if not stages or not realtime_rules(one, stages):
        return []
    problems = []
    store = Store(ws).connect()
    try:
        visits = [
            v for (v,) in store.execute("SELECT DISTINCT mdtrt_id FROM fee_list_d ORDER BY 1").fetchall()
        ]
        with RealtimeAuditor(ws, one, stage=stages, history_since=dt.date.min) as auditor:
            for v in visits:
                got = sorted(_hit_key(h) for h in auditor.audit(claim_from_store(store, v)))
                want = sorted(
                    _hit_key({**h, "bkkp_sn": list(h["bkkp_sn"])}) for h in batch_hits if h["mdtrt_id"] == v
                )
                if got != want:
                    problems.append(
                        f"实时审核与批量不一致 real time differs from batch on {v}: {got} != {want}"
                    )
    finally:
        store.close()
    return problems


def missing_examples(rules: RuleSet) -> list[str]:
    """Local rules (defined in a file outside the national folder; overrides of national rules are proved by
    the national examples) lacking a positive or a negative example."""
    national = set(load_rules().rules)
    out = []
    for r in rules.rules.values():
        if r.id in national or not r.source_file or Path(r.source_file).parent == NATIONAL_DIR:
            continue
        lacks = [
            (zh, en)
            for zh, en, has in (
                ("正例", "positive", any(c.get("expect") for c in r.examples)),
                ("反例", "negative", any(_has_negative(c) for c in r.examples)),
            )
            if not has
        ]
        if lacks:
            out.append(
                f"{r.id}（{r.source_file}）缺少{'和'.join(z for z, _ in lacks)}示例 / "
                f"lacks a {' and a '.join(e for _, e in lacks)} example"
            )
    return out


def _has_negative(case: dict) -> bool:
    """A case with at least one line that no expected hit names: a claim the rule must leave alone."""
    flagged = {sn for e in case.get("expect") or [] for sn in e["bkkp_sn"]}
    return any(ln["bkkp_sn"] not in flagged for ln in case.get("lines") or [])
