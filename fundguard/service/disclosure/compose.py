"""The content of each disclosure kind, composed once and masked per PIPL (个人信息保护法): persons (individual
parties, patients, staff) appear only as a family name and asterisks, ID and phone numbers are masked wherever
they were typed, including the officer's own free text. Institutions are legal entities and keep their names.

Content is a plain structure every page renders the same way (the public page, the workbench, the static
export): ``{kind, kind_zh, title, paragraphs: [str], facts: [[label, value]], tables: [{caption, columns,
rows}]}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fundguard.service import credit
from fundguard.service.errors import ValidationFailed, not_found
from fundguard.service.models import (
    Case,
    Clue,
    ClueHit,
    Draw,
    FlightInspection,
    Institution,
    Penalty,
    Staff,
    money,
)
from fundguard.service.scope import Actor, mask_name, mask_text, require_sees, scope_filter, sees
from fundguard.service.timing import today
from fundguard.supervision import workflow as wf
from fundguard.supervision.penalties import BEHAVIOURS

KINDS = {
    "typical_case": "典型案例曝光",
    "flight_notice": "年度飞行检查公告",
    "draw": "双随机抽查结果公示",
    "fund_use": "定点医药机构医保基金使用情况公示",
    "joint_punishment": "联合惩戒名单",
}


def _masker(names: Iterable[str], ids: Iterable[str]) -> Any:
    names, ids = tuple(n for n in names if n), tuple(i for i in ids if i)
    return lambda text: mask_text(text or "", names, ids)


def _content(kind: str, title: str, paragraphs: list[str], facts: list[list[str]],
             tables: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    return {"kind": kind, "kind_zh": KINDS[kind], "title": title, "paragraphs": [p for p in paragraphs if p],
            "facts": facts, "tables": tables or []}  # fmt: skip


def typical_case(session: Session, actor: Actor, case_id: int, summary: str) -> tuple[dict, Case]:
    """典型案例: a closed case (结案), the party an institution by name or a person masked; findings and the
    officer's summary masked for the persons of the case (party, patients of its clue, the institution's staff)."""
    c = session.get(Case, int(case_id))
    if c is None:
        raise not_found("案件", "case", case_id)
    require_sees(actor, c.admdvs, c.fixmedins_code, "该案件", "this case")
    if c.status != "closed":
        raise ValidationFailed("只有已结案的案件可以作为典型案例公开", "only a closed case can be published")
    hits = session.execute(select(ClueHit.psn_name, ClueHit.psn_no).where(ClueHit.clue_id == c.clue_id)).all() \
        if c.clue_id else []  # fmt: skip
    staff = session.execute(
        select(Staff.name, Staff.id_no).where(Staff.fixmedins_code == c.fixmedins_code)
    ).all()
    person = c.party_type == "individual"
    names = [n for n, _ in hits] + [n for n, _ in staff] + ([c.party_name] if person else [])
    ids = [i for _, i in hits] + [i for _, i in staff] + ([c.party_id] if person else [])
    mask = _masker(names, ids)
    inst = session.get(Institution, c.fixmedins_code)
    party = mask_name(c.party_name) if person else c.party_name
    decision = json.loads(c.decision_json or "{}")
    pen = session.execute(select(Penalty).where(Penalty.case_id == c.id)).scalars().first()
    facts = [["当事人", party], ["定点机构", inst.name if inst else c.fixmedins_code],
             ["违法行为", BEHAVIOURS.get(c.behaviour_code, c.behaviour_code) or "—"],
             ["处理决定", str(decision.get("type") or "—")],
             ["基金损失（元）", str(money(c.loss_amount if c.loss_amount is not None else c.amount_at_issue))],
             ["结案日期", c.closed_at.isoformat() if c.closed_at else "—"]]  # fmt: skip
    if pen is not None:
        facts += [
            ["责令退回（元）", str(money(pen.refund_amount))],
            ["罚款（元）", str(money(pen.fine_amount))],
        ]
        if pen.suspension_months:
            facts.append(["暂停医保服务（月）", str(pen.suspension_months)])
    title = f"{inst.name if inst and not person else party}违规使用医保基金案"
    paragraphs = [mask(summary), ("查明事实：" + mask(c.findings)) if c.findings else ""]
    return _content("typical_case", title, paragraphs, facts), c


def flight_notice(session: Session, actor: Actor, year: int, text: str) -> dict:
    """年度飞行检查公告: the officer's announcement and the year's flight inspections in scope (institution,
    trigger, stage), free text masked."""
    rows = session.execute(
        select(FlightInspection, Institution.name)
        .join(Institution, Institution.fixmedins_code == FlightInspection.fixmedins_code, isouter=True)
        .where(scope_filter(actor, FlightInspection.admdvs, FlightInspection.fixmedins_code),
               func.extract("year", FlightInspection.created_at) == int(year))
        .order_by(FlightInspection.id)
    ).all()  # fmt: skip
    table = {"caption": f"{year} 年飞行检查", "columns": ["检查编号", "被检查机构", "启动方式", "进展"],
             "rows": [[f.number, name or f.fixmedins_code, wf.FLIGHT_TRIGGERS.get(f.trigger, f.trigger),
                       wf.FLIGHT_STATES.get(f.status, f.status)] for f, name in rows]}  # fmt: skip
    return _content("flight_notice", f"{year} 年度医保基金飞行检查公告", [_masker((), ())(text)],
                    [["年度", str(year)], ["飞行检查（家次）", str(len(rows))]], [table])  # fmt: skip


def draw_record(session: Session, actor: Actor, draw_id: int) -> tuple[dict, Draw]:
    """双随机抽查结果: a published draw's record (seed value, hash, targets and teams) — verifiable by anyone."""
    from fundguard.service.inspections.draws import _public_result

    d = session.get(Draw, int(draw_id))
    if d is None:
        raise not_found("抽取记录", "draw", draw_id)
    require_sees(actor, d.admdvs, None, "该抽取记录", "this draw")
    if d.status != "published":
        raise ValidationFailed("只有已公开的抽取记录可以公示", "only a published draw can be disclosed")
    rec = json.loads(d.record_json)
    targets = _public_result(rec)
    table = {"caption": "抽取结果", "columns": ["机构编码", "机构名称", "检查组（组长）"],
             "rows": [[t["code"], t["name"], "、".join(m["name"] + ("（组长）" if m["leader"] else "")
                                                       for m in t["team"])] for t in targets]}  # fmt: skip
    facts = [["抽取编号", d.number], ["见证随机值", d.seed_value], ["记录哈希（SHA-256）", d.hash],
             ["检查对象库（家）", str(len(rec["pools"]["targets"]))],
             ["执法检查人员库（人）", str(len(rec["pools"]["inspectors"]))], ["抽中（家）", str(len(targets))]]  # fmt: skip
    text = "本次抽取按公开的规则与见证随机值计算，任何人可据记录复算核验。"
    return _content("draw", d.title, [text], facts, [table]), d


def latest_year(workspace: Path | None) -> int | None:
    """The latest settlement year in the claims store (the natural default of a fund-use publication)."""
    if workspace is None:
        return None
    from fundguard.data.store import Store

    con = Store(Path(workspace)).connect()
    try:
        y = con.execute("SELECT max(year(setl_time)) FROM setl_d_valid").fetchone()[0]
    finally:
        con.close()
    return int(y) if y is not None else None


def _store_year(workspace: Path | None, code: str, year: int) -> tuple[Decimal, int, list[list[str]]]:
    """Fund paid, settlements and the five largest items of one institution in one year, from the claims store."""
    if workspace is None:
        return Decimal("0"), 0, []
    from fundguard.data.store import Store

    con = Store(Path(workspace)).connect()
    try:
        paid, count = con.execute(
            "SELECT coalesce(sum(fund_pay_sumamt), 0), count(*) FROM setl_d_valid "
            "WHERE fixmedins_code = ? AND year(setl_time) = ?", [code, year]).fetchone()  # fmt: skip
        items = con.execute(
            "SELECT hilist_name, sum(det_item_fee_sumamt) AS amt FROM fee_list_d_valid "
            "WHERE fixmedins_code = ? AND year(fee_ocur_time) = ? GROUP BY hilist_name "
            "ORDER BY amt DESC, hilist_name LIMIT 5", [code, year]).fetchall()  # fmt: skip
    finally:
        con.close()
    return money(paid), int(count), [[str(n), str(money(a))] for n, a in items]


def fund_use(session: Session, actor: Actor, fixmedins_code: str, year: int,
             workspace: Path | None) -> tuple[dict, Institution]:  # fmt: skip
    """定点医药机构医保基金使用情况公示: fund paid and settlements (store), the main items by amount (store), and
    the violations handled: confirmed clues with their amounts and closed cases (service database)."""
    inst = session.get(Institution, fixmedins_code)
    if inst is None:
        raise not_found("定点机构", "institution", fixmedins_code)
    require_sees(actor, inst.admdvs, inst.fixmedins_code, "该机构", "this institution")
    paid, settlements, items = _store_year(workspace, inst.fixmedins_code, int(year))
    confirmed = session.execute(
        select(Clue.confirmed_amount)
        .where(Clue.fixmedins_code == inst.fixmedins_code, Clue.confirmed_amount.is_not(None),
               Clue.period.startswith(f"{int(year)}-"))).scalars().all()  # fmt: skip
    cases = session.execute(select(Case).where(Case.fixmedins_code == inst.fixmedins_code,
                                               Case.status == "closed")).scalars().all()  # fmt: skip
    handled = [[c.number, BEHAVIOURS.get(c.behaviour_code, c.behaviour_code) or "—",
                str(money(c.loss_amount if c.loss_amount is not None else c.amount_at_issue)),
                c.closed_at.isoformat() if c.closed_at else ""] for c in cases]  # fmt: skip
    facts = [["机构名称", inst.name], ["机构编码", inst.fixmedins_code], ["年度", str(year)],
             ["医保基金支付（元）", str(paid)], ["结算人次", str(settlements)],
             ["查实违规线索（条）", str(len(confirmed))], ["查实违规金额（元）", str(money(sum(confirmed, Decimal(0))))],
             ["结案查处（件）", str(len(handled))]]  # fmt: skip
    tables = [{"caption": "主要医药项目（按费用）", "columns": ["项目名称", "费用（元）"], "rows": items},
              {"caption": "违规查处情况", "columns": ["案件编号", "违法行为", "基金损失（元）", "结案日期"],
               "rows": handled}]  # fmt: skip
    return _content("fund_use", f"{inst.name} {year} 年度医保基金使用情况公示", [], facts, tables), inst


def joint_punishment(session: Session, actor: Actor) -> dict:
    """联合惩戒名单: the current blacklist entries marked public, in the actor's region, persons masked."""
    entries = [
        e for e in credit.public_blacklist(session) if sees(actor, e["admdvs"], e["fixmedins_code"] or None)
    ]
    rows = [[e["subject_type_zh"], e["subject_name"], e["subject_id"], e["reason"], e["entered_on"], e["until"]]
            for e in entries]  # fmt: skip
    table = {"caption": "严重失信名单（联合惩戒）", "columns": ["对象类型", "名称/姓名", "编码", "列入事由",
                                                          "列入日期", "截止日期"], "rows": rows}  # fmt: skip
    day = today().isoformat()
    return _content("joint_punishment", f"医保领域联合惩戒名单（{day}）",
                    ["依据医保信用管理规定，以下严重失信主体纳入联合惩戒。"], [["名单条数", str(len(rows))]], [table])  # fmt: skip
