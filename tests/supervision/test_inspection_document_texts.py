"""Inspection documents as pure functions: required fields named in Chinese, control characters dropped."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document

from fundguard.core.errors import InputError
from fundguard.supervision.inspection_documents import render_inspection_document

BASE = {"authority": "某市医疗保障局", "date": dt.date(2026, 12, 7), "doc_number": "医保监检通〔2026〕1号",
        "party_name": "某医院", "inspection": "daily", "scope": "年度监督检查", "team": ["张三（执法证号 A1）"]}  # fmt: skip


def test_missing_field_and_unknown_kind() -> None:
    with pytest.raises(InputError, match="检查内容"):
        render_inspection_document("notice", {**BASE, "scope": " "})
    with pytest.raises(InputError, match="未知的检查文书类型"):
        render_inspection_document("verdict", BASE)
    with pytest.raises(InputError, match="涉及金额"):
        render_inspection_document("feedback", {**BASE, "findings": [{"description": "x", "amount": "abc"}]})


def test_control_characters_are_dropped() -> None:
    data = render_inspection_document(
        "notice", {**BASE, "scope": "检查\x00内容\x1f", "party_name": "某\x0b医院"}
    )
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "检查内容" in text and "某医院" in text and "监督检查通知书" in text


def test_handover_letter_needs_its_recipient_and_lists_the_clues() -> None:
    findings = [{"description": "串换收费", "amount": "1200", "clue_id": 42}]
    with pytest.raises(InputError, match="受移交单位"):
        render_inspection_document("handover", {**BASE, "findings": findings})
    with pytest.raises(InputError, match="移交的问题"):
        render_inspection_document("handover", {**BASE, "recipient": "某区医疗保障局", "findings": []})
    data = render_inspection_document(
        "handover", {**BASE, "recipient": "某区医疗保障局", "findings": findings}
    )
    text = "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)
    assert "某区医疗保障局：" in text and "串换收费，涉及金额 1,200.00元（线索编号 42）" in text


def test_campaign_report_names_missing_figures() -> None:
    from fundguard.supervision.campaign_report import render_campaign_report

    stats = {"institutions": 2, "reported": 1, "self_problems": 0, "refunded": "0", "selected": 0, "checked": 0,
             "found_problems": 0, "found_amount": "0", "unreported": 0, "strict": 0,
             "ledger": {"open": 0, "closed": 0, "overdue": 0}}  # fmt: skip
    base = {"authority": "某市医疗保障局", "date": "2026-12-07", "doc_number": "ZX-1-总结", "title": "三假专项整治",
            "theme_zh": "三假", "status_zh": "自查自纠", "stats": stats}  # fmt: skip
    with pytest.raises(InputError, match="整治数据"):
        render_campaign_report({**base, "stats": {}})
    with pytest.raises(InputError, match="主动退回金额"):
        render_campaign_report({**base, "stats": {k: v for k, v in stats.items() if k != "refunded"}})
    with pytest.raises(InputError, match="非负整数"):
        render_campaign_report({**base, "stats": {**stats, "reported": -1}})
    with pytest.raises(InputError, match="非负金额"):
        render_campaign_report({**base, "stats": {**stats, "refunded": "-5"}})
    doc = Document(io.BytesIO(render_campaign_report(base)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "报送率 50.0%" in text and "尚无查实的典型案例" in text and "台账暂无问题" in text
    assert "抽查复查尚未开展" in text and "未发现应报未报" not in text  # nothing claimed before the re-check
