"""Official documents: each kind renders, opens with python-docx, carries the expected text and layout;
missing fields and bad values are refused with the field's Chinese name."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from io import BytesIO
from typing import Any

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm

from fundguard.core.errors import InputError
from fundguard.supervision.documents import (
    DOCUMENT_FIELDS,
    DOCUMENT_KINDS,
    TITLE_FONT,
    pdf_available,
    render_document,
    render_pdf,
)
from fundguard.supervision.penalties import penalty_range

BASIS = penalty_range("38", Decimal("123456.78"), circumstance="一般").basis_zh

SAMPLES: dict[str, dict[str, Any]] = {
    "case_filing": {
        "authority": "示例市医疗保障局",
        "date": "2026-11-02",
        "case_number": "示医保立〔2026〕12号",
        "case_title": "示例市第一人民医院涉嫌重复收费案",
        "party_name": "示例市第一人民医院",
        "party_code": "H37010200001",
        "source": "智能监控规则筛查（规则 R-A38-3-01）",
        "facts": "2025年1月至6月，该院住院患者重复收取床位费123笔。\n涉及医保基金123,456.78元。",
        "amount": Decimal("123456.78"),
        "handlers": ["张三", "李四"],
        "handler_opinion": "建议立案调查。",
        "reviewer_opinion": "同意立案。",
        "reviewer": "王五",
        "review_date": "2026-11-03",
    },
    "prior_notice": {
        "authority": "示例市医疗保障局",
        "date": "2026-11-20",
        "doc_number": "示医保罚告〔2026〕3号",
        "party_name": "示例市第一人民医院",
        "facts": ["2025年1月至6月重复收取床位费123笔", "涉及医保基金123,456.78元"],
        "evidence": ["医保结算明细", "现场检查笔录", "询问笔录"],
        "basis": BASIS,
        "proposed_penalty": "责令退回123,456.78元；罚款160,493.81元",
        "fine": "160493.81",
        "contact": "赵六 0531-12345678",
    },
    "penalty_decision": {
        "authority": "示例市医疗保障局",
        "date": "2026-12-10",
        "doc_number": "示医保罚〔2026〕3号",
        "party_name": "示例市第一人民医院",
        "party_code": "H37010200001",
        "case_opened": "2026-11-02",
        "notice_date": "2026-11-20",
        "facts": "2025年1月至6月重复收取床位费123笔，造成医保基金损失123,456.78元。",
        "evidence": ["医保结算明细", "询问笔录"],
        "basis": BASIS,
        "decision": ["责令退回医保基金123,456.78元", "罚款160,493.81元"],
        "fine": Decimal("160493.81"),
        "refund": Decimal("123456.78"),
        "reconsideration_body": "示例市人民政府",
        "court": "示例市铁路运输法院",
    },
    "agreement_notice": {
        "authority": "示例市医疗保障事业中心",
        "date": "2026-11-15",
        "doc_number": "示医保协处〔2026〕8号",
        "party_name": "示例大药房",
        "agreement": "《示例市定点零售药店医疗保障服务协议》第二十条",
        "facts": "2026年3月串换药品结算15笔。",
        "basis": "服务协议第二十条",
        "measures": ["interview", "rectify_within_limit", "recover"],
        "amount": "3210.50",
        "rectify_by": "2026-12-15",
    },
}


def _open(data: bytes) -> docx.document.Document:
    return docx.Document(BytesIO(data))


def _text(doc: docx.document.Document) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


@pytest.mark.parametrize("kind", sorted(DOCUMENT_KINDS))
def test_each_kind_renders_with_official_layout(kind: str) -> None:
    doc = _open(render_document(kind, SAMPLES[kind]))
    section = doc.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01) and abs(section.page_height - Cm(29.7)) < Cm(0.01)
    assert abs(section.top_margin - Cm(3.7)) < Cm(0.01) and abs(section.left_margin - Cm(2.8)) < Cm(0.01)
    title = doc.paragraphs[1]
    assert title.text == DOCUMENT_KINDS[kind]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    rfonts = title.runs[0]._element.rPr.rFonts
    assert rfonts.get(qn("w:eastAsia")) == TITLE_FONT
    number = doc.paragraphs[2]
    assert number.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert SAMPLES[kind].get("doc_number", SAMPLES[kind].get("case_number")) in number.text
    assert doc.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    if kind != "case_filing":
        tail = [p for p in doc.paragraphs if p.text][-3:]
        assert tail[0].text == SAMPLES[kind]["authority"]
        assert all(p.alignment == WD_ALIGN_PARAGRAPH.RIGHT for p in tail)
        assert tail[2].text == "（印章）"


def test_case_filing_table_rows() -> None:
    doc = _open(render_document("case_filing", SAMPLES["case_filing"]))
    table = doc.tables[0]
    labels = [row.cells[0].text for row in table.rows]
    for label in [
        "案由",
        "当事人",
        "案件来源",
        "涉案金额",
        "简要案情",
        "承办人意见",
        "审核意见",
        "负责人审批",
    ]:
        assert label in labels
    text = _text(doc)
    assert (
        "123,456.78元" in text and "张三、李四" in text and "同意立案。" in text and "2026年11月3日" in text
    )
    assert "H37010200001" in text
    with pytest.raises(InputError, match="承办人不得少于2人"):
        render_document("case_filing", {**SAMPLES["case_filing"], "handlers": "张三"})


def test_prior_notice_rights_and_hearing_threshold() -> None:
    text = _text(_open(render_document("prior_notice", SAMPLES["prior_notice"])))
    assert "陈述和申辩" in text and "5个工作日内" in text
    assert "听证权利" in text and "7个工作日前" in text  # fine ≥ ¥100,000 for an organisation
    assert "第三十八条" in text and "160,493.81元" in text
    assert "1. 医保结算明细" in text and "3. 询问笔录" in text
    small = {**SAMPLES["prior_notice"], "fine": "20000"}
    small_text = _text(_open(render_document("prior_notice", small)))
    assert "陈述和申辩" in small_text and "听证" not in small_text
    # Suspension always opens the hearing right; an individual's threshold is ¥5,000.
    assert "听证权利" in _text(
        _open(render_document("prior_notice", {**small, "measures": ["suspend_dept_services"]}))
    )
    person = {**small, "fine": "5000", "party_type": "individual", "party_name": "张某"}
    person_text = _text(_open(render_document("prior_notice", person)))
    assert "听证权利" in person_text and "你有权" in person_text and "你单位" not in person_text


def test_penalty_decision_remedies_payment_and_ledgers() -> None:
    text = _text(_open(render_document("penalty_decision", SAMPLES["penalty_decision"])))
    assert "60日内向示例市人民政府申请行政复议" in text
    assert "6个月内依法向示例市铁路运输法院提起行政诉讼" in text
    assert "15日内" in text and "百分之三" in text
    assert "财政专户" in text and "上缴国库" in text  # 条例 Art. 45: two ledgers
    assert "本机关于2026年11月2日立案" in text and "2026年12月10日" in text
    no_fine = {**SAMPLES["penalty_decision"], "fine": 0, "refund": None}
    plain = _text(_open(render_document("penalty_decision", no_fine)))
    assert "国库" not in plain and "财政专户" not in plain and "行政复议" in plain


def test_agreement_notice_measures() -> None:
    text = _text(_open(render_document("agreement_notice", SAMPLES["agreement_notice"])))
    assert "1. 约谈" in text and "2. 限期整改" in text and "3. 追回" in text
    assert "3,210.50元" in text and "2026年12月15日前完成整改" in text and "陈述、申辩" in text
    with pytest.raises(InputError, match="未知的协议处理措施"):
        render_document("agreement_notice", {**SAMPLES["agreement_notice"], "measures": ["fine_everyone"]})


@pytest.mark.parametrize("kind", sorted(DOCUMENT_KINDS))
def test_every_required_field_is_checked(kind: str) -> None:
    for key, zh in DOCUMENT_FIELDS[kind].items():
        data: Mapping[str, Any] = {k: v for k, v in SAMPLES[kind].items() if k != key}
        with pytest.raises(InputError) as missing:
            render_document(kind, data)
        assert zh in missing.value.zh and key in missing.value.en
        with pytest.raises(InputError):
            render_document(
                kind, {**SAMPLES[kind], key: "  " if not isinstance(SAMPLES[kind][key], list) else []}
            )


def test_bad_values() -> None:
    with pytest.raises(InputError, match="未知的文书类型"):
        render_document("warrant", {})
    with pytest.raises(InputError, match="日期"):
        render_document("prior_notice", {**SAMPLES["prior_notice"], "date": "明天"})
    with pytest.raises(InputError, match="金额"):
        render_document("penalty_decision", {**SAMPLES["penalty_decision"], "fine": "-5"})
    with pytest.raises(InputError, match="当事人类型"):
        render_document("prior_notice", {**SAMPLES["prior_notice"], "party_type": "robot"})


@pytest.mark.skipif(not pdf_available(), reason="LibreOffice not installed")
def test_pdf() -> None:
    pdf = render_pdf("penalty_decision", SAMPLES["penalty_decision"])
    assert pdf.startswith(b"%PDF")
