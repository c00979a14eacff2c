// Cases (案件): the list, the detail with the procedure timeline, execution, documents and referrals.
import { api, processStates, qs, rerender } from "./client.js";
import { dueCell, h, labelled, money, num, page, pager, panel, statusTag, table, toast, txt, when } from "./dom.js";
import { actionForms } from "./forms.js";

export async function casesPage(params) {
  const status = params.get("status") || "";
  const pageNo = Number(params.get("page") || 1);
  const data = await api(`/api/cases${qs({ status, page: pageNo, size: 20 })}`);
  const states = await processStates("case");
  const go = (p, st) => { location.hash = `#/cases${qs({ status: st === undefined ? status : st, page: p })}`; };
  const filter = h("form", { class: "filters", id: "case-filters" },
    h("label", {}, "状态", h("select", { name: "status" }, h("option", { value: "" }, "全部"),
      states.map((st) => h("option", { value: st.code, selected: st.code === status }, st.label_zh)))),
    h("button", { type: "submit" }, "查询"));
  filter.addEventListener("submit", (ev) => { ev.preventDefault(); go(1, filter.elements.status.value); });
  page("案件", panel(null, filter, table([
    { label: "案号", nowrap: true, render: (r) => h("a", { href: `#/cases/${r.id}`, class: "case-link" }, txt(r.number)) },
    { label: "案由", key: "title" },
    { label: "当事人", render: (r) => `${txt(r.party.name)}（${txt(r.party.type_zh)}）` },
    { label: "立案日期", nowrap: true, render: (r) => when(r.opened_at).slice(0, 10) },
    { label: "办案期限", nowrap: true, render: (r) => (r.days_left === null ? "已结案" : dueCell(r.deadline, r.overdue,
      r.days_left >= 0 && r.days_left <= 10 ? `剩 ${r.days_left} 天` : null)) },
    { label: "涉及金额（元）", num: true, render: (r) => money(r.amount_at_issue) },
    { label: "状态", render: (r) => statusTag(r.status_zh) },
  ], data.items), pager(data, go)));
}

const PENALTY_LABELS = [
  ["article_zh", "处罚依据条款"], ["circumstance", "情节"], ["loss_amount", "基金损失（元）", money],
  ["refund_amount", "责令退回（元）", money], ["fine_amount", "罚款（元）", money], ["suspension_months", "暂停服务（月）"],
  ["intent_zh", "主观故意"], ["basis_zh", "裁量依据"], ["decided_at", "决定时间", when],
];

const EXECUTION_LABELS = [
  ["refund_due", "应退回基金（元）", money], ["refund_paid", "已退回（元）", money], ["fine_due", "罚款（元）", money],
  ["payment_due", "缴款期限"], ["surcharge", "加处罚款（每日 3%，不超过罚款额）（元）", money],
  ["fine_total_due", "应缴罚款合计（元）", money], ["fine_paid", "已缴国库（元）", money],
];

function referralForm(caseId, reload) {
  const form = h("form", { class: "stack", id: "referral-form" },
    h("label", {}, "移送机关 *", h("select", { name: "target", required: true },
      ["公安", "纪检监察", "卫生健康", "市场监管", "药品监管", "财政"].map((t) => h("option", { value: t }, t)))),
    h("label", {}, "移送理由 *", h("textarea", { name: "reason", required: true })),
    h("div", {}, h("button", { type: "submit" }, "发起移送（报负责人审批）")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("/api/referrals", { method: "POST", json: { case_id: Number(caseId),
        target: form.elements.target.value, reason: form.elements.reason.value.trim() } });
      toast("已发起移送", true);
      reload();
    } catch (e) { toast(e.message); }
  });
  return form;
}

export async function caseDetailPage(id) {
  const c = await api(`/api/cases/${id}`);
  const reload = () => rerender();
  const overdue = c.overdue;
  const soon = !overdue && c.days_left !== null && c.days_left <= 10;
  page(`案件 ${txt(c.number)}：${txt(c.title)}`,
    overdue ? h("div", { class: "alert red", id: "case-overdue" }, `办案期限 ${c.deadline} 已超期 ${-c.days_left} 天`) : null,
    soon ? h("div", { class: "alert orange", id: "case-soon" }, `办案期限 ${c.deadline} 即将到期，剩 ${c.days_left} 天`) : null,
    h("div", { class: "grid" },
      panel("案件信息", h("dl", { class: "kv", id: "case-summary" },
        h("dt", {}, "状态"), h("dd", { id: "case-status" }, statusTag(c.status_zh, overdue)),
        h("dt", {}, "当事人"), h("dd", { id: "case-party" }, `${txt(c.party.name)}（${txt(c.party.type_zh)}，${txt(c.party.id || c.party.fixmedins_code)}）`),
        h("dt", {}, "立案时间"), h("dd", {}, when(c.opened_at)),
        h("dt", {}, "办案期限"), h("dd", { id: "case-deadline" }, `${txt(c.deadline)}${c.days_left === null
          ? "（已结案）" : c.days_left < 0 ? `（已超期 ${-c.days_left} 天）` : `（剩余 ${c.days_left} 天）`}`),
        h("dt", {}, "延期"), h("dd", { id: "case-extensions" }, c.extensions.length
          ? c.extensions.map((e) => `延长 ${e.days} 天至 ${e.new_deadline}（${txt(e.reason)}，${txt(e.approved_by)} 批准）`).join("；") : "无"),
        h("dt", {}, "执法人员"), h("dd", {}, c.officers.map((o) => `${o.name}（执法证号 ${txt(o.cert_no)}）`).join("、") || "—"),
        h("dt", {}, "涉及金额"), h("dd", {}, `${money(c.amount_at_issue)} 元`),
        h("dt", {}, "结案理由"), h("dd", { id: "case-closing" }, txt(c.closing_grounds_zh)),
        h("dt", {}, "来源线索"), h("dd", {}, c.clue_id ? h("a", { href: `#/clues/${c.clue_id}` }, `线索 #${c.clue_id}`) : "—"))),
      panel("文书", h("ul", { id: "case-documents" }, c.documents.length
        ? c.documents.map((d) => h("li", {}, h("a", { href: d.url, class: "doc-link", "data-kind": d.kind, download: "" }, d.name_zh),
          " ", h("a", { href: d.pdf_url, class: "pdf-link", "data-kind": d.kind, download: "" }, "PDF")))
        : h("li", { class: "muted" }, "尚未生成文书")))),
    panel("办案流程", h("ul", { class: "timeline", id: "case-timeline" }, c.timeline.map((s) => h("li", {},
      h("div", { class: "when" }, `${when(s.at)} · ${txt(s.actor_name)}${s.due ? ` · 时限 ${s.due}` : ""}`),
      h("div", {}, h("b", {}, txt(s.action_zh)), s.to_status !== s.from_status ? ` → ${s.to_status_zh}` : "",
        s.comment ? `：${s.comment}` : ""))))),
    panel("办理操作", h("div", { id: "case-actions" }, actionForms(c.actions, async (a, values) => {
      await api(`/api/cases/${c.id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: c.version }, values) });
      reload();
    }))),
    h("div", { class: "grid" },
      panel("调查结论", labelled(c, [
        ["findings", "违法事实"], ["behaviour_zh", "违法行为类别"], ["loss_amount", "基金损失（元）", money],
        ["intent_zh", "主观故意认定"], ["intent_evidence", "故意认定依据"],
      ])),
      panel("行政处罚", h("div", { id: "case-penalty" }, labelled(c.penalty, PENALTY_LABELS)))),
    c.penalty ? panel("执行情况", h("div", { id: "case-execution" }, labelled(c.execution, EXECUTION_LABELS),
      h("p", { class: c.execution.complete ? "muted" : "alert orange" },
        c.execution.complete ? "已执行完毕。" : "尚未执行完毕：登记退回基金和罚款（含凭证号）后方可以“执行完毕”结案。"))) : null,
    h("div", { class: "grid" },
      panel("退回医保基金（基金账户）", table([
        { label: "金额（元）", num: true, render: (r) => money(r.amount) }, { label: "到账日期", key: "paid_on" },
        { label: "凭证号", key: "voucher_no" }], c.refunds)),
      panel("罚款上缴国库", table([
        { label: "金额（元）", num: true, render: (r) => money(r.amount) }, { label: "缴款日期", key: "paid_on" },
        { label: "缴款书号", key: "voucher_no" }], c.fines))),
    h("div", { class: "grid" },
      panel("协议处理措施", table([
        { label: "措施", key: "name_zh" }, { label: "金额（元）", num: true, render: (r) => money(r.amount) },
        { label: "时间", render: (r) => when(r.at) }, { label: "经办人", key: "by" }], c.measures)),
      panel("移送", h("div", { id: "case-referrals" }, table([
        { label: "编号", key: "id" }, { label: "移送机关", key: "target" },
        { label: "状态", key: "status_zh" }, { label: "回执号", key: "receipt_no" }],
      c.referrals)), c.status === "closed" ? null : h("details", { class: "action" },
        h("summary", {}, "发起移送"), referralForm(c.id, reload)))));
}

