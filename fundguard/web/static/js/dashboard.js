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
}

