"""双随机一公开 draws in the service: the pools are read from the registries, the draw is computed and sealed by
``supervision.draws``, and stored whole (``record_json``, ``hash``). A draw is never redone in place: a
redraw is a new record that cites the old one's number, hash and the reason, and marks it superseded. A
published (公开) draw is visible to every logged-in user, without the recusal facts or risk weights; the full
record (what ``fundguard inspections verify-draw`` checks) stays with the supervisors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fundguard.core.errors import InputError
from fundguard.service import record
from fundguard.service.errors import InvalidTransition, ValidationFailed, not_found
from fundguard.service.inspections.registries import inspector_pool, target_pool
from fundguard.service.models import Draw, InspectionTarget, utcnow
from fundguard.service.scope import Actor, region_prefix, require_sees, sees
from fundguard.service.timing import today
from fundguard.supervision import draws
from fundguard.supervision.roles import INSPECTION_MANAGE, INSPECTION_VIEW

STATUS_ZH = {"drawn": "已抽取", "published": "已公开", "superseded": "已重抽作废"}


def _public_result(rec: dict[str, Any]) -> list[dict]:
    names = {i["id"]: (i["name"], i["cert_no"]) for i in rec["pools"]["inspectors"]}
    return [{"code": t["code"], "name": t["name"], "admdvs": t["admdvs"],
             "team": [{"name": names[i][0], "cert_no": names[i][1], "leader": i == t["leader"]}
                      for i in t["team"] if i in names]}
            for t in rec["result"]["targets"]]  # fmt: skip


def _item(d: Draw, *, full: bool) -> dict:
    rec = json.loads(d.record_json)
    out = {
        "id": d.id, "number": d.number, "title": d.title, "admdvs": d.admdvs, "status": d.status,
        "status_zh": STATUS_ZH.get(d.status, d.status), "seed_value": d.seed_value, "seed": rec["seed"],
        "hash": d.hash, "previous_id": d.previous_id, "previous": rec.get("previous"), "reason": d.reason,
        "created_at": d.created_at.isoformat(), "created_by": d.created_by,
        "published_at": d.published_at.isoformat() if d.published_at else None,
        "rules": rec["rules"], "targets": _public_result(rec),
        "pool_sizes": {"targets": len(rec["pools"]["targets"]), "inspectors": len(rec["pools"]["inspectors"])},
        "strata": rec["result"]["strata"], "unstaffed": rec["result"]["unstaffed"],
    }  # fmt: skip
    if full:
        out["recused"] = {t["code"]: t["recused"] for t in rec["result"]["targets"] if t["recused"]}
        why = {t["code"]: t["focus_zh"] for t in rec["pools"]["targets"] if t.get("focus_zh")}
        out["focus"] = {t["code"]: why[t["code"]] for t in rec["result"]["targets"] if t["code"] in why}
    return out


def make_draw(session: Session, actor: Actor, *, title: str, seed_value: str, rules: dict[str, Any] | None = None,
              previous_id: int | None = None, reason: str = "",
              weigh: Callable[[Session, list[dict]], list[dict]] | None = None) -> dict:  # fmt: skip
    """Draw targets and teams from the actor's registries; ``previous_id`` with ``reason`` for a redraw;
    ``weigh`` adds the weights the registry does not hold (``service.draw_weights``) before the pool is sealed."""
    actor.require(INSPECTION_MANAGE)
    if not (title or "").strip():
        raise ValidationFailed("抽查任务名称不能为空", "a draw needs a title")
    previous = None
    if previous_id is not None:
        old = _load(session, actor, previous_id)
        if old.status == "superseded":
            raise InvalidTransition("该抽取已被重抽作废，请引用最新一次抽取", "that draw was already redrawn")
        previous = {"number": old.number, "hash": old.hash, "reason": (reason or "").strip()}
    year = today().year
    seq = session.execute(
        select(func.count()).select_from(Draw).where(Draw.admdvs == actor.admdvs)
    ).scalar_one()
    number = f"SJ{actor.admdvs}-{year}-{seq + 1:04d}"
    targets = target_pool(session, actor)
    try:
        rec = draws.draw(
            {"targets": weigh(session, targets) if weigh else targets, "inspectors": inspector_pool(session, actor)},
            draws.Rules.from_dict(rules or {}), seed_value,
            meta={"number": number, "title": title.strip(), "admdvs": actor.admdvs, "drawn_by": actor.username,
                  "drawn_at": utcnow().isoformat(timespec="seconds")},
            previous=previous,
        )  # fmt: skip
    except InputError as exc:
        raise ValidationFailed(exc.zh, exc.en) from None
    d = Draw(number=number, title=title.strip(), admdvs=actor.admdvs, seed_value=str(seed_value),
             hash=rec["hash"], record_json=json.dumps(rec, ensure_ascii=False), previous_id=previous_id,
             reason=(reason or "").strip(), status="drawn", created_by=actor.username)  # fmt: skip
    session.add(d)
    if previous_id is not None:
        old.status = "superseded"
    session.flush()
    record.append(session, actor.username, "draw.redraw" if previous else "draw.create", "draw", d.id,
                  {"number": number, "hash": d.hash, "seed_value": d.seed_value, "previous": previous,
                   "targets": [t["code"] for t in rec["result"]["targets"]]})  # fmt: skip
    return _item(d, full=True)


def _load(session: Session, actor: Actor, draw_id: int) -> Draw:
    d = session.get(Draw, int(draw_id))
    if d is None:
        raise not_found("抽取记录", "draw", draw_id)
    if actor.can(INSPECTION_VIEW) and sees(actor, d.admdvs, None):
        return d
    if d.published_at is not None:
        return d  # published: public
    raise not_found("抽取记录", "draw", draw_id)  # an unpublished draw does not exist for others


def get_draw(session: Session, actor: Actor, draw_id: int) -> dict:
    d = _load(session, actor, draw_id)
    return _item(d, full=actor.can(INSPECTION_VIEW))


def list_draws(session: Session, actor: Actor, *, page: int = 1, size: int = 20) -> dict:
    """Supervisors: every draw of their region; everyone else: the published ones (公开)."""
    page, size = max(int(page), 1), min(max(int(size), 1), 200)
    published = Draw.published_at.is_not(None)
    if actor.can(INSPECTION_VIEW):
        where = or_(Draw.admdvs.startswith(region_prefix(actor.admdvs), autoescape=True), published)
    else:
        where = published
    total = session.execute(select(func.count()).select_from(Draw).where(where)).scalar_one()
    rows = session.execute(
        select(Draw).where(where).order_by(Draw.id.desc()).offset((page - 1) * size).limit(size)
    ).scalars()
    full = actor.can(INSPECTION_VIEW)
    return {"items": [_item(d, full=full and sees(actor, d.admdvs, None)) for d in rows], "total": total,
            "page": page, "size": size}  # fmt: skip


def publish_draw(session: Session, actor: Actor, draw_id: int) -> dict:
    """公开: the result becomes visible to everyone; the drawn targets' last inspection is set."""
    actor.require(INSPECTION_MANAGE)
    d = _load(session, actor, draw_id)
    require_sees(actor, d.admdvs, None, "该抽取", "this draw")
    if d.status != "drawn":
        raise InvalidTransition(
            f"{STATUS_ZH[d.status]}的抽取不能公开", f"a {d.status} draw cannot be published"
        )
    problems = draws.verify(json.loads(d.record_json))
    if problems:
        raise InvalidTransition(
            "抽取记录校验未通过：" + "；".join(problems), "the draw record fails verification"
        )
    d.status, d.published_at, d.published_by = "published", utcnow(), actor.username
    for code in (t["code"] for t in json.loads(d.record_json)["result"]["targets"]):
        t = session.get(InspectionTarget, code) or InspectionTarget(fixmedins_code=code, risk_weight=1,
                                                                     eligible=True, note="")  # fmt: skip
        t.last_inspected = today()
        session.add(t)
    session.flush()
    record.append(session, actor.username, "draw.publish", "draw", d.id, {"number": d.number, "hash": d.hash})
    return _item(d, full=True)


def draw_record(session: Session, actor: Actor, draw_id: int) -> dict:
    """The sealed record as drawn (for ``verify-draw`` and the archive); supervisors only."""
    actor.require(INSPECTION_VIEW)
    d = _load(session, actor, draw_id)
    require_sees(actor, d.admdvs, None, "该抽取", "this draw")
    return json.loads(d.record_json)


def verify_draw(session: Session, actor: Actor, draw_id: int) -> dict:
    rec = draw_record(session, actor, draw_id)
    d = session.get(Draw, int(draw_id))
    problems = draws.verify(rec)
    if rec.get("hash") != d.hash:
        problems.append("数据库中的哈希与记录不符")
    return {"ok": not problems, "problems": problems, "hash": d.hash}
