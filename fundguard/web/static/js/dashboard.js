// Dashboard (仪表盘): totals and charts.
import { api, state } from "./client.js";
import { crossRegionCards } from "./cooperation.js";
import { chart, h, money, num, page, panel } from "./dom.js";

export async function dashboardPage() {
  const d = await api("/api/dashboard");
  const perms = new Set(state.user ? state.user.permissions : []);
  const crossRegion = perms.has("crossregion.view") ? await crossRegionCards() : null;  // 异地就医 focus (issue 16)
  const t = d.totals;
  const card = (label, value, id, warn) => h("div", { class: warn ? "card warn" : "card", id },
    h("div", { class: "label" }, label), h("div", { class: "value" }, value));
  const byRule = h("div", { class: "chart", id: "chart-rule" });
  const byRegion = h("div", { class: "chart", id: "chart-region" });
  const byMonth = h("div", { class: "chart", id: "chart-month" });
  page("仪表盘",
    h("div", { class: "cards" },
      card("线索数", num(t.clues), "total-clues"),
      card("涉及金额（元）", money(t.amount_at_issue), "total-amount"),
      card("确认违规金额（元）", money(t.confirmed_amount), "total-confirmed"),
      card("已追回（元）", money(t.recovered), "total-recovered"),
      card("罚款（元）", money(t.fines), "total-fines"),
      card("在办案件", num(t.cases_open), "total-cases"),
      card("超期事项", num(t.overdue), "total-overdue", Number(t.overdue) > 0)),
    crossRegion,
    h("div", { class: "grid" },
      panel("按规则：线索数与涉及金额", byRule),
      panel("按区划：线索数与涉及金额", byRegion)),
    panel("按月份：线索、涉及金额与追回金额", byMonth));
  const rules = d.by_rule.slice(0, 15).reverse();
  chart(byRule, {
    tooltip: { trigger: "axis" }, grid: { left: 190, right: 30, top: 30, bottom: 30 },
    legend: { data: ["线索数", "涉及金额"] },
    xAxis: [{ type: "value", name: "线索数" }, { type: "value", name: "金额", show: false }],
    yAxis: { type: "category", data: rules.map((r) => r.rule_name || r.rule_id),
      axisLabel: { width: 170, overflow: "truncate" } },
    series: [{ name: "线索数", type: "bar", data: rules.map((r) => r.count) },
      { name: "涉及金额", type: "bar", xAxisIndex: 1, data: rules.map((r) => Number(r.amount)) }],
  });
  const regions = d.by_region;
  chart(byRegion, {
    tooltip: { trigger: "axis" }, legend: { data: ["线索数", "涉及金额"] }, grid: { left: 60, right: 60, bottom: 60 },
    xAxis: { type: "category", data: regions.map((r) => r.name || r.admdvs), axisLabel: { rotate: 30 } },
    yAxis: [{ type: "value", name: "线索数" }, { type: "value", name: "金额（元）" }],
    series: [{ name: "线索数", type: "bar", data: regions.map((r) => r.count) },
      { name: "涉及金额", type: "line", yAxisIndex: 1, data: regions.map((r) => Number(r.amount)) }],
  });
  const months = d.by_month;
  chart(byMonth, {
    tooltip: { trigger: "axis" }, legend: { data: ["线索数", "涉及金额", "追回金额"] }, grid: { left: 60, right: 70 },
    xAxis: { type: "category", data: months.map((m) => m.month) },
    yAxis: [{ type: "value", name: "线索数" }, { type: "value", name: "金额（元）" }],
    series: [{ name: "线索数", type: "bar", data: months.map((m) => m.count) },
      { name: "涉及金额", type: "line", yAxisIndex: 1, data: months.map((m) => Number(m.amount)) },
      { name: "追回金额", type: "line", yAxisIndex: 1, data: months.map((m) => Number(m.recovered)) }],
  });
  if (perms.has("credit.view")) await creditPanel(regions);
  if (state.user && state.user.permissions.includes("inspection.view")) await inspectionPanels();
}

// 医保信用: the latest grades counted by grade for institutions, staff and insured persons, for the user's scope
// or one region in it (the API refuses a region outside the scope).
const CREDIT_SUBJECTS = [["institution", "定点医药机构"], ["staff", "医药服务人员"], ["insured", "参保人员"]];

async function creditPanel(regions) {
  const el = h("div", { class: "chart", id: "chart-credit-grades" });
  const pick = h("select", { id: "credit-region" }, h("option", { value: "" }, "全部（本人管辖范围）"),
    regions.filter((r) => /^\d{6}$/.test(r.admdvs || "")).map((r) => h("option", { value: r.admdvs }, r.name || r.admdvs)));
  const draw = async () => {
    const dist = await api(`/api/credit/distribution${pick.value ? `?region=${pick.value}` : ""}`);
    const grades = Object.keys(dist.institution || {});
    const subjects = CREDIT_SUBJECTS.filter(([k]) => dist[k] && !(state.user.role === "hospital" && k === "insured"));
    el.dataset.total = String(subjects.reduce((n, [k]) => n + grades.reduce((m, g) => m + (dist[k][g] || 0), 0), 0));
    const option = {
      tooltip: { trigger: "axis" }, legend: { data: subjects.map(([, l]) => l) }, grid: { left: 60, right: 20 },
      xAxis: { type: "category", name: "信用等级", data: grades }, yAxis: { type: "value", name: "数量", minInterval: 1 },
      series: subjects.map(([k, label]) => ({ name: label, type: "bar", data: grades.map((g) => dist[k][g] || 0) })),
    };
    if (el.chart) el.chart.setOption(option, true); else el.chart = chart(el, option);
    el.dataset.region = pick.value;
  };
  pick.addEventListener("change", () => { draw(); });
  document.getElementById("main").append(panel("信用等级分布（机构、医药服务人员、参保人员）",
    state.user.role === "hospital" ? null : h("label", { class: "filters" }, "区划 ", pick), el));
  await draw();
}

// 监督检查: the year's plan coverage (全覆盖) by region and type, campaign progress, 清零 progress by source.
async function inspectionPanels() {
  const o = await api("/api/inspections/overview");
  const main = document.getElementById("main");
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  const cov = h("div", { class: "chart", id: "chart-coverage" });
  const covType = h("div", { class: "chart", id: "chart-coverage-type" });
  const camp = h("div", { class: "chart", id: "chart-campaigns" });
  const clear = h("div", { class: "chart", id: "chart-clearing" });
  main.append(
    panel(o.plan ? `${o.plan.title}：全覆盖进度 ${num(o.plan.done)} / ${num(o.plan.total)}（${pct(o.plan.coverage)}）` : "年度监督检查计划：尚未制定",
      h("div", { class: "grid", id: "inspection-coverage" }, o.plan ? [cov, covType] : [])),
    h("div", { class: "grid" },
      panel("专项整治进度", o.campaigns.length ? camp : h("p", { class: "muted" }, "暂无专项整治")),
      panel("问题清零进度", o.problems.length ? clear : h("p", { class: "muted", id: "no-problems" }, "暂无问题台账"))));
  const stacked = (el, rows) => chart(el, {
    tooltip: { trigger: "axis" }, legend: { data: ["已检查", "未检查"] }, grid: { left: 60, right: 20, bottom: 60 },
    xAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { rotate: 30 } }, yAxis: { type: "value", name: "机构数" },
    series: [{ name: "已检查", type: "bar", stack: "c", data: rows.map((r) => r.done) },
      { name: "未检查", type: "bar", stack: "c", data: rows.map((r) => r.total - r.done) }],
  });
  if (o.plan) { stacked(cov, o.plan.regions); stacked(covType, o.plan.types); }
  if (o.campaigns.length) {
    chart(camp, {
      tooltip: { trigger: "axis" }, legend: { data: ["范围内机构", "已报送自查", "抽中复查", "已复查"] },
      grid: { left: 60, right: 20, bottom: 60 },
      xAxis: { type: "category", data: o.campaigns.map((c) => c.title), axisLabel: { rotate: 20, width: 120, overflow: "truncate" } },
      yAxis: { type: "value", name: "机构数" },
      series: [["范围内机构", "institutions"], ["已报送自查", "reported"], ["抽中复查", "selected"], ["已复查", "checked"]]
        .map(([name, k]) => ({ name, type: "bar", data: o.campaigns.map((c) => c[k]) })),
    });
  }
  if (o.problems.length) {
    chart(clear, {
      tooltip: { trigger: "axis" }, legend: { data: ["已清零", "未清零", "其中超期"] }, grid: { left: 60, right: 20 },
      xAxis: { type: "category", data: o.problems.map((p) => p.source_zh) }, yAxis: { type: "value", name: "问题数" },
      series: [{ name: "已清零", type: "bar", stack: "p", data: o.problems.map((p) => p.closed) },
        { name: "未清零", type: "bar", stack: "p", data: o.problems.map((p) => p.open) },
        { name: "其中超期", type: "line", data: o.problems.map((p) => p.overdue) }],
    });
  }
}
