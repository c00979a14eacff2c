"""The exchange format, version 1.0: an envelope of messages, each of one kind. Pydantic validates files on
import and gives the JSON Schema partners read (``json_schema()``, written to ``docs/exchange/``); the Excel
form is one sheet with one row per message and the same field names as column headers.

Kinds: ``referral`` (we send a case or clue: 线索互移), ``receipt`` (the partner acknowledges our referral),
``result`` (the partner's decision on our referral, or our result on their finding: 结果互通), ``finding``
(the partner's finding, registered here as a clue: 标准互认). A new version adds fields; a reader refuses a
major version it does not know.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fundguard.supervision.workflow import REFERRAL_TARGETS

SCHEMA_VERSION = "1.0"
FORMAT = "fundguard-exchange"
KINDS = ("referral", "receipt", "result", "finding")
KIND_ZH = {
    "referral": "线索移送",
    "receipt": "接收回执",
    "result": "办理结果",
    "finding": "部门认定（标准互认）",
}
Partner = Literal["公安", "纪检监察", "卫生健康", "市场监管", "药品监管", "财政"]
assert set(Partner.__args__) == set(REFERRAL_TARGETS)  # type: ignore[attr-defined]  # one list of partners

Text = Field(default="", max_length=4000)


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="文书名称")
    number: str = Field(default="", max_length=100, description="文号")
    sha256: str = Field(default="", pattern=r"^([0-9a-f]{64})?$", description="文件 SHA-256（可选）")


class Message(BaseModel):
    """One message; which fields are required depends on ``kind`` (checked below)."""

    model_config = ConfigDict(extra="forbid")
    message_id: str = Field(
        min_length=4, max_length=80, pattern=r"^[0-9A-Za-z._:-]+$", description="全局唯一消息号"
    )
    kind: Literal["referral", "receipt", "result", "finding"]
    partner: Partner = Field(description="对方部门")
    sent_at: str = Field(max_length=32, description="发送时间 ISO 8601")
    referral_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="医保局移送编号（回执、结果）"
    )
    case_number: str = Field(default="", max_length=60)
    fixmedins_code: str = Field(default="", max_length=30, description="定点机构编码")
    fixmedins_name: str = Field(default="", max_length=200)
    admdvs: str = Field(default="", pattern=r"^(\d{6})?$", description="医保区划")
    summary: str = Text
    amount: str = Field(default="0", pattern=r"^\d{1,12}(\.\d{1,2})?$", description="涉及金额（元）")
    receipt_no: str = Field(default="", max_length=100)
    receipt_by: str = Field(default="", max_length=100)
    result: Literal["", "accepted", "declined", "confirmed", "dismissed", "pending"] = ""
    outcome: str = Text
    partner_ref: str = Field(default="", max_length=100, description="对方文号/案号")
    documents: list[Document] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _by_kind(self) -> Message:
        need = {"receipt": ("referral_id", "receipt_no", "receipt_by"), "result": ("result", "outcome"),
                "finding": ("fixmedins_code", "summary", "partner_ref"), "referral": ("summary",)}[self.kind]  # fmt: skip
        missing = [f for f in need if getattr(self, f) in (None, "")]
        if missing:
            raise ValueError(f"{KIND_ZH[self.kind]}缺少字段 missing fields: {', '.join(missing)}")
        if self.kind == "result" and self.referral_id is None and not self.partner_ref:
            raise ValueError(
                "办理结果须指明 referral_id 或 partner_ref / a result names its referral or finding"
            )
        return self


class Sender(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str = Field(min_length=1, max_length=40)
    admdvs: str = Field(default="", pattern=r"^(\d{6})?$")


class Envelope(BaseModel):
    """A file of messages from one sender."""

    model_config = ConfigDict(extra="forbid")
    format: Literal["fundguard-exchange"] = FORMAT
    version: str = Field(default=SCHEMA_VERSION, pattern=r"^1\.\d+$", description="格式版本（主版本须为 1）")
    sender: Sender
    created_at: str = Field(max_length=32)
    messages: list[Message] = Field(max_length=10_000)


def json_schema() -> dict:
    schema = Envelope.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://fundguard.local/exchange/schema-{SCHEMA_VERSION}.json"
    schema["title"] = f"FundGuard 部门协同交换格式 {SCHEMA_VERSION}"
    return schema


COLUMNS = [n for n in Message.model_fields if n != "documents"] + ["documents"]
