"""Credit grades into the 双随机 draw: ``weigh_targets`` multiplies each target's risk by its grade's weight, and
over many seeds a blacklisted (lowest-grade) institution is drawn more often than without the hook; the sealed
record still verifies."""

from __future__ import annotations

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
                for t in draws.compute({"targets": targets, "inspectors": []}, rules, f"s{i}")["targets"]
            }
            for i in range(200)
        )

    assert drawn(weighted) > drawn(pool)
    rec = draws.draw({"targets": weighted, "inspectors": []}, rules, "公开种子")
    assert draws.verify(rec) == []
