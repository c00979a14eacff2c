// 医保信用: the grade distribution by subject (chart), each subject's latest grade with its reasons and the
// grade's payment measures (审核比例, 预付, 双随机 weight; an insured person's 联网结算 standing), recomputing, the
// 严重失信名单 with its export for partner departments, and 信用修复 — the only way off the list.
import { api, isHospital, qs, rerender, state } from "./client.js";
import { chart, h, labelled, page, pager, panel, statusTag, table, toast, txt } from "./dom.js";
import { actionForms } from "./forms.js";

const SUBJECTS = [["institution", "定点医药机构"], ["staff", "医药服务人员"], ["insured", "参保人员"]];
const reasons = (r) => (r.reasons.length ? r.reasons.map((x) => `${x.label_zh}${x.deduct ? `（扣 ${x.deduct} 分）` : ""}`).join("；") : "无扣分事项");

export async function creditPage(params) {
  const subject = params.get("subject") || "institution";
  const pageNo = Number(params.get("page") || 1);
  const [grades, dist, black, repairs, measures] = await Promise.all([
    api(`/api/credit/grades${qs({ subject_type: subject, page: pageNo, size: 20 })}`),
    api("/api/credit/distribution"),
    api("/api/credit/blacklist"),
    api("/api/credit/repairs?size=50"),
    api("/api/credit/measures"),
  ]);
  const pct = (x) => `${Math.round(x * 100)}%`;
  const settlement = (r) => (r.settlement
    ? h("span", { class: r.settlement.suspended ? "tag warn settlement" : "tag settlement", title: r.settlement.periods.map((p) => `${p.since}–${p.until} ${p.basis_zh}`).join("\n") }, r.settlement.status_zh)
    : "—");
  const measureCols = subject === "insured"
    ? [{ label: "联网结算", render: settlement }, { label: "措施", key: "consequence" }]
    : [{ label: "审核比例", render: (r) => pct(r.measures.review_share) },
      { label: "预付", render: (r) => (r.measures.prepayment ? "可预付" : "暂停预付") },
      { label: "抽查权重", render: (r) => h("span", { class: "draw-weight" }, `×${r.measures.draw_weight}`) },
      { label: "结算措施", key: "consequence" }];
  const subjectId = params.get("id") || "";
  const history = subjectId ? await historyPanel(subject, subjectId, pct) : null;
  const byGrade = h("div", { class: "chart", id: "chart-credit" });
  const tabs = h("div", { class: "filters", id: "credit-subjects" },
    SUBJECTS.filter(([k]) => !(isHospital() && k === "insured")).map(([k, label]) =>
      h("a", { href: `#/credit${qs({ subject: k })}`, class: k === subject ? "active" : "", style: "margin-right:1.5em" }, label)));
  const manage = state.user.permissions.includes("credit.manage");  // a masked third party only reads
  const recompute = !manage ? null : h("button", { id: "credit-recompute", onclick: async () => {
    try {
      const r = await api("/api/credit/recompute", { method: "POST", json: {} });
      toast(`已重新评价 ${r.year} 年度，等级变化 ${r.changed.length} 个`, true);
      rerender();
    } catch (e) { toast(e.message); }
  } }, "按最新案件与记分重新评价");
  const lookup = h("form", { class: "filters", id: "credit-lookup" },
    h("label", {}, "编码 ", h("input", { name: "id", required: true, maxlength: 64, value: subjectId, placeholder: "机构编码、国家医保医师代码或人员编号" })),
    h("button", { type: "submit" }, "查看等级历史"));
  lookup.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = `#/credit${qs({ subject, id: lookup.elements.id.value.trim() })}`;
  });
  page("医保信用评价",
    panel("等级分布", recompute, byGrade),
    panel("信用档案查询（等级历史与理由）", lookup, history),
    panel("信用等级（含扣分理由）", tabs, table([
      { label: "对象", nowrap: true, render: (r) => (subject !== "institution" && !state.user.permissions.includes("patient.unmasked")
        ? `${r.subject_name}（${r.subject_id}）`  // masked: the code shown is not one to look up
        : h("a", { href: `#/credit${qs({ subject, id: r.subject_id })}` }, `${r.subject_name}（${r.subject_id}）`)) },
      { label: "得分", key: "score", num: true },
      { label: "等级", render: (r) => statusTag(`${r.grade} ${r.grade_zh}`, r.grade === "D" || r.grade === "E") },
      { label: "上次", render: (r) => txt(r.previous) }, { label: "理由", render: reasons },
      ...measureCols,
    ], grades.items, (r) => ({ class: "grade-row", "data-subject": r.subject_id, "data-grade": r.grade })), pager(grades, (p) => { location.hash = `#/credit${qs({ subject, page: p })}`; })),
    panel("各等级结算措施（配置）", table([
      { label: "等级", render: (m) => `${m.grade} ${m.grade_zh}` }, { label: "最低得分", key: "floor", num: true },
      { label: "人工审核比例", render: (m) => pct(m.review_share) }, { label: "预付", render: (m) => (m.prepayment ? "可预付" : "暂停预付") },
      { label: "双随机权重", render: (m) => `×${m.draw_weight}` }, { label: "机构与人员措施", key: "measure_zh" },
      { label: "参保人员措施", render: (m) => m.insured_measure_zh || "—" },
    ], measures)),
    panel(`严重失信名单（${black.total}）`, !manage ? null : h("p", { id: "blacklist-export" },
      "失信联合惩戒名单（推送合作部门，格式说明见 docs/exchange/joint-punishment.md）：",
      h("a", { href: "/api/credit/blacklist/export?format=xlsx", download: "", "data-format": "xlsx" }, "导出 Excel"), " ",
      h("a", { href: "/api/credit/blacklist/export?format=json", download: "", "data-format": "json" }, "导出 JSON")),
    table([
      { label: "对象", render: (r) => `${r.subject_type_zh} ${r.subject_name}（${r.subject_id}）` },
      { label: "事由", key: "reason" }, { label: "列入", key: "entered_on", nowrap: true },
      { label: "截止", key: "until", nowrap: true }, { label: "公开", render: (r) => (r.public ? "是" : "否") },
      { label: "移出名单", render: (r) => (!manage && !isHospital() ? "—" : h("button", { class: "small repair-start", onclick: () => {
        // leaving the list goes through 信用修复 (conditions, clean period, approval): prefill the application
        const f = document.getElementById("repair-apply");
        f.elements.subject_type.value = r.subject_type;
        f.elements.subject_id.value = r.subject_id;
        f.scrollIntoView();
        f.elements.rectification.focus();
      } }, "申请信用修复")) },
    ], black.items)),
    await repairPanel(repairs, manage || isHospital()));
  const gradeNames = Object.keys(dist.institution || {});
  chart(byGrade, {
    tooltip: { trigger: "axis" }, legend: { data: SUBJECTS.map(([, l]) => l) },
    xAxis: { type: "category", data: gradeNames }, yAxis: { type: "value", name: "数量" },
    series: SUBJECTS.map(([k, label]) => ({ name: label, type: "bar", data: gradeNames.map((g) => (dist[k] || {})[g] || 0) })),
  });
}

// A subject's grade history, newest first, each row with its reasons and measures; for an insured person the
// 联网结算 standing with its periods (a masked role sees the person masked, and may only look up what it sees).
async function historyPanel(subject, id, pct) {
  let rows;
  try { rows = await api(`/api/credit/history/${subject}/${encodeURIComponent(id)}`); } catch (e) {
    return h("p", { class: "muted", id: "credit-history" }, e.message);
  }
  const latest = rows[0];
  const s = latest.settlement;
  return h("div", { id: "credit-history", "data-grade": latest.grade, "data-weight": latest.measures.draw_weight },
    h("h4", {}, `${latest.subject_type_zh} ${latest.subject_name}（${latest.subject_id}）：${latest.grade} ${latest.grade_zh}，${latest.consequence}`),
    s ? h("div", { class: s.suspended ? "alert red" : "alert green", id: "credit-settlement" }, s.status_zh,
      s.periods.length ? h("ul", {}, s.periods.map((p) => h("li", {}, `${p.since} 至 ${p.until}${p.active ? "（执行中）" : ""}：${p.basis_zh}`))) : null) : null,
    table([
      { label: "评价时间", render: (r) => r.computed_at.slice(0, 16).replace("T", " "), nowrap: true }, { label: "年度", key: "year" },
      { label: "得分", key: "score", num: true }, { label: "等级", render: (r) => statusTag(`${r.grade} ${r.grade_zh}`, r.grade === "D" || r.grade === "E") },
      { label: "上次", render: (r) => txt(r.previous) }, { label: "理由", render: reasons },
      { label: "审核比例", render: (r) => pct(r.measures.review_share) }, { label: "预付", render: (r) => (r.measures.prepayment ? "可预付" : "暂停预付") },
      { label: "抽查权重", render: (r) => `×${r.measures.draw_weight}` },
    ], rows, () => ({ class: "history-row" })));
}

// 信用修复: apply (rectification, evidence, pledge), then each application with its state, clean period and the
// engine's actions (受理 → 审核 → 负责人审批; who may act and why not comes from the server).
async function repairPanel(repairs, mayApply) {
  const form = h("form", { class: "filters", id: "repair-apply" },
    h("label", {}, "对象", h("select", { name: "subject_type" }, SUBJECTS.filter(([k]) => !(isHospital() && k === "insured"))
      .map(([k, l]) => h("option", { value: k }, l)))),
    h("label", {}, "编码", h("input", { name: "subject_id", required: true, maxlength: 64 })),
    h("label", {}, "整改情况", h("input", { name: "rectification", required: true, maxlength: 4000 })),
    h("label", {}, "佐证材料（逗号分隔）", h("input", { name: "evidence", required: true })),
    h("label", {}, "信用承诺", h("input", { name: "pledge", required: true, maxlength: 2000 })),
    h("button", { type: "submit" }, "提交信用修复申请"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    try {
      await api("/api/credit/repairs", { method: "POST", json: { subject_type: f.subject_type.value, subject_id: f.subject_id.value.trim(),
        rectification: f.rectification.value.trim(), pledge: f.pledge.value.trim(),
        evidence: f.evidence.value.split(/[,，、]/).map((x) => x.trim()).filter(Boolean) } });
      toast("已提交信用修复申请", true);
      rerender();
    } catch (e) { toast(e.message); }
  });
  const details = await Promise.all(repairs.items.map((r) => api(`/api/credit/repairs/${r.id}`)));
  return panel(`信用修复申请（${repairs.total}）`, mayApply ? form : null, h("div", { id: "credit-repairs" }, details.map((r) => h("div", { class: "repair", "data-id": r.id },
    h("h4", {}, `#${r.id} ${r.subject_type_zh} ${r.subject_name}（${r.subject_id}）：${r.status_zh}`),
    labelled(r, [["grade_before", "修复前等级"], ["grade_after", "修复后等级"], ["rectification", "整改情况"],
      ["pledge", "信用承诺"], ["applied_on", "申请日期"], ["eligible_on", "最早可修复日期"], ["decide_by", "办理时限"]]),
    h("p", {}, `佐证材料：${r.evidence.join("、")}`),
    h("ul", { class: "timeline" }, r.timeline.map((t) => h("li", {}, `${t.at.slice(0, 16)} ${t.actor} ${t.action_zh} → ${t.to_status_zh}${t.comment ? `：${t.comment}` : ""}`))),
    r.actions.length ? actionForms(r.actions, async (a, values) => {
      await api(`/api/credit/repairs/${r.id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: r.version }, values) });
      rerender();
    }) : null))));
}
