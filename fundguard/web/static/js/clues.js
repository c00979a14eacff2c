// Clues (线索): the list with filters, the detail with evidence, appeals and the flag-flow actions.
import { api, isHospital, processStates, qs, rerender } from "./client.js";
import { dueCell, h, money, num, page, pager, panel, statusTag, table, toast, txt, when } from "./dom.js";
import { actionForms } from "./forms.js";

const CLUE_FILTERS = ["status", "source", "rule_id", "fixmedins_code", "admdvs", "month", "q", "overdue"];

// the processes (states with Chinese names, transitions and their forms) come from the workflow engine

export async function cluesPage(params) {
  const query = Object.fromEntries(CLUE_FILTERS.map((k) => [k, params.get(k) || ""]));
  const pageNo = Number(params.get("page") || 1);
  const data = await api(`/api/clues${qs(Object.assign({}, query, { page: pageNo, size: 20 }))}`);
  const states = await processStates("flag");
  const go = (p, q) => { location.hash = `#/clues${qs(Object.assign({}, q || query, { page: p }))}`; };
  const form = h("form", { class: "filters", id: "clue-filters" },
    h("label", {}, "状态", h("select", { name: "status" }, h("option", { value: "" }, "全部"),
      states.map((st) => h("option", { value: st.code, selected: st.code === query.status }, st.label_zh)))),
    h("label", {}, "来源", h("select", { name: "source" }, h("option", { value: "" }, "全部"),
      Object.entries(SOURCE_ZH).map(([k, v]) => h("option", { value: k, selected: k === query.source }, v)))),
    isHospital() ? null : h("label", {}, "规则编码", h("input", { name: "rule_id", value: query.rule_id, size: 18 })),
    isHospital() ? null : h("label", {}, "机构编码", h("input", { name: "fixmedins_code", value: query.fixmedins_code, size: 14 })),
    isHospital() ? null : h("label", {}, "区划", h("input", { name: "admdvs", value: query.admdvs, size: 8 })),
    h("label", {}, "月份", h("input", { name: "month", value: query.month, placeholder: "2024-03", size: 8 })),
    h("label", {}, "关键词", h("input", { name: "q", value: query.q, placeholder: "机构/规则名称", size: 14 })),
    h("label", {}, "只看超期", h("input", { type: "checkbox", name: "overdue", value: "true", checked: query.overdue === "true" })),
    h("button", { type: "submit" }, "查询"),
    h("button", { type: "button", class: "secondary", onclick: () => { location.hash = "#/clues"; } }, "重置"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = {};
    for (const k of CLUE_FILTERS) {
      const el = form.elements[k];
      if (!el) continue;
      q[k] = el.type === "checkbox" ? (el.checked ? "true" : "") : el.value.trim();
    }
    go(1, q);
  });
  const cols = [
    { label: "编号", nowrap: true, render: (r) => h("a", { href: `#/clues/${r.id}`, class: "clue-link" }, `#${r.id}`) },
    { label: "规则", render: (r) => h("span", { title: r.rule_id }, txt(r.rule_name)) },
    { label: "定性", render: (r) => h("span", { class: r.result_type === "明确违规" ? "tag red" : "tag orange" }, txt(r.result_type)) },
    { label: "机构", render: (r) => `${txt(r.fixmedins_name)}（${txt(r.fixmedins_code)}）` },
    { label: "区划", key: "admdvs", nowrap: true },
    { label: "期间", key: "period", nowrap: true },
    { label: "明细数", num: true, render: (r) => num(r.hits) },
    { label: "涉及金额（元）", num: true, nowrap: true, render: (r) => money(r.amount) },
    { label: "状态", render: (r) => statusTag(r.status_zh, r.overdue) },
    { label: "办理时限", nowrap: true, render: (r) => dueCell(r.due_date, r.overdue, r.warning) },
  ];
  page(isHospital() ? "本院疑点" : "线索",
    panel(null, form, table(cols, data.items, () => ({ class: "clue-row" })), pager(data, (p) => go(p))));
}

const SOURCE_ZH = { rule: "规则", model: "大数据模型", inspection: "检查发现", transfer: "部门/地区移交", complaint: "投诉举报",
  partner: "部门互认", crossregion: "异地就医监测" };

// A model clue's evidence: one row per lead (model, entity, score, rank and its Chinese reasons).
function leadTable(rows) {
  return table([
    { label: "模型", key: "item_name", nowrap: true },
    { label: "涉及金额（元）", num: true, render: (r) => money(r.amount) },
    { label: "风险分、排名与理由", render: (r) => h("div", { class: "evidence-text" }, txt(r.evidence_zh)) },
  ], rows, () => ({ class: "evidence-row" }));
}

function evidenceTable(rows) {
  return table([
    { label: "就诊ID", key: "mdtrt_id", nowrap: true },
    { label: "记账流水号", render: (r) => {
      const all = Array.isArray(r.bkkp_sn) ? r.bkkp_sn : [r.bkkp_sn].filter(Boolean);
      return h("span", { title: all.join("、"), class: "nowrap" }, all.length > 1 ? `${all[0]} 等 ${all.length} 条` : txt(all[0]));
    } },
    { label: "参保人", render: (r) => `${txt(r.psn_name)}（${txt(r.psn_no)}）` },
    { label: "项目", render: (r) => `${txt(r.item_name)}（${txt(r.hilist_code)}）` },
    { label: "发生时间", render: (r) => h("span", { class: "nowrap" }, when(r.fee_ocur_time)) },
    { label: "金额（元）", num: true, render: (r) => money(r.amount) },
    { label: "违规说明", render: (r) => h("div", { class: "evidence-text" }, txt(r.evidence_zh)) },
    { label: "知识点", key: "kp_id", nowrap: true },
  ], rows, () => ({ class: "evidence-row" }));
}

function appealForm(clue, reload) {
  const form = h("form", { class: "stack", id: "appeal-form" },
    h("label", {}, "申诉理由 *", h("textarea", { name: "reason", required: true })),
    h("label", {}, "佐证材料（PDF/JPG/PNG，每个不超过 10 MB）",
      h("input", { type: "file", name: "files", multiple: true, accept: ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" })),
    h("div", {}, h("button", { type: "submit", id: "appeal-submit" }, "提交申诉")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = new FormData();
    fd.set("version", String(clue.version));
    fd.set("reason", form.elements.reason.value.trim());
    for (const f of form.elements.files.files) fd.append("files", f, f.name);
    try {
      await api(`/api/clues/${clue.id}/appeal`, { method: "POST", body: fd });
      toast("申诉已提交", true);
      reload();
    } catch (e) {
      toast(e.message);
    }
  });
  return form;
}

export async function clueDetailPage(id) {
  const c = await api(`/api/clues/${id}`);
  const reload = () => rerender();
  const actions = c.actions.filter((a) => a.action !== "appeal");
  const canAppeal = c.actions.some((a) => a.action === "appeal");
  page(`线索 #${c.id}：${txt(c.rule_name)}`,
    c.overdue ? h("div", { class: "alert red", id: "clue-overdue" }, `本线索已超过办理时限（${txt(c.due_date)}）`) : null,
    h("div", { class: "grid" },
      panel("基本情况", h("dl", { class: "kv", id: "clue-summary" },
        h("dt", {}, "状态"), h("dd", { id: "clue-status" }, statusTag(c.status_zh, c.overdue)),
        h("dt", {}, "来源"), h("dd", {}, txt(SOURCE_ZH[c.source] || c.source)),
        h("dt", {}, "规则"), h("dd", {}, `${txt(c.rule_name)}（${txt(c.rule_id)}）`),
        h("dt", {}, "定性"), h("dd", {}, txt(c.result_type)),
        h("dt", {}, "机构"), h("dd", {}, `${txt(c.fixmedins_name)}（${txt(c.fixmedins_code)}）`),
        h("dt", {}, "区划"), h("dd", { class: "nowrap" }, txt(c.admdvs)),
        h("dt", {}, "期间"), h("dd", {}, txt(c.period)),
        h("dt", {}, "明细数"), h("dd", {}, num(c.hits)),
        h("dt", {}, "涉及金额"), h("dd", { id: "clue-amount" }, `${money(c.amount)} 元`),
        h("dt", {}, "核实金额"), h("dd", { id: "clue-confirmed" }, c.confirmed_amount === null ? "—" : `${money(c.confirmed_amount)} 元`),
        h("dt", {}, "办理结果"), h("dd", { id: "clue-outcome" }, txt(c.outcome_zh)),
        h("dt", {}, "办理时限"), h("dd", {}, dueCell(c.due_date, c.overdue, c.warning)),
        h("dt", {}, "关联案件"), h("dd", { id: "clue-case" },
          c.case_id ? h("a", { href: `#/cases/${c.case_id}`, id: "case-link" }, `案件 #${c.case_id}`) : "—"))),
      panel("为何被标记", h("dl", { class: "kv", id: "clue-basis" },
        c.description ? [h("dt", {}, "线索内容"), h("dd", { id: "clue-description", class: "pre-wrap" }, c.description)] : null,
        h("dt", {}, "政策依据"), h("dd", { id: "legal-basis" }, txt(c.legal_basis)),
        h("dt", {}, "知识来源"), h("dd", { id: "knowledge-source" }, txt(c.knowledge_source)),
        h("dt", {}, "处理建议"), h("dd", {}, txt(c.suggested_handling))))),
    panel(`证据明细（${c.evidence.length} 条）`, h("div", { id: "evidence" }, (c.source === "model" ? leadTable : evidenceTable)(c.evidence))),
    canAppeal ? panel("提出申诉", appealForm(c, reload)) : null,
    c.appeals.length ? panel("申诉记录", h("div", { id: "appeals" }, c.appeals.map((a) => h("div", { class: "appeal" },
      h("p", {}, `${when(a.at)}：${txt(a.reason)}`),
      h("ul", {}, a.files.map((f) => h("li", {}, h("a", { href: `/api/appeal-files/${f.id}`, download: f.filename }, f.filename)))))))) : null,
    isHospital() ? null : panel("办理操作", h("div", { id: "clue-actions" }, actionForms(actions, async (a, values) => {
      if (a.action === "open_case") {
        const cs = await api("/api/cases", { method: "POST", json: { clue_id: c.id, clue_version: c.version, psn_no: values.psn_no || "" } });
        location.hash = `#/cases/${cs.id}`;
        return;
      }
      await api(`/api/clues/${c.id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: c.version }, values) });
      reload();
    }))),
    panel("办理记录", h("ul", { class: "timeline", id: "clue-events" }, c.events.map((e) => h("li", {},
      h("div", { class: "when" }, `${when(e.at)} · ${txt(e.actor_name)}`),
      h("div", {}, h("b", {}, txt(e.action_zh)), e.to_status !== e.from_status ? ` → ${e.to_status_zh}` : "",
        e.comment ? `：${e.comment}` : ""))))));
}

