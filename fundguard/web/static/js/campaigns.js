// Special campaigns (专项整治): the list and a new plan; a campaign's phases, figures (ECharts), returns and
// re-checks, its 清零 ledger, its summary report (Word/PDF); one institution's 自查自纠 return. Forms, state names and labels come from the
// engine; a hospital sees only the campaigns it is in and its own return.
import { api, isHospital, qs, rerender, state } from "./client.js";
import { chart, dueCell, h, money, num, page, pager, panel, statusTag, table, toast, txt, when } from "./dom.js";
import { actionForms } from "./forms.js";

const can = (perm) => state.user && state.user.permissions.includes(perm);
const THEMES = ["三假", "骨科耗材", "血液透析", "异地就医", "医学影像", "康复理疗", "药品串换", "其他"];
const lines = (v) => v.split(/[\n,，、]+/).map((s) => s.trim()).filter(Boolean);

function campaignForm() {
  const form = h("form", { class: "stack", id: "campaign-form" },
    h("label", {}, "整治名称 *", h("input", { name: "title", required: true })),
    h("label", {}, "整治主题 *", h("select", { name: "theme" }, THEMES.map((t) => h("option", { value: t }, t)))),
    h("label", {}, "整治重点（每行一项）", h("textarea", { name: "focus" })),
    h("label", {}, "针对的规则/模型编号（每行一个）", h("textarea", { name: "targets" })),
    h("label", {}, "整治范围：机构编码（每行一个；不填为本辖区全部机构）", h("textarea", { name: "institutions" })),
    h("label", {}, "问题整改期限（天）", h("input", { name: "rectify_days", type: "number", min: "1", max: "365", value: "30" })),
    h("div", {}, h("button", { type: "submit" }, "提交整治方案（报负责人批准）")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    try {
      const r = await api("/api/campaigns", { method: "POST", json: { title: f.title.value.trim(), theme: f.theme.value,
        focus_areas: lines(f.focus.value), targets: lines(f.targets.value), institutions: lines(f.institutions.value),
        rectify_days: Number(f.rectify_days.value) } });
      location.hash = `#/campaigns/${r.id}`;
    } catch (e) { toast(e.message); }
  });
  return form;
}

export async function campaignsPage(params) {
  const pageNo = Number(params.get("page") || 1);
  const data = await api(`/api/campaigns${qs({ page: pageNo, size: 20 })}`);
  page("专项整治", panel(null, table([
    { label: "编号", nowrap: true, render: (r) => h("a", { href: `#/campaigns/${r.id}`, class: "campaign-link" }, r.number) },
    { label: "名称", key: "title" }, { label: "主题", key: "theme_zh" },
    { label: "自查截止", render: (r) => dueCell(r.self_check_due, r.overdue) },
    { label: "阶段", render: (r) => statusTag(r.status_zh, r.overdue) },
  ], data.items), pager(data, (p) => { location.hash = `#/campaigns${qs({ page: p })}`; })),
  can("campaign.manage") ? panel("制定专项整治方案", campaignForm()) : null);
}

function figures(st) {
  const card = (label, value, id, warn) => h("div", { class: warn ? "card warn" : "card", id },
    h("div", { class: "label" }, label), h("div", { class: "value" }, value));
  return h("div", { class: "cards", id: "campaign-figures" },
    card("范围内机构", num(st.institutions), "fig-institutions"),
    card("已报送自查", `${num(st.reported)}（${(st.report_rate * 100).toFixed(1)}%）`, "fig-reported"),
    card("自查问题", num(st.self_problems), "fig-self-problems"),
    card("主动退回（元）", money(st.refunded), "fig-refunded"),
    card("抽中复查 / 已复查", `${num(st.selected)} / ${num(st.checked)}`, "fig-checked"),
    card("复查发现金额（元）", money(st.found_amount), "fig-found"),
    card("未自查问题（从严）", num(st.unreported), "fig-strict", st.unreported > 0),
    card("清零进度", `${num(st.ledger.closed)} / ${num(st.ledger.open + st.ledger.closed)}`, "fig-ledger", st.ledger.overdue > 0));
}

export async function campaignDetailPage(id) {
  const c = await api(`/api/campaigns/${id}`);
  const returns = await api(`/api/campaigns/${id}/returns?size=200`);
  const st = c.stats;
  const byStatus = st ? h("div", { class: "chart", id: "chart-campaign-status" }) : null;
  const ledgerChart = st ? h("div", { class: "chart", id: "chart-campaign-ledger" }) : null;
  // the summary report goes with the figures: whoever reads these (never a hospital) may print them
  const report = st ? h("p", { id: "campaign-report" },
    h("a", { href: `/api/campaigns/${id}/report`, download: "", class: "btn", id: "campaign-report-docx" }, "生成专项整治总结报告（Word）"), " ",
    h("a", { href: `/api/campaigns/${id}/report?format=pdf`, download: "", id: "campaign-report-pdf" }, "PDF")) : null;
  page(`专项整治 ${c.number}`,
    panel(null, h("dl", { class: "kv" },
      h("dt", {}, "名称"), h("dd", {}, c.title), h("dt", {}, "阶段"), h("dd", { id: "campaign-status" }, c.status_zh),
      h("dt", {}, "主题"), h("dd", {}, c.theme_zh), h("dt", {}, "整治重点"), h("dd", {}, c.focus_areas.join("、") || "—"),
      isHospital() ? null : [h("dt", {}, "针对规则/模型"), h("dd", {}, c.targets.join("、") || "—")],
      h("dt", {}, "自查截止"), h("dd", {}, dueCell(c.self_check_due, c.overdue)),
      c.seed_value ? [h("dt", {}, "复查抽取"), h("dd", {}, `种子值「${c.seed_value}」，比例 ${c.sample_ratio}%（未报送自查的机构全部复查）`)] : null,
      c.summary ? [h("dt", {}, "总结"), h("dd", {}, c.summary)] : null)),
    st ? panel("整治成效", figures(st), report, h("div", { class: "grid" }, byStatus, ledgerChart,
      table([{ label: "区划", key: "admdvs" }, { label: "机构", num: true, key: "institutions" },
        { label: "已报送", num: true, key: "reported" }, { label: "退回（元）", num: true, render: (r) => money(r.refunded) },
        { label: "抽中", num: true, key: "selected" }, { label: "已复查", num: true, key: "checked" }], st.regions)),
      can("inspection.view") ? h("p", {}, h("a", { href: `/api/campaigns/${id}/problems.xlsx`, download: "", id: "campaign-ledger" }, "导出本次整治问题清零台账（Excel）")) : null) : null,
    panel(isHospital() ? "本院自查自纠" : "机构自查自纠与复查", table([
      { label: "机构", render: (r) => h("a", { href: `#/campaign-returns/${r.id}`, class: "return-link" }, `${r.fixmedins_code} ${r.fixmedins_name}`) },
      { label: "状态", key: "status_zh" }, { label: "自查问题", num: true, render: (r) => num(r.problems.length) },
      { label: "主动退回（元）", num: true, render: (r) => money(r.refunded) },
      isHospital() ? null : { label: "针对规则线索", num: true, render: (r) => num(r.target_clues) },
      { label: "抽中复查", render: (r) => (r.selected === null ? "—" : r.selected ? "是" : "否") },
      { label: "从严", render: (r) => (r.strict ? h("span", { class: "tag red" }, "从严处理") : "—") },
    ].filter(Boolean), returns.items)),
    isHospital() ? null : panel("办理操作", h("div", { id: "campaign-actions" }, actionForms(c.actions, async (a, values) => {
      await api(`/api/campaigns/${id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: c.version }, values) });
      rerender();
    }))),
    isHospital() ? null : panel("办理过程", table([{ label: "时间", render: (e) => when(e.at) }, { label: "操作人", key: "actor" },
      { label: "操作", key: "label_zh" }, { label: "进入阶段", key: "to_zh" }, { label: "意见", key: "comment" }], c.events)));
  if (byStatus) {
    chart(byStatus, {
      tooltip: { trigger: "axis" }, grid: { left: 40, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "category", data: st.by_status.map((s) => s.status_zh) }, yAxis: { type: "value", name: "机构数" },
      series: [{ type: "bar", data: st.by_status.map((s) => s.count), name: "机构数" }],
    });
    const { open, closed, overdue } = st.ledger;
    chart(ledgerChart, {
      title: { text: "问题清零", subtext: open + closed ? "" : "清零台账暂无问题（自查结束后入账）", left: "center",
        textStyle: { fontSize: 13 } }, tooltip: { trigger: "item" }, legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "60%"], name: "问题数", stillShowZeroSum: false, data: [
        { name: "已清零", value: closed }, { name: "未清零（未逾期）", value: open - overdue },
        { name: "逾期未清零", value: overdue }] }],
    });
  }
}

export async function campaignReturnPage(id) {
  const r = await api(`/api/campaigns/returns/${id}`);
  page(`自查自纠 ${r.fixmedins_code} ${r.fixmedins_name}`,
    panel(null, h("dl", { class: "kv" },
      h("dt", {}, "专项整治"), h("dd", {}, h("a", { href: `#/campaigns/${r.campaign_id}` }, `返回整治 ${r.campaign_id}`)),
      h("dt", {}, "状态"), h("dd", { id: "return-status" }, r.status_zh),
      h("dt", {}, "报送日期"), h("dd", {}, txt(r.reported_on)),
      h("dt", {}, "主动退回（元）"), h("dd", {}, money(r.refunded)),
      r.selected === null ? null : [h("dt", {}, "抽中复查"), h("dd", {}, r.selected ? "是" : "否")],
      r.strict ? [h("dt", {}, "处理"), h("dd", { class: "tag red" }, r.strict_zh)] : null)),
    panel("自查发现的问题", table([{ label: "问题", render: (p) => p }], r.problems)),
    r.found.length ? panel(`复查发现的问题（涉及 ${money(r.found_amount)} 元，其中未自查 ${r.unreported} 个）`,
      table([{ label: "问题", render: (p) => p }], r.found)) : null,
    panel("办理操作", h("div", { id: "return-actions" }, actionForms(r.actions, async (a, values) => {
      await api(`/api/campaigns/returns/${id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: r.version }, values) });
      rerender();
    }))),
    panel("办理过程", table([{ label: "时间", render: (e) => when(e.at) }, { label: "操作人", key: "actor" },
      { label: "操作", key: "label_zh" }, { label: "进入状态", key: "to_zh" }, { label: "意见", key: "comment" }], r.events)));
}
