// Inspections (监督检查): the registries (检查对象、检查人员/专家/第三方人员), Excel/CSV import with bad rows
// listed, and 双随机一公开 draws — draw, redraw citing the old one, verify, publish. Published draws are listed
// for every role (公开); the rest needs inspection.view.
import { api, isHospital, qs, rerender, state } from "./client.js";
import { dueCell, h, money, num, page, pager, panel, statusTag, table, toast, txt, when } from "./dom.js";
import { actionForms } from "./forms.js";

const can = (perm) => state.user && state.user.permissions.includes(perm);

function tabs(active) {
  return h("div", { class: "filters", id: "inspection-tabs" },
    [["targets", "检查对象名录库"], ["people", "检查人员与专家库"], ["draws", "双随机抽取"], ["plan", "年度计划与问题清零"]].map(([k, label]) =>
      h("a", { href: `#/inspections${qs({ tab: k })}`, class: k === active ? "active" : "", "data-tab": k }, label)));
}

export async function inspectionsPage(params) {
  const tab = params.get("tab") || "targets";
  const pageNo = Number(params.get("page") || 1);
  const go = (p) => { location.hash = `#/inspections${qs({ tab, page: p })}`; };
  if (tab === "people") return peopleTab(pageNo, go);
  if (tab === "draws") return drawsPage(params, true);
  if (tab === "plan") return planTab(params);
  const data = await api(`/api/inspections/targets${qs({ page: pageNo, size: 50 })}`);
  const edit = async (r) => {
    const w = window.prompt(`「${r.name}」的风险权重（1–10）`, String(r.risk_weight));
    if (w === null) return;
    try {
      await api(`/api/inspections/targets/${encodeURIComponent(r.fixmedins_code)}`, { method: "PATCH", json: { risk_weight: Number(w) } });
      toast("已修改，已记入修改历史", true);
      rerender();
    } catch (e) { toast(e.message); }
  };
  page("监督检查", tabs(tab), panel("检查对象名录库", table([
    { label: "机构编码", key: "fixmedins_code", nowrap: true }, { label: "机构名称", key: "name" },
    { label: "区划", key: "admdvs" }, { label: "类型", key: "fixmedins_type" }, { label: "等级", key: "hosp_lv" },
    { label: "在办线索", num: true, render: (r) => num(r.open_clues) },
    { label: "风险权重", num: true, render: (r) => num(r.risk_weight) },
    { label: "纳入抽查", render: (r) => (r.eligible ? "是" : "否") },
    { label: "最近检查", render: (r) => txt(r.last_inspected) },
    { label: "", render: (r) => (can("inspection.manage") ? h("button", { class: "secondary", onclick: () => edit(r) }, "调整权重") : "") },
  ], data.items), pager(data, go)),
  can("inspection.manage") ? panel("导入检查对象名录（Excel/CSV）", targetImportForm()) : null);
}

function targetImportForm() {
  const result = h("div", { id: "target-import-result" });
  const form = h("form", { class: "stack", id: "target-import" },
    h("label", {}, "Excel/CSV 文件（列：机构编码、风险权重、纳入抽查、最近检查日期、备注）",
      h("input", { type: "file", name: "file", accept: ".xlsx,.csv", required: true })),
    h("div", {}, h("button", { type: "submit" }, "导入")), result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = new FormData();
    body.append("file", form.elements.file.files[0]);
    try {
      const r = await api("/api/inspections/targets/import", { method: "POST", body });
      result.replaceChildren(h("div", { class: r.bad.length ? "alert orange" : "alert green" },
        `更新 ${r.updated} 家，无变化 ${r.unchanged} 家，错误 ${r.bad.length} 行（错误行未导入）`),
      r.bad.length ? table([{ label: "行号", key: "line" }, { label: "机构编码", key: "code" }, { label: "原因", key: "zh" }], r.bad) : null);
    } catch (e) { toast(e.message); }
  });
  return form;
}

function importForm() {
  const result = h("div", { id: "import-result" });
  const form = h("form", { class: "stack", id: "people-import" },
    h("label", {}, "Excel/CSV 文件（列：类别、姓名、执法证号、区划、单位、专业、曾任职机构、近亲属任职机构）",
      h("input", { type: "file", name: "file", accept: ".xlsx,.csv", required: true })),
    h("div", {}, h("button", { type: "submit" }, "导入")), result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = new FormData();
    body.append("file", form.elements.file.files[0]);
    try {
      const r = await api("/api/inspections/people/import", { method: "POST", body });
      result.replaceChildren(h("div", { class: r.bad.length ? "alert orange" : "alert green" },
        `新增 ${r.created} 人，更新 ${r.updated} 人，错误 ${r.bad.length} 行`),
      r.bad.length ? table([{ label: "行号", key: "line" }, { label: "原因", key: "zh" }], r.bad) : null);
    } catch (e) { toast(e.message); }
  });
  return form;
}

function personForm() {
  const form = h("form", { class: "stack", id: "person-form" },
    h("label", {}, "类别", h("select", { name: "kind" }, [["officer", "执法人员"], ["expert", "专家"], ["agency_staff", "第三方机构人员"]]
      .map(([v, l]) => h("option", { value: v }, l)))),
    h("label", {}, "姓名 *", h("input", { name: "name", required: true })),
    h("label", {}, "执法证号（执法人员必填）", h("input", { name: "cert_no" })),
    h("label", {}, "区划（默认本人区划）", h("input", { name: "admdvs" })),
    h("label", {}, "曾任职机构编码（分号分隔，回避用）", h("input", { name: "former_employers" })),
    h("label", {}, "近亲属任职机构编码（分号分隔，回避用）", h("input", { name: "relatives_at" })),
    h("div", {}, h("button", { type: "submit" }, "新增")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    try {
      await api("/api/inspections/people", { method: "POST", json: { kind: f.kind.value, name: f.name.value.trim(),
        cert_no: f.cert_no.value.trim(), admdvs: f.admdvs.value.trim(), former_employers: f.former_employers.value,
        relatives_at: f.relatives_at.value } });
      toast("已新增", true);
      rerender();
    } catch (e) { toast(e.message); }
  });
  return form;
}

async function peopleTab(pageNo, go) {
  const data = await api(`/api/inspections/people${qs({ page: pageNo, size: 50 })}`);
  page("监督检查", tabs("people"), panel("执法检查人员、专家与第三方人员", table([
    { label: "类别", key: "kind_zh" }, { label: "姓名", key: "name" }, { label: "执法证号", key: "cert_no", nowrap: true },
    { label: "区划", key: "admdvs" }, { label: "专业", key: "speciality" },
    { label: "可抽取", render: (r) => (r.available ? "是" : "否") },
    { label: "回避：曾任职", render: (r) => txt(r.former_employers.join("、")) },
    { label: "回避：近亲属", render: (r) => txt(r.relatives_at.join("、")) },
  ], data.items), pager(data, go)),
  can("inspection.manage") ? [panel("新增人员", personForm()), panel("批量导入", importForm())] : null);
}

// 重点领域 (focus areas) of a draw or an annual plan: today 异地就医 (its abnormal institutions weigh more in a draw
// and go on site in a plan, each with the reason shown).
function focusBox() {
  return h("label", { class: "check" }, h("input", { type: "checkbox", name: "focus_crossregion", value: "crossregion" }),
    " 重点领域：异地就医（异地就医异常的机构优先，并注明原因）");
}
const focusOf = (f) => (f.focus_crossregion.checked ? ["crossregion"] : []);

function drawForm(previous) {
  const form = h("form", { class: "stack", id: previous ? "redraw-form" : "draw-form" },
    h("label", {}, "抽查任务名称 *", h("input", { name: "title", required: true, value: previous ? `${previous.title}（重抽）` : "" })),
    h("label", {}, "种子值 *（抽取前已确定：公开开奖号码、上次抽取哈希或见证人录入值）", h("input", { name: "seed_value", required: true })),
    h("label", {}, "各层抽取比例", h("input", { name: "ratio", type: "number", step: "0.01", min: "0.01", max: "1", value: "0.1" })),
    h("label", {}, "每组执法人员数", h("input", { name: "team_size", type: "number", min: "2", value: "2" })),
    focusBox(),
    previous ? h("label", {}, "重抽理由 *", h("textarea", { name: "reason", required: true })) : null,
    h("div", {}, h("button", { type: "submit" }, previous ? "重新抽取（新记录，引用原记录）" : "抽取")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    try {
      const d = await api("/api/inspections/draws", { method: "POST", json: { title: f.title.value.trim(),
        seed_value: f.seed_value.value.trim(), rules: { ratio: Number(f.ratio.value), team_size: Number(f.team_size.value) },
        previous_id: previous ? previous.id : null, reason: previous ? f.reason.value.trim() : "", focus: focusOf(f) } });
      toast(`已抽取 ${d.number}`, true);
      location.hash = `#/draws/${d.id}`;
    } catch (e) { toast(e.message); }
  });
  return form;
}

export async function drawsPage(params, inTabs) {
  const pageNo = Number(params.get("page") || 1);
  const data = await api(`/api/inspections/draws${qs({ page: pageNo, size: 20 })}`);
  const go = (p) => { location.hash = inTabs ? `#/inspections${qs({ tab: "draws", page: p })}` : `#/draws${qs({ page: p })}`; };
  page(inTabs ? "监督检查" : "双随机抽查结果公开", inTabs ? tabs("draws") : null, panel(null, table([
    { label: "编号", nowrap: true, render: (r) => h("a", { href: `#/draws/${r.id}`, class: "draw-link" }, r.number) },
    { label: "名称", key: "title" }, { label: "抽中机构", num: true, render: (r) => num(r.targets.length) },
    { label: "抽取时间", render: (r) => when(r.created_at) }, { label: "状态", render: (r) => statusTag(r.status_zh) },
  ], data.items), pager(data, go)),
  inTabs && can("inspection.manage") ? panel("新的双随机抽取", drawForm(null)) : null);
}

export async function drawDetailPage(id) {
  const d = await api(`/api/inspections/draws/${id}`);
  const result = h("div", { id: "draw-verify" });
  const verify = async () => {
    try {
      const v = await api(`/api/inspections/draws/${id}/verify`);
      result.replaceChildren(h("div", { class: v.ok ? "alert green" : "alert red" },
        v.ok ? "校验通过：由记录中的名录库、规则和种子值重算，结果一致，记录未被改动。" : `校验失败：${v.problems.join("；")}`));
    } catch (e) { toast(e.message); }
  };
  const publish = async () => {
    try { await api(`/api/inspections/draws/${id}/publish`, { method: "POST" }); toast("已公开", true); rerender(); } catch (e) { toast(e.message); }
  };
  const manage = can("inspection.manage") && d.recused !== undefined && d.recused !== null;
  page(`双随机抽取 ${d.number}`,
    panel(null, h("dl", { class: "kv" },
      h("dt", {}, "名称"), h("dd", {}, d.title), h("dt", {}, "状态"), h("dd", { id: "draw-status" }, d.status_zh),
      h("dt", {}, "种子值"), h("dd", {}, d.seed_value), h("dt", {}, "推导种子"), h("dd", {}, h("code", {}, d.seed)),
      h("dt", {}, "记录哈希"), h("dd", {}, h("code", {}, d.hash)),
      h("dt", {}, "名录库"), h("dd", {}, `检查对象 ${d.pool_sizes.targets} 家，执法人员 ${d.pool_sizes.inspectors} 人`),
      h("dt", {}, "规则"), h("dd", {}, `各层比例 ${d.rules.ratio}，每组 ${d.rules.team_size} 人，${d.rules.risk_weighted ? "按风险加权" : "等概率"}，${d.rules.recuse_same_county ? "同县回避" : "不限同县"}`),
      d.previous ? [h("dt", {}, "重抽自"), h("dd", {}, `${d.previous.number}（理由：${d.previous.reason}）`)] : null,
      d.published_at ? [h("dt", {}, "公开时间"), h("dd", {}, when(d.published_at))] : null),
    manage ? h("div", {}, h("button", { id: "draw-verify-btn", onclick: verify }, "校验记录"), " ",
      d.status === "drawn" ? h("button", { id: "draw-publish", onclick: publish }, "公开结果") : null, " ",
      h("a", { href: `/api/inspections/draws/${id}/record`, download: `${d.number}.json` }, "下载封存记录（JSON）"), result) : null),
    panel("抽取结果", table([
      { label: "机构编码", key: "code", nowrap: true }, { label: "机构名称", key: "name" }, { label: "区划", key: "admdvs" },
      { label: "检查组", render: (r) => r.team.map((m) => `${m.name}${m.leader ? "（组长）" : ""} ${m.cert_no}`).join("；") || "人员不足" },
      d.focus && Object.keys(d.focus).length ? { label: "重点领域原因", render: (r) => h("span", { class: "focus-reason" }, txt(d.focus[r.code])) } : null,
    ].filter(Boolean), d.targets)),
    manage && d.status !== "superseded" ? panel("重新抽取", drawForm(d)) : null);
}

// ------------------------------------------------------------------ flight inspections (飞行检查, 令第6号)

const TRIGGERS = [["major_report", "重大举报"], ["model_lead", "智能监控/大数据重大风险"], ["media", "媒体曝光"],
  ["upper_assignment", "上级交办"], ["annual_plan", "年度计划（双随机抽取）"]];

function flightForm() {
  const form = h("form", { class: "stack", id: "flight-form" },
    h("label", {}, "检查方案名称 *", h("input", { name: "title", required: true })),
    h("label", {}, "启动原因 *", h("select", { name: "trigger" }, TRIGGERS.map(([v, l]) => h("option", { value: v }, l)))),
    h("label", {}, "被检查机构编码 *", h("input", { name: "fixmedins_code", required: true })),
    h("label", {}, "双随机抽取编号（年度计划检查必填）", h("input", { name: "draw_id", type: "number", min: "1" })),
    h("label", {}, "检查范围与重点", h("textarea", { name: "scope" })),
    h("div", {}, h("button", { type: "submit" }, "提交方案（报负责人批准）")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    try {
      const r = await api("/api/inspections/flights", { method: "POST", json: { title: f.title.value.trim(),
        trigger: f.trigger.value, fixmedins_code: f.fixmedins_code.value.trim(), scope: f.scope.value,
        draw_id: f.draw_id.value ? Number(f.draw_id.value) : null } });
      location.hash = `#/flights/${r.id}`;
    } catch (e) { toast(e.message); }
  });
  return form;
}

export async function flightsPage(params) {
  const pageNo = Number(params.get("page") || 1);
  const data = await api(`/api/inspections/flights${qs({ page: pageNo, size: 20 })}`);
  page("飞行检查", panel(null, table([
    { label: "编号", nowrap: true, render: (r) => h("a", { href: `#/flights/${r.id}`, class: "flight-link" }, r.number) },
    { label: "名称", key: "title" }, { label: "机构", key: "fixmedins_code", nowrap: true },
    { label: "启动原因", key: "trigger_zh" }, { label: "期限", render: (r) => dueCell(r.due_date, r.overdue) },
    { label: "状态", render: (r) => statusTag(r.status_zh, r.overdue) },
  ], data.items), pager(data, (p) => { location.hash = `#/flights${qs({ page: p })}`; })),
  can("inspection.manage") ? panel("制定检查方案", flightForm()) : null);
}

export async function flightDetailPage(id) {
  const f = await api(`/api/inspections/flights/${id}`);
  const members = (f.team.members || []).map((m) => ({ ...m, leader: m.id === f.team.leader }));
  page(`飞行检查 ${f.number}`,
    panel(null, h("dl", { class: "kv" },
      h("dt", {}, "名称"), h("dd", {}, f.title), h("dt", {}, "状态"), h("dd", { id: "flight-status" }, f.status_zh),
      h("dt", {}, "被检查机构"), h("dd", {}, f.fixmedins_code), h("dt", {}, "启动原因"), h("dd", {}, f.trigger_zh),
      h("dt", {}, "检查范围"), h("dd", {}, txt(f.scope)), h("dt", {}, "期限"), h("dd", {}, dueCell(f.due_date, f.overdue)),
      f.refused ? [h("dt", {}, "拒不配合"), h("dd", { class: "tag red" }, "已记录，可依第三十条采取临时措施")] : null)),
    members.length ? panel("检查组（组长负责制）", table([
      { label: "姓名", render: (m) => `${m.name}${m.leader ? "（组长）" : ""}` }, { label: "类别", key: "kind_zh" },
      { label: "执法证号", key: "cert_no" }, { label: "保密与廉洁承诺", render: (m) => (m.pledges ? "已签署" : "未签署") },
    ], members)) : null,
    f.leads.length ? panel("疑点清单（预分析）", table([
      { label: "线索", render: (r) => h("a", { href: `#/clues/${r.clue_id}` }, String(r.clue_id)) },
      { label: "规则/来源", key: "rule_name" }, { label: "期间", key: "period" }, { label: "命中", num: true, key: "hits" },
      { label: "金额（元）", num: true, render: (r) => money(r.amount) }, { label: "状态", key: "status_zh" },
    ], f.leads), h("p", {}, h("a", { href: `/api/inspections/flights/${f.id}/leads.xlsx`, download: "", id: "flight-leads-export" }, "导出疑点清单（Excel，供检查组使用）"))) : null,
    panel("笔录与证据", table([{ label: "类别", key: "kind_zh" }, { label: "摘要", key: "summary" },
      { label: "页数", key: "pages" }, { label: "逐页签字", render: (r) => (r.signed ? "是" : "—") }, { label: "日期", key: "on" }], f.records)),
    f.documents.length ? panel("检查文书", h("ul", { id: "flight-documents" }, f.documents.map((d) => h("li", {},
      h("a", { href: d.url, class: "doc-link", "data-kind": d.kind, download: "" }, d.name_zh), " ",
      h("a", { href: d.pdf_url, class: "pdf-link", "data-kind": d.kind, download: "" }, "PDF"))))) : null,
    panel("发现问题", table([{ label: "问题", key: "description" }, { label: "金额（元）", num: true, render: (r) => money(r.amount) },
      { label: "转为线索", render: (r) => (r.clue_id ? h("a", { href: `#/clues/${r.clue_id}` }, `线索 ${r.clue_id}`) : "—") }], f.findings)),
    panel("办理操作", h("div", { id: "flight-actions" }, actionForms(f.actions, async (a, values) => {
      await api(`/api/inspections/flights/${id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: f.version }, values) });
      rerender();
    }))),
    panel("办理过程", table([{ label: "时间", render: (e) => when(e.at) }, { label: "操作人", key: "actor_name" },
      { label: "操作", key: "label_zh" }, { label: "进入状态", key: "to_zh" }, { label: "意见", key: "comment" }], f.events)),
    isHospital() ? h("p", { class: "muted" }, "检查组出示执法证件并送达通知书后，贵单位可在此提交陈述申辩和整改报告。") : null);
}

// ------------------------------------------------------------------ annual plan (全覆盖) and 问题清零

function planForm() {
  const year = new Date().getFullYear();
  const form = h("form", { class: "stack", id: "plan-form" },
    h("label", {}, "年度 *", h("input", { name: "year", type: "number", value: String(year), required: true })),
    h("label", {}, "计划名称 *", h("input", { name: "title", required: true, value: `${year}年度监督检查计划` })),
    h("label", {}, "随机抽查种子值 *（事先确定）", h("input", { name: "seed_value", required: true })),
    h("label", {}, "上年基金支付前 N 名现场检查", h("input", { name: "top_n", type: "number", min: "0", value: "30" })),
    h("label", {}, "随机抽查比例", h("input", { name: "sample_ratio", type: "number", step: "0.01", min: "0", max: "1", value: "0.1" })),
    h("label", {}, "上级交办的检查对象（机构编码，每行一个）", h("textarea", { name: "assigned" })),
    focusBox(),
    h("div", {}, h("button", { type: "submit" }, "生成计划")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    try {
      const p = await api("/api/inspections/plans", { method: "POST", json: { year: Number(f.year.value), title: f.title.value.trim(),
        seed_value: f.seed_value.value.trim(), top_n: Number(f.top_n.value), sample_ratio: Number(f.sample_ratio.value),
        assigned: f.assigned.value.split(/[\n,，、\s]+/).map((x) => x.trim()).filter(Boolean), focus: focusOf(f) } });
      location.hash = `#/inspections${qs({ tab: "plan", plan: p.id })}`;
    } catch (e) { toast(e.message); }
  });
  return form;
}

// 清零: an open problem closes only with its evidence (整改佐证), typed in by an officer who may manage
function clearCell(r) {
  if (r.status === "closed") return h("span", { class: "muted" }, `${txt(r.closed_on)} ${r.evidence}`);
  if (!can("inspection.manage")) return "—";
  const form = h("form", { class: "inline clear-problem", "data-id": String(r.id) },
    h("input", { name: "evidence", placeholder: "整改佐证（必填）", required: true, maxlength: "4000" }),
    h("button", { type: "submit", class: "secondary" }, "清零"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api(`/api/inspections/problems/${r.id}/close`, { method: "POST", json: { evidence: form.elements.evidence.value.trim() } });
      rerender();
    } catch (e) { toast(e.message); }
  });
  return form;
}

async function planTab(params) {
  const planId = params.get("plan");
  let coverage = null;
  let items = null;
  if (planId) {
    coverage = await api(`/api/inspections/plans/${planId}`);
    items = await api(`/api/inspections/plans/${planId}/items${qs({ mode: "onsite", size: 100 })}`);
  }
  const docs = (r) => h("span", { class: "plan-docs" }, [["notice", "通知书"], ["feedback", "结果告知书"], ["rectification", "整改通知书"]]
    .map(([k, label]) => [h("a", { href: `/api/inspections/plan-items/${r.id}/documents/${k}`, class: "doc-link", "data-kind": k, download: "" }, label), " "]));
  const problems = await api("/api/inspections/problems?size=200");
  const summary = await api("/api/inspections/problems/summary");
  const group = (first) => [first, { label: "问题数", num: true, key: "problems" }, { label: "机构数", num: true, key: "institutions" },
    { label: "金额（元）", num: true, render: (r) => money(r.amount) }, { label: "已清零", num: true, key: "closed" }];
  page("监督检查", tabs("plan"),
    coverage ? panel(`${coverage.title}：覆盖 ${num(coverage.done)} / ${num(coverage.total)} 家（${(coverage.coverage * 100).toFixed(1)}%），现场检查 ${num(coverage.onsite)} 家`,
      h("div", { id: "plan-coverage" }, table([
        { label: "区划", key: "admdvs" }, { label: "机构数", num: true, key: "total" }, { label: "已检查", num: true, key: "done" },
        { label: "现场检查", num: true, key: "onsite" }, { label: "覆盖率", num: true, render: (r) => `${(r.coverage * 100).toFixed(1)}%` },
      ], coverage.regions))) : null,
    items ? panel("现场检查对象与检查文书", table([
      { label: "机构", key: "fixmedins_code", nowrap: true }, { label: "列入原因", render: (r) => h("span", { class: "plan-reasons" }, r.reasons_zh.join("、")) },
      { label: "检查日期", render: (r) => txt(r.done_on) }, { label: "结果", render: (r) => txt(r.result) },
      { label: "文书（.docx）", render: docs },
    ], items.items)) : null,
    can("inspection.manage") ? panel("生成年度监督检查计划（全覆盖）", planForm()) : null,
    panel("问题清零台账", h("p", {}, h("a", { href: "/api/inspections/problems.xlsx", download: "", id: "problem-ledger" }, "导出 Excel 台账")),
      table([
        { label: "机构", key: "fixmedins_code", nowrap: true }, { label: "问题", key: "description" },
        { label: "金额（元）", num: true, render: (r) => money(r.amount) }, { label: "责任人", key: "owner" },
        { label: "时限", render: (r) => dueCell(r.deadline, r.overdue) }, { label: "状态", render: (r) => statusTag(r.status_zh, r.overdue) },
        { label: "清零（佐证）", render: clearCell },
      ], problems.items)),
    summary.total ? panel("问题清单（举一反三）", h("div", { id: "problem-summary" },
      h("h3", {}, "共性问题：多家机构存在的同类问题"),
      summary.common.length ? table(group({ label: "问题", key: "description" }).concat([{ label: "来源", render: (r) => r.sources_zh.join("、") }]), summary.common)
        : h("p", { class: "muted" }, "暂无多家机构共有的问题"),
      h("div", { class: "grid" },
        table(group({ label: "来源 / 类别", render: (r) => `${r.source_zh}｜${r.category}` }), summary.by_category),
        table(group({ label: "机构类别", key: "name" }), summary.by_institution_type)))) : null);
}
