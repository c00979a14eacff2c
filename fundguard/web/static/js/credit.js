// 医保信用: the grade distribution by subject (chart), each subject's latest grade with its reasons and the
// grade's consequence, recomputing, and the 严重失信名单 with repair (leaving the list with a reason).
import { api, isHospital, qs, rerender } from "./client.js";
import { chart, h, labelled, page, pager, panel, statusTag, table, toast, txt } from "./dom.js";
import { actionForms } from "./forms.js";

const SUBJECTS = [["institution", "定点医药机构"], ["staff", "医药服务人员"], ["insured", "参保人员"]];
const reasons = (r) => (r.reasons.length ? r.reasons.map((x) => `${x.label_zh}${x.deduct ? `（扣 ${x.deduct} 分）` : ""}`).join("；") : "无扣分事项");

export async function creditPage(params) {
  const subject = params.get("subject") || "institution";
  const pageNo = Number(params.get("page") || 1);
  const [grades, dist, black, repairs] = await Promise.all([
    api(`/api/credit/grades${qs({ subject_type: subject, page: pageNo, size: 20 })}`),
    api("/api/credit/distribution"),
    api("/api/credit/blacklist"),
    api("/api/credit/repairs?size=50"),
  ]);
  const byGrade = h("div", { class: "chart", id: "chart-credit" });
  const tabs = h("div", { class: "filters", id: "credit-subjects" },
    SUBJECTS.filter(([k]) => !(isHospital() && k === "insured")).map(([k, label]) =>
      h("a", { href: `#/credit${qs({ subject: k })}`, class: k === subject ? "active" : "", style: "margin-right:1.5em" }, label)));
  const recompute = isHospital() ? null : h("button", { id: "credit-recompute", onclick: async () => {
    try {
      const r = await api("/api/credit/recompute", { method: "POST", json: {} });
      toast(`已重新评价 ${r.year} 年度，等级变化 ${r.changed.length} 个`, true);
      rerender();
    } catch (e) { toast(e.message); }
  } }, "按最新案件与记分重新评价");
  page("医保信用评价",
    panel("等级分布", recompute, byGrade),
    panel("信用等级（含扣分理由）", tabs, table([
      { label: "对象", nowrap: true, render: (r) => `${r.subject_name}（${r.subject_id}）` },
      { label: "得分", key: "score", num: true },
      { label: "等级", render: (r) => statusTag(`${r.grade} ${r.grade_zh}`, r.grade === "D" || r.grade === "E") },
      { label: "上次", render: (r) => txt(r.previous) }, { label: "理由", render: reasons },
      { label: "结算措施", key: "consequence" },
    ], grades.items), pager(grades, (p) => { location.hash = `#/credit${qs({ subject, page: p })}`; })),
    panel(`严重失信名单（${black.total}）`, table([
      { label: "对象", render: (r) => `${r.subject_type_zh} ${r.subject_name}（${r.subject_id}）` },
      { label: "事由", key: "reason" }, { label: "列入", key: "entered_on", nowrap: true },
      { label: "截止", key: "until", nowrap: true }, { label: "公开", render: (r) => (r.public ? "是" : "否") },
      { label: "信用修复", render: (r) => (isHospital() ? "—" : h("button", { class: "small", onclick: async () => {
        const why = window.prompt("移出理由（整改完成、期满无新增违规等）");
        if (!why) return;
        try { await api(`/api/credit/blacklist/${r.id}/leave`, { method: "POST", json: { reason: why } }); rerender(); } catch (e) { toast(e.message); }
      } }, "移出")) },
    ], black.items)),
    await repairPanel(repairs));
  const gradeNames = Object.keys(dist.institution || {});
  chart(byGrade, {
    tooltip: { trigger: "axis" }, legend: { data: SUBJECTS.map(([, l]) => l) },
    xAxis: { type: "category", data: gradeNames }, yAxis: { type: "value", name: "数量" },
    series: SUBJECTS.map(([k, label]) => ({ name: label, type: "bar", data: gradeNames.map((g) => (dist[k] || {})[g] || 0) })),
  });
}

// 信用修复: apply (rectification, evidence, pledge), then each application with its state, clean period and the
// engine's actions (受理 → 审核 → 负责人审批; who may act and why not comes from the server).
async function repairPanel(repairs) {
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
  return panel(`信用修复申请（${repairs.total}）`, form, h("div", { id: "credit-repairs" }, details.map((r) => h("div", { class: "repair", "data-id": r.id },
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
