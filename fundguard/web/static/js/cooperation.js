// Issue 16b: 信息公开 (drafts, the head's approval, publication, the public link), 部门协同 (referrals to 公安/纪检监察/
// 卫健/市场监管/药监/财政 with their actions, the exchange log, export and import of exchange files) and 异地就医 (the
// place of treatment and the place of insurance, each on its own duty, joint handling, the indicator).
import { api, qs, rerender, state } from "./client.js";
import { h, money, num, page, panel, statusTag, table, toast, txt, when } from "./dom.js";
import { actionForms } from "./forms.js";

const KINDS = [["typical_case", "典型案例曝光"], ["flight_notice", "年度飞行检查公告"], ["draw", "双随机抽查结果公示"],
  ["fund_use", "定点医药机构医保基金使用情况公示"], ["joint_punishment", "联合惩戒名单"]];

// One renderer for a disclosure's content (the same structure the public pages and the static export show).
export function contentView(c) {
  return h("article", { class: "disclosure-content", id: "disclosure-content" },
    h("h2", {}, c.title),
    c.paragraphs.map((p) => h("p", {}, p)),
    c.facts.length ? h("dl", { class: "kv" }, c.facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])) : null,
    c.tables.map((t) => [h("h3", {}, t.caption),
      table(t.columns.map((label, i) => ({ label, render: (r) => txt(r[i]) })), t.rows)]));
}

export async function disclosuresPage(params) {
  const data = await api(`/api/disclosures${qs({ status: params.get("status") || "", size: 50 })}`);
  const perms = new Set(state.user.permissions);
  const form = h("form", { class: "stack", id: "disclosure-form" },
    h("label", {}, "公开类别 *", h("select", { name: "kind", required: true }, KINDS.map(([v, l]) => h("option", { value: v }, l)))),
    h("label", {}, "案件编号（典型案例：已结案案件的 ID）", h("input", { name: "case_id", type: "number", min: 1 })),
    h("label", {}, "抽取记录 ID（双随机结果）", h("input", { name: "draw_id", type: "number", min: 1 })),
    h("label", {}, "定点机构编码（基金使用情况）", h("input", { name: "fixmedins_code" })),
    h("label", {}, "年度", h("input", { name: "year", type: "number", min: 2000, max: 2100 })),
    h("label", {}, "说明或公告正文（个人信息将自动脱敏）", h("textarea", { name: "text" })),
    h("div", {}, h("button", { type: "submit" }, "起草")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const e = form.elements;
    const body = { kind: e.kind.value, text: e.text.value.trim(), fixmedins_code: e.fixmedins_code.value.trim() };
    for (const k of ["case_id", "draw_id", "year"]) if (e[k].value) body[k] = Number(e[k].value);
    try {
      const d = await api("/api/disclosures", { method: "POST", json: body });
      location.hash = `#/disclosures/${d.id}`;
    } catch (err) { toast(err.message); }
  });
  page("信息公开",
    h("p", {}, h("a", { href: "/public/disclosure/", id: "public-link", target: "_blank" }, "查看公众页面（仅显示已发布事项）")),
    perms.has("disclosure.manage") ? panel("起草公开事项", form) : null,
    panel(`公开事项（${data.total}）`, table([
      { label: "标题", render: (r) => h("a", { href: `#/disclosures/${r.id}`, class: "disclosure-link" }, r.title) },
      { label: "类别", key: "kind_zh" }, { label: "状态", render: (r) => statusTag(r.status_zh) },
      { label: "起草人", key: "created_by" }, { label: "发布时间", render: (r) => when(r.published_at) },
    ], data.items)));
}

export async function disclosureDetailPage(id) {
  const d = await api(`/api/disclosures/${id}`);
  const submit = async (a, values) => {
    await api(`/api/disclosures/${id}/actions`, { method: "POST", json: { action: a.action, version: d.version, ...values } });
    rerender();
  };
  page(d.title,
    h("p", {}, "状态：", h("span", { id: "disclosure-status" }, statusTag(d.status_zh)), " · ", d.kind_zh,
      d.status === "published" ? [" · ", h("a", { href: `/public/disclosure/${d.id}.html`, id: "disclosure-public", target: "_blank" }, "公众页面")] : null),
    panel("公开内容（已脱敏，审批后即按此发布）", contentView(d.content)),
    panel("办理", h("div", { id: "disclosure-actions" }, actionForms(d.actions, submit))),
    panel("流程记录", table([{ label: "环节", key: "action_zh" }, { label: "办理人", key: "actor" },
      { label: "结果", key: "to_status_zh" }, { label: "意见", key: "comment" }, { label: "时间", render: (r) => when(r.at) }], d.events)));
}

async function referralPanel(r) {
  const detail = await api(`/api/referrals/${r.id}`);
  const submit = async (a, values) => {
    await api(`/api/referrals/${r.id}/actions`, { method: "POST", json: { action: a.action, version: detail.version, ...values } });
    rerender();
  };
  return h("div", { class: "referral", "data-referral": r.id },
    h("h3", {}, `移送 ${r.id} → ${r.target}：`, h("span", { class: "referral-status" }, statusTag(r.status_zh, r.overdue))),
    h("p", {}, `理由：${r.reason}`, r.receipt_no ? ` · 回执 ${r.receipt_no}（${r.receipt_by}）` : "", r.outcome ? ` · 结果：${r.outcome}` : ""),
    actionForms(detail.actions, submit));
}

export async function exchangePage() {
  const [refs, log] = await Promise.all([api("/api/referrals?size=50"), api("/api/exchange/messages")]);
  const out = h("pre", { id: "exchange-export", class: "muted", style: "max-height:12em;overflow:auto" });
  const exportBtn = h("button", { id: "exchange-export-btn", onclick: async () => {
    try {
      const env = await api("/api/exchange/export");
      out.textContent = JSON.stringify(env, null, 2);
      const a = h("a", { href: URL.createObjectURL(new Blob([out.textContent], { type: "application/json" })), download: "exchange.json" });
      a.click();
      toast(`已导出 ${env.messages.length} 条消息`, true);
    } catch (e) { toast(e.message); }
  } }, "导出交换文件（JSON，格式 1.0）");
  const input = h("textarea", { id: "exchange-import-text", placeholder: "粘贴对方部门的交换文件（JSON）" });
  const importBtn = h("button", { id: "exchange-import-btn", onclick: async () => {
    try {
      const r = await api("/api/exchange/import", { method: "POST", json: JSON.parse(input.value) });
      toast(`已导入 ${r.imported} 条，跳过重复 ${r.skipped} 条`, true);
      rerender();
    } catch (e) { toast(e instanceof SyntaxError ? "不是有效的 JSON 文件" : e.message); }
  } }, "导入");
  // 标准互认 by file: a partner's Excel/JSON exchange file goes in whole or not at all; its bad rows are listed.
  const fileResult = h("div", { id: "exchange-file-result" });
  const fileForm = h("form", { class: "stack", id: "exchange-file-form" },
    h("label", {}, "对方部门的交换文件（Excel .xlsx 或 JSON，格式 1.0）",
      h("input", { type: "file", name: "file", accept: ".xlsx,.json", required: true })),
    h("div", {}, h("button", { type: "submit", id: "exchange-file-btn" }, "上传并导入")), fileResult);
  fileForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = new FormData();
    body.append("file", fileForm.elements.file.files[0]);
    try {
      const r = await api("/api/exchange/import-file", { method: "POST", body });
      toast(`已导入 ${r.imported} 条，跳过重复 ${r.skipped} 条，登记线索 ${r.clues.length} 条`, true);
      rerender();
    } catch (e) {
      const rows = (e.detail && e.detail.rows) || [];
      fileResult.replaceChildren(h("div", { class: "alert red", id: "exchange-file-error" },
        rows.length ? `文件有 ${rows.length} 行不符合要求，未导入任何消息，请修改后重新上传：` : e.message),
      rows.length ? table([{ label: "行", key: "row", nowrap: true }, { label: "消息号", render: (r) => txt(r.message_id) },
        { label: "原因", key: "reason_zh" }], rows) : null);
    }
  });
  page("部门协同（线索互移、结果互通、标准互认）",
    panel(`移送（${refs.total}）`, h("div", { id: "referrals" }, await Promise.all(refs.items.map(referralPanel)))),
    panel("交换文件", h("p", { class: "muted" }, "格式说明与 JSON Schema：docs/exchange/；Excel 版本用命令 fundguard exchange export --out x.xlsx。"),
      exportBtn, out, h("div", { class: "stack" }, input, h("div", {}, importBtn)), h("h3", {}, "上传交换文件（标准互认：对方认定登记为线索）"), fileForm),
    panel("交换记录", h("div", { id: "exchange-log" }, table([
      { label: "消息号", key: "message_id" }, { label: "方向", key: "direction_zh" }, { label: "类别", key: "kind_zh" },
      { label: "对方部门", key: "partner" }, { label: "移送", render: (r) => txt(r.referral_id) },
      { label: "线索", render: (r) => (r.clue_id ? h("a", { href: `#/clues/${r.clue_id}` }, String(r.clue_id)) : "—") },
      { label: "时间", render: (r) => when(r.at) }], log))));
}

export async function crossRegionPage() {
  const [sum, treat, insured, ind] = await Promise.all([api("/api/crossregion/summary"),
    api("/api/crossregion/clues?side=treatment"), api("/api/crossregion/clues?side=insurance"), api("/api/crossregion/indicator")]);
  const joint = (r) => {
    if (r.side === "insurance" && (r.joint_status === "" || r.joint_status === "declined")) {
      return h("button", { class: "small joint-request", onclick: async () => {
        const note = window.prompt("联合办案请求事项");
        if (!note) return;
        try { await api(`/api/crossregion/links/${r.id}/joint`, { method: "POST", json: { note } }); rerender(); } catch (e) { toast(e.message); }
      } }, "请求联合办案");
    }
    if (r.side === "treatment" && r.joint_status === "requested") {
      return h("button", { class: "small joint-accept", onclick: async () => {
        try { await api(`/api/crossregion/links/${r.id}/answer`, { method: "POST", json: { accept: true, note: "同意联合办案" } }); rerender(); } catch (e) { toast(e.message); }
      } }, "接受联合办案");
    }
    return statusTag(r.joint_status_zh);
  };
  const linkCols = [
    { label: "线索", render: (r) => (r.clue_visible ? h("a", { href: `#/clues/${r.clue_id}` }, String(r.clue_id)) : String(r.clue_id)) },
    { label: "规则", key: "rule_name" }, { label: "定点机构（就医地）", render: (r) => `${r.fixmedins_name}（${r.admdvs}）` },
    { label: "期间", key: "period" }, { label: "参保地", key: "insu_admdvs" }, { label: "人次", key: "visits", num: true },
    { label: "人数", key: "persons", num: true }, { label: "金额（元）", render: (r) => money(r.amount), num: true },
    { label: "线索状态", key: "status_zh" }, { label: "联合办案", render: joint }, { label: "说明", key: "joint_note" }];
  const flagBtn = state.user.permissions.includes("clue.import") ? h("button", { id: "cr-flag-clues", onclick: async () => {
    try {
      const r = await api("/api/crossregion/flagged-clues", { method: "POST" });
      toast(`异常机构 ${r.flagged} 家：新建线索 ${r.created.length} 条，已有线索 ${r.existing.length} 条`, true);
      rerender();
    } catch (e) { toast(e.message); }
  } }, "将异地就医异常机构转为线索") : null;
  page("异地就医监管",
    h("div", { class: "cards" },
      h("div", { class: "card", id: "cr-treatment" }, h("div", { class: "label" }, "就医地：涉异地参保人员的线索"), h("div", { class: "value" }, num(sum.treatment))),
      h("div", { class: "card", id: "cr-insurance" }, h("div", { class: "label" }, "参保地：本地参保人员在外地的线索"), h("div", { class: "value" }, num(sum.insurance))),
      h("div", { class: "card", id: "cr-joint" }, h("div", { class: "label" }, "待答复联合办案"), h("div", { class: "value" }, num(sum.joint_requested)))),
    panel("参保地职责：本地参保人员在外地就医的线索", h("div", { id: "cr-insurance-list" }, table(linkCols, insured))),
    panel("就医地职责：本辖区机构涉及外地参保人员的线索", h("div", { id: "cr-treatment-list" }, table(linkCols, treat))),
    panel(`异地就医指标（异地结算占比 ≥ ${Math.round(ind.threshold * 100)}% 的小型机构、药店予以提示）`, flagBtn, h("div", { id: "cr-indicator" }, table([
      { label: "定点机构", render: (r) => `${r.fixmedins_name}（${r.fixmedins_code}）` }, { label: "结算人次", key: "settlements", num: true },
      { label: "异地人次", key: "out_settlements", num: true }, { label: "异地占比", render: (r) => `${(r.share * 100).toFixed(1)}%`, num: true },
      { label: "异地基金支付（元）", render: (r) => money(r.out_fund), num: true }, { label: "提示", render: (r) => (r.flag_zh ? statusTag(r.flag_zh, true) : "—") },
    ], ind.treatment.slice(0, 50)))),
    panel("本地参保人员在外地定点机构的结算", table([
      { label: "定点机构", render: (r) => `${r.fixmedins_name}（${r.admdvs}）` }, { label: "结算人次", key: "settlements", num: true },
      { label: "人数", key: "persons", num: true }, { label: "基金支付（元）", render: (r) => money(r.fund), num: true }], ind.insurance.slice(0, 50))));
}

// 异地就医 on the dashboard: one row of cards (the place of treatment and the place of insurance).
export async function crossRegionCards() {
  const s = await api("/api/crossregion/summary");
  return h("div", { class: "cards", id: "dashboard-crossregion" },
    h("div", { class: "card" }, h("div", { class: "label" }, "异地就医：就医地线索"), h("div", { class: "value" }, num(s.treatment))),
    h("div", { class: "card" }, h("div", { class: "label" }, "异地就医：参保地线索"), h("div", { class: "value" }, num(s.insurance))),
    h("div", { class: "card" }, h("div", { class: "label" }, "异地涉及金额（元）"), h("div", { class: "value" }, money(s.amount))),
    h("div", { class: s.joint_requested ? "card warn" : "card" }, h("div", { class: "label" }, "待答复联合办案"),
      h("div", { class: "value" }, h("a", { href: "#/crossregion" }, num(s.joint_requested)))),
    h("div", { class: "card", id: "dashboard-cr-treatment" }, h("div", { class: "label" }, "就医地：本辖区机构异地结算人次 / 基金支付（元）"),
      h("div", { class: "value" }, `${num(s.treatment_settlements)} / ${money(s.treatment_fund)}`)),
    h("div", { class: s.treatment_flagged ? "card warn" : "card", id: "dashboard-cr-flagged" }, h("div", { class: "label" }, "就医地：异地就医异常机构"),
      h("div", { class: "value" }, h("a", { href: "#/crossregion" }, num(s.treatment_flagged)))),
    h("div", { class: "card", id: "dashboard-cr-insurance" }, h("div", { class: "label" }, "参保地：本地参保人员外地结算人次 / 基金支付（元）"),
      h("div", { class: "value" }, `${num(s.insurance_settlements)} / ${money(s.insurance_fund)}`)));
}
