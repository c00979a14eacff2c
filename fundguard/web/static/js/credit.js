// 医保信用: the grade distribution by subject (chart), each subject's latest grade with its reasons and the
// grade's consequence, recomputing, and the 严重失信名单 with repair (leaving the list with a reason).
import { api, isHospital, qs, rerender } from "./client.js";
import { chart, h, page, pager, panel, statusTag, table, toast, txt } from "./dom.js";

const SUBJECTS = [["institution", "定点医药机构"], ["staff", "医药服务人员"], ["insured", "参保人员"]];
const reasons = (r) => (r.reasons.length ? r.reasons.map((x) => `${x.label_zh}${x.deduct ? `（扣 ${x.deduct} 分）` : ""}`).join("；") : "无扣分事项");

export async function creditPage(params) {
  const subject = params.get("subject") || "institution";
  const pageNo = Number(params.get("page") || 1);
  const [grades, dist, black] = await Promise.all([
    api(`/api/credit/grades${qs({ subject_type: subject, page: pageNo, size: 20 })}`),
    api("/api/credit/distribution"),
    api("/api/credit/blacklist"),
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
    ], black.items)));
  const gradeNames = Object.keys(dist.institution || {});
  chart(byGrade, {
    tooltip: { trigger: "axis" }, legend: { data: SUBJECTS.map(([, l]) => l) },
    xAxis: { type: "category", data: gradeNames }, yAxis: { type: "value", name: "数量" },
    series: SUBJECTS.map(([k, label]) => ({ name: label, type: "bar", data: gradeNames.map((g) => (dist[k] || {})[g] || 0) })),
  });
}
