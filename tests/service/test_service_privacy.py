"""Findings 4, 5 and 6 of issue 10, per role: a hospital's scorecard counts only the flags it was told of and
an un-notified clue answers like another hospital's (404 both); evidence shown to a hospital names no other
institution; third-party inspectors see patients masked in every free text and get no documents."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from fundguard.service import cases, clues, scorecard
from fundguard.service.errors import NotFound, PermissionDenied
from fundguard.service.models import Clue, ClueHit, Institution

if TYPE_CHECKING:
    from conftest import World

ID_NO = "110101199003071234"
PHONE = "13812345678"


def _step(world: World, username: str, clue_id: int, action: str, **fields: object) -> dict:
    actor = world.actor(username)
    with world.db.session() as s:
        version = clues.get_clue(s, actor, clue_id)["version"]
        return clues.act_on_clue(s, actor, clue_id, action, version, **fields)


def _hospital_clues(world: World) -> list[int]:
    hosp = world.actor("yiyuan")
    with world.db.session() as s:
        q = sa.select(Clue.id).where(Clue.fixmedins_code == hosp.fixmedins_code).order_by(Clue.id)
        return list(s.execute(q).scalars())


def test_hospital_scorecard_counts_only_notified_flags(world: World) -> None:
    hosp, city = world.actor("yiyuan"), world.actor("shi")
    told = _hospital_clues(world)[0]
    _step(world, "xian", told, "initial_confirm")
    _step(world, "shi", told, "review_confirm")
    with world.db.session() as s:
        flags = sum(r["flags"] for r in scorecard.scorecard(s, hosp))
        listed = clues.list_clues(s, hosp, size=100)["total"]
        everything = sum(r["flags"] for r in scorecard.scorecard(s, city))
    assert flags == listed == 1 and everything > flags


def test_unnotified_and_other_hospitals_clues_answer_alike(world: World) -> None:
    hosp = world.actor("yiyuan")
    own_hidden = _hospital_clues(world)[0]
    with world.db.session() as s:
        other = s.execute(
            sa.select(Clue.id).where(Clue.fixmedins_code != hosp.fixmedins_code).order_by(Clue.id)
        ).scalar()
        missing = s.execute(sa.select(sa.func.max(Clue.id))).scalar() + 1000
        answers = []
        for cid in (own_hidden, other, missing):
            with pytest.raises(NotFound) as err:
                clues.get_clue(s, hosp, cid)
            answers.append((type(err.value), err.value.zh.replace(str(cid), "#")))
    assert len(set(answers)) == 1
    with world.db.session() as s:  # a county officer asking for another county's clue: 404 too, not 403
        county = world.actor("xian")
        far = s.execute(sa.select(Clue.id).where(Clue.admdvs != county.admdvs).order_by(Clue.id)).scalar()
        with pytest.raises(NotFound):
            clues.get_clue(s, county, far)


def test_hospital_evidence_names_no_other_institution(world: World) -> None:
    hosp, city = world.actor("yiyuan"), world.actor("shi")
    cid = _hospital_clues(world)[0]
    with world.db.session() as s:
        other = (
            s.execute(
                sa.select(Institution)
                .where(Institution.fixmedins_code != hosp.fixmedins_code)
                .order_by(Institution.name)
            )
            .scalars()
            .first()
        )
        hit = (
            s.execute(sa.select(ClueHit).where(ClueHit.clue_id == cid).order_by(ClueHit.id)).scalars().first()
        )
        hit.evidence_zh = (  # what the visit-overlap rule writes
            f"参保人于2025-05-20 09:00在本院（门诊）就诊结算120.00元，而同一时间正在{other.name}住院（入院"
            f"2025-05-18 10:00，出院2025-05-25 09:00，就诊ID MD{other.fixmedins_code}01），同一人同时在两地就医"
        )
        s.commit()
    _step(world, "xian", cid, "initial_confirm")
    _step(world, "shi", cid, "review_confirm")
    with world.db.session() as s:
        seen = {e["evidence_zh"] for e in clues.get_clue(s, hosp, cid)["evidence"]}
        full = {e["evidence_zh"] for e in clues.get_clue(s, city, cid)["evidence"]}
    text = next(t for t in seen if "两地就医" in t)
    assert "同一时间正在其他定点医疗机构住院" in text
    for secret in (other.name, other.fixmedins_code, "2025-05-18", "就诊ID"):
        assert secret not in text
    assert any(other.name in t and "就诊ID" in t for t in full)  # supervisors keep the full evidence


def test_inspector_sees_free_text_masked(world: World) -> None:
    inspector, county = world.actor("disanfang"), world.actor("xian")
    cid = _hospital_clues(world)[0]
    with world.db.session() as s:
        name = s.execute(
            sa.select(ClueHit.psn_name).where(ClueHit.clue_id == cid, ClueHit.psn_name != "")
        ).scalar()
    typed = f"患者{name}（身份证{ID_NO}，电话{PHONE}）自述未住院"
    _step(world, "xian", cid, "initial_confirm", comment=typed)
    with world.db.session() as s:
        plain = clues.get_clue(s, county, cid)
        masked = clues.get_clue(s, inspector, cid)
    assert typed in {e["comment"] for e in plain["events"]}
    text = " ".join(e["comment"] for e in masked["events"])
    for secret in (name, ID_NO, PHONE):
        assert secret not in text
    assert "自述未住院" in text and name[0] + "*" in text


def test_inspector_case_text_masked_and_documents_denied(world: World) -> None:
    cid = _hospital_clues(world)[0]
    _step(world, "xian", cid, "initial_confirm")
    _step(world, "shi", cid, "review_confirm")
    _step(world, "yiyuan", cid, "accept", comment=f"联系电话{PHONE}")
    _step(world, "xian", cid, "verify_confirm", confirmed_amount="60000")
    county, inspector = world.actor("xian"), world.actor("disanfang")
    with world.db.session() as s:
        v = clues.get_clue(s, county, cid)["version"]
        case = cases.open_case(s, county, cid, v)
        c = cases.act_on_case(s, county, case["id"], "start_investigation", case["version"], officers=["xian", "shi2"],
                              comment=f"询问参保人，身份证{ID_NO}")  # fmt: skip
    with world.db.session() as s:
        plain = cases.get_case(s, county, c["id"])
        masked = cases.get_case(s, inspector, c["id"])
        assert ID_NO in str(plain["timeline"]) and ID_NO not in str(masked)
        assert plain["documents"] and masked["documents"] == []
        kind = plain["documents"][0]["kind"]
        assert cases.case_document(s, county, c["id"], kind)[1]
        with pytest.raises(PermissionDenied):
            cases.case_document(s, inspector, c["id"], kind)
