"""The national rules over a synthetic 20k-line city: recall 1 on every planted line of the implemented
violation types, and no false positives on a clean city (violation_scale = 0)."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
import yaml

from fundguard.data.ingest import ingest
from fundguard.engine import run_batch
from fundguard.rules import load_rules
from fundguard.synth import CityConfig, generate_city


def _expectations() -> dict[str, set[str]]:
    """``city_expectations/*.yaml``: violation type → the rules that must flag it (one file per rule family)."""
    out: dict[str, set[str]] = {}
    for f in sorted((Path(__file__).parent / "city_expectations").glob("*.yaml")):
        for vtype, rule_ids in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).items():
            out.setdefault(vtype, set()).update(rule_ids)
    return out


RULES_OF = _expectations()


def _city(tmp: Path, scale: float) -> tuple[Path, Path]:
    out = tmp / "city"
    generate_city(
        out, CityConfig(seed=11, fee_lines=20_000, fmt="parquet", violation_scale=scale), progress=False
    )
    ws = tmp / "ws"
    ingest([p for p in sorted(out.iterdir()) if p.is_dir()], ws, progress=False)
    return out, ws


def _evaluate(out: Path, ws: Path) -> dict:
    res = run_batch(ws, load_rules(), progress=False)
    with duckdb.connect() as con:
        hits = con.execute(
            f"SELECT rule_id, bkkp_sn, hilist_code, mdtrt_id, fixmedins_code FROM read_parquet('{res.hits_path}')"
        ).fetchall()
    flagged: dict[str, set[str]] = defaultdict(set)
    flagged_visit: dict[str, set[str]] = defaultdict(set)  # visit-level ground truth has no lines
    flagged_item: dict[tuple[str, str], set[str]] = defaultdict(set)  # institution × item (进销存) truth
    for rule, lines, code, mdtrt_id, inst in hits:
        flagged_visit[mdtrt_id].add(rule)
        flagged_item[(inst, code)].add(rule)
        for b in lines:
            flagged[b].add(rule)
    gt = list(csv.DictReader((out / "ground_truth.csv").open(encoding="utf-8")))
    gt_types: dict[str, set[str]] = defaultdict(set)
    gt_visit_types: dict[str, set[str]] = defaultdict(set)
    gt_item_types: dict[tuple[str, str], set[str]] = defaultdict(set)
    for g in gt:
        if not g["bkkp_sn"] and g["mdtrt_id"]:
            gt_visit_types[g["mdtrt_id"]].add(g["violation_type"])
        elif not g["bkkp_sn"]:
            gt_item_types[(g["fixmedins_code"], g["hilist_code"])].add(g["violation_type"])
        for b in filter(None, g["bkkp_sn"].split(";")):
            gt_types[b].add(g["violation_type"])
    missed, planted = {}, {}
    for vt, rules in RULES_OF.items():
        rows = [g for g in gt if g["violation_type"] == vt]
        planted[vt] = len(rows)
        missed[vt] = [
            g["violation_id"]
            for g in rows
            if (
                any(not flagged[b] & rules for b in g["bkkp_sn"].split(";"))
                if g["bkkp_sn"]
                else not (
                    flagged_visit[g["mdtrt_id"]]
                    if g["mdtrt_id"]
                    else flagged_item[(g["fixmedins_code"], g["hilist_code"])]
                )
                & rules
            )
        ]
    other, outside = defaultdict(list), defaultdict(list)
    for rule, lines, code, mdtrt_id, inst in hits:
        types = {vt for vt, rs in RULES_OF.items() if rule in rs}
        on = set().union(gt_visit_types.get(mdtrt_id, set()), gt_item_types.get((inst, code), set()),
                         *(gt_types.get(b, set()) for b in lines))  # fmt: skip
        if not on & types:
            (other if on else outside)[rule].append(code)
    return {"result": res, "planted": planted, "missed": missed, "other_type": other, "outside_gt": outside}


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit_city")


def test_recall_on_planted_city(tmp: Path) -> None:
    ev = _evaluate(*_city(tmp / "planted", 1.0))
    print(json.dumps({k: ev[k] for k in ("planted", "other_type", "outside_gt")}, ensure_ascii=False))
    assert all(n > 0 for n in ev["planted"].values()), ev["planted"]
    assert all(not m for m in ev["missed"].values()), ev["missed"]
    run = json.loads((ev["result"].run_dir / "run.json").read_text(encoding="utf-8"))
    assert run["lines_scanned"] > 19_000 and run["ruleset_version"] and run["input_fingerprint"]


def test_no_false_positives_on_clean_city(tmp: Path) -> None:
    ev = _evaluate(*_city(tmp / "clean", 0.0))
    # The clean city still holds compliant uses of restricted items (the negatives): none may be flagged.
    assert not ev["outside_gt"], ev["outside_gt"]
