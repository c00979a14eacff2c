"""The target-registry import (检查对象名录库) per role, on SQLite and PostgreSQL: every row validated, bad rows kept
aside with their line, values and a Chinese/English reason, the good ones in with their history, and the same
file imported twice changes nothing."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from fundguard.service import inspections
from fundguard.service.errors import PermissionDenied, ValidationFailed
from fundguard.service.models import Institution, RegistryChange

if TYPE_CHECKING:
    from conftest import World


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_target_import_validated_and_idempotent(world: World) -> None:
    import datetime as dt

    xian, shi, hosp, head = (
        world.actor("xian"),
        world.actor("shi"),
        world.actor("yiyuan"),
        world.actor("fuzeren"),
    )
    with world.db.session() as s:
        mine = s.execute(select(Institution.fixmedins_code).where(Institution.admdvs == xian.admdvs)
                         .order_by(Institution.fixmedins_code).limit(3)).scalars().all()  # fmt: skip
        elsewhere = s.execute(select(Institution.fixmedins_code).where(
            Institution.admdvs != xian.admdvs, Institution.admdvs.startswith(shi.admdvs[:4]))).scalars().first()  # fmt: skip
        rows = [
            ["机构编码", "风险权重", "纳入抽查", "最近检查日期", "备注"],
            [mine[0], 8, "是", dt.datetime(2026, 3, 1), "举报较多"],  # 2: good (an Excel date cell)
            [mine[1], "3", "否", "", ""],  # 3: good
            [mine[0], 5, "", "", ""],  # 4: the same code again
            ["NO-SUCH", 5, "", "", ""],  # 5: unknown institution
            [elsewhere, 5, "", "", ""],  # 6: outside the county's scope
            [mine[2], 11, "", "", ""],  # 7: weight out of range
            [mine[2], 2.5, "", "", ""],  # 8: not an integer
            [mine[2], "", "也许", "", ""],  # 9: neither yes nor no
            [mine[2], "", "", "2026-13-45", ""],  # 10: not a date
            [mine[2], "", "", "2099-01-01", ""],  # 11: in the future
            ["", 5, "", "", ""],  # 12: no code
            [mine[2], "", "", "", ""],  # 13: nothing to import
        ]
        content = _xlsx(rows)
        r = inspections.import_targets(s, xian, "targets.xlsx", content)
        assert r["updated"] == 2 and r["unchanged"] == 0
        assert [b["line"] for b in r["bad"]] == list(range(4, 14))
        reasons = {b["line"]: b["zh"] for b in r["bad"]}
        assert "重复" in reasons[4] and "不存在" in reasons[5] and "管辖" in reasons[6]
        assert "1–10" in reasons[7] and "整数" in reasons[8] and "是" in reasons[9] and "日期" in reasons[10]
        assert "晚于今天" in reasons[11] and "为空" in reasons[12] and "没有可导入" in reasons[13]
        assert all(b["en"] for b in r["bad"]) and r["bad"][0]["values"]["code"] == mine[0]
        t = inspections.list_targets(s, xian, size=500)["items"]
        got = {x["fixmedins_code"]: x for x in t}
        assert got[mine[0]]["risk_weight"] == 8 and got[mine[0]]["last_inspected"] == "2026-03-01"
        assert got[mine[1]]["eligible"] is False
        n = s.execute(
            select(func.count()).select_from(RegistryChange).where(RegistryChange.book == "target")
        ).scalar_one()
        again = inspections.import_targets(s, xian, "targets.xlsx", content)  # idempotent
        assert again["updated"] == 0 and again["unchanged"] == 2 and len(again["bad"]) == 10
        assert s.execute(select(func.count()).select_from(RegistryChange)
                         .where(RegistryChange.book == "target")).scalar_one() == n  # fmt: skip
        assert inspections.history(s, xian, "target", mine[0])[-1]["action"] == "import"
        csv = f"机构编码,风险权重\n{mine[1]},4\n".encode("gb18030")  # an office's GBK CSV
        assert inspections.import_targets(s, xian, "t.csv", csv)["updated"] == 1
        with pytest.raises(ValidationFailed, match="机构编码"):
            inspections.import_targets(s, xian, "t.csv", "名称,风险权重\n甲,4\n".encode())
        with pytest.raises(ValidationFailed):
            inspections.import_targets(s, xian, "t.txt", b"x")
        for who in (hosp, head):
            with pytest.raises(PermissionDenied):
                inspections.import_targets(s, who, "targets.xlsx", content)
