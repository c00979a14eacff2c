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
