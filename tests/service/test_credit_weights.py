"""Credit grades into the 双随机 draw: ``weigh_targets`` multiplies each target's risk by its grade's weight, and
over many seeds a blacklisted (lowest-grade) institution is drawn more often than without the hook; the sealed
record still verifies."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fundguard.service import credit
from fundguard.service.inspections.registries import target_pool
from fundguard.supervision import draws

if TYPE_CHECKING:
    from tests.service.conftest import World


def test_lower_grades_are_drawn_more_often(world: World) -> None:
    shi = world.actor("shi")
    inst = world.actor("yiyuan").fixmedins_code
    with world.db.session() as s:
        credit.recompute(s, shi)
        credit.add_to_blacklist(s, shi, subject_type="institution", subject_id=inst, reason="欺诈骗保")
        credit.recompute(s, shi)
        pool = target_pool(s, shi)
        weighted = credit.weigh_targets(s, pool)
    mine = next(t for t in weighted if t["code"] == inst)
    plain = next(t for t in pool if t["code"] == inst)
    assert mine["credit_grade"] == "D" and mine["risk"] == plain["risk"] * 8
    assert all(t["credit_weight"] <= 8 for t in weighted) and len(weighted) == len(pool) > 3
    rules = draws.Rules(ratio=0.2, strata=(), team_size=2)

    def drawn(targets: list[dict]) -> int:
        return sum(
            inst
            in {
                t["code"]
                for t in draws.compute({"targets": targets, "inspectors": []}, rules, f"{i:064x}")["targets"]
            }
            for i in range(200)
        )

    assert drawn(weighted) > drawn(pool)
    rec = draws.draw({"targets": weighted, "inspectors": []}, rules, "公开种子")
    assert draws.verify(rec) == []


def test_a_draw_weighs_model_risk_and_credit_and_still_verifies(world: World, tmp_path: Path) -> None:
    """``make_draw`` with ``pool_weights``: the model's risk weight for an institution (from the newest leads run)
    is added to its registry risk, then its credit grade multiplies it; both are sealed into the record."""
    import polars as pl

    from fundguard.core.workspace import Workspace
    from fundguard.service import inspections
    from fundguard.service.draw_weights import pool_weights

    shi, inst = world.actor("shi"), world.actor("yiyuan").fixmedins_code
    run = Workspace(tmp_path).lead_run("r1")
    run.mkdir(parents=True)
    pl.DataFrame({"entity_type": ["institution"], "entity_id": [inst], "model_name": ["挂床住院"], "score": [9.5],
                  "reasons": [["平均住院日高于同类 3 倍"]], "institutions": [[inst]]}).write_parquet(run / "leads.parquet")  # fmt: skip
    with world.db.session() as s:
        credit.recompute(s, shi)
        plain = next(t for t in target_pool(s, shi) if t["code"] == inst)
        d = inspections.make_draw(
            s, shi, title="加权抽查", seed_value="见证值-1", weigh=pool_weights(tmp_path)
        )
        rec = inspections.draw_record(s, shi, d["id"])
        assert inspections.verify_draw(s, shi, d["id"])["ok"]
    mine = next(t for t in rec["pools"]["targets"] if t["code"] == inst)
    assert mine["model_risk"] > 0 and mine["credit_grade"]
    assert mine["risk"] == (plain["risk"] + mine["model_risk"]) * mine["credit_weight"]
    others = [t for t in rec["pools"]["targets"] if t["code"] != inst]
    assert others and all(t["model_risk"] == 0 for t in others)
