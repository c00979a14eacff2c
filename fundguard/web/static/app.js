// FundGuard workbench: a vanilla-JS single-page app over the REST API (/api). Hash routes, no build step.
// Every text shown to users is Chinese; DOM is built with textContent (never innerHTML) so data cannot inject markup.
"use strict";

const state = { user: null, charts: [], renders: 0 };

// ---------- DOM and formatting helpers ----------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const money = (v) => (v === null || v === undefined || v === "" ? "—"
  : Number(v).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const num = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("zh-CN"));
const txt = (v) => (v === null || v === undefined || v === "" ? "—" : String(v));
const when = (v) => (v ? String(v).replace("T", " ").slice(0, 19) : "—");

function toast(message, ok) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.className = ok ? "ok" : "";
  t.style.display = "block";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.style.display = "none"; }, 5000);
}

// ---------- API ----------
class ApiError extends Error {
  constructor(status, detail) {
    super((detail && detail.zh) || `请求失败（${status}）`);
    this.status = status;
    this.detail = detail || {};
  }
}

async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  const res = await fetch(path, opts);
  let body = null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("application/json")) body = await res.json();
  if (!res.ok) {
    const detail = body && typeof body.detail === "object" && !Array.isArray(body.detail) ? body.detail : null;
    if (res.status === 401 && !path.startsWith("/api/auth/")) {
      state.user = null;
      location.hash = "#/login";
    }
    throw new ApiError(res.status, detail);
  }
  return body;
}

function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : "";
}

// ---------- layout ----------
// [hash, label, the permission the page needs]: a role sees only what it may open
const NAV = [
  ["#/dashboard", "仪表盘", "clue.view"], ["#/clues", "线索", "clue.view"], ["#/cases", "案件", "case.view"],
  ["#/rules", "规则成效", "clue.view"], ["#/ledgers", "台账", "ledger.export"], ["#/record", "执法记录", "record.view"],
];
const HOSPITAL_NAV = [["#/clues", "本院疑点"]];

function isHospital() { return state.user && state.user.role === "hospital"; }

function renderChrome() {
  const nav = document.getElementById("nav");
  const box = document.getElementById("userbox");
  nav.replaceChildren();
  box.replaceChildren();
  document.body.classList.toggle("anon", !state.user);
  if (!state.user) return;
  const perms = new Set(state.user.permissions);
  const items = isHospital() ? HOSPITAL_NAV : NAV.filter(([, , perm]) => perms.has(perm));
  for (const [href, label] of items) {
    const active = location.hash.startsWith(href);
    nav.append(h("a", { href, class: active ? "active" : "" }, label));
  }
  const u = state.user;
  box.append(
    h("span", { id: "user-name" }, u.display_name),
    h("span", { class: "role", id: "user-role" }, u.role_zh),
    u.fixmedins_code ? h("span", {}, u.fixmedins_code) : (u.admdvs ? h("span", {}, `区划 ${u.admdvs}`) : null),
    h("button", { id: "logout", onclick: logout }, "退出"),
  );
}

async function logout() {
  try { await api("/api/auth/logout", { method: "POST" }); } catch (e) { /* already logged out */ }
  state.user = null;
  location.hash = "#/login";
}

function page(title, ...children) {
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", {}, title), ...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return main;
}

function panel(title, ...children) {
  return h("div", { class: "panel" }, title ? h("h2", {}, title) : null, ...children);
}

function table(columns, rows, rowAttrs) {
  const head = h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : "" }, c.label)));
  const body = rows.length
    ? rows.map((r) => h("tr", rowAttrs ? rowAttrs(r) : {},
      columns.map((c) => h("td", { class: [c.num ? "num" : "", c.nowrap ? "nowrap" : ""].join(" ").trim() },
        c.render ? c.render(r) : txt(r[c.key])))))
    : [h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "暂无数据"))];
  return h("table", {}, h("thead", {}, head), h("tbody", {}, body));
}

function pager(data, go) {
  const pages = Math.max(1, Math.ceil(data.total / data.size));
  return h("div", { class: "pager" },
    h("button", { class: "secondary", id: "prev-page", disabled: data.page <= 1, onclick: () => go(data.page - 1) }, "上一页"),
    h("span", { id: "page-info" }, `第 ${data.page} / ${pages} 页，共 ${num(data.total)} 条`),
    h("button", { class: "secondary", id: "next-page", disabled: data.page >= pages, onclick: () => go(data.page + 1) }, "下一页"),
  );
}

function statusTag(text, overdue) {
  return h("span", { class: overdue ? "tag red" : "tag" }, txt(text));
}

function dueCell(due, overdue, warning) {
  if (!due) return "—";
  if (overdue) return h("span", { class: "tag red" }, `${due} 已超期`);
  if (warning && warning !== "正常") return h("span", { class: "tag orange" }, `${due} ${warning}`);
  return due;
}

// ---------- action forms (rendered from actions[].fields) ----------
function fieldInput(f) {
  const name = f.name;
  const req = f.required ? true : null;
  const options = f.choices;
  if (options && options.length) {
    const multiple = f.type === "list";
    return h("select", { name, required: req, multiple, size: multiple ? Math.min(options.length, 6) : null },
      f.required || multiple ? null : h("option", { value: "" }, "（请选择）"),
      options.map((o) => h("option", { value: o.value }, o.label_zh)));
  }
  switch (f.type) {
    case "textarea": case "text_long": return h("textarea", { name, required: req });
    case "date": return h("input", { type: "date", name, required: req });
    case "datetime": return h("input", { type: "datetime-local", name, required: req });
    case "number": case "integer": case "int": return h("input", { type: "number", step: "1", name, required: req });
    case "money": case "decimal": return h("input", { type: "number", step: "0.01", min: "0", name, required: req });
    case "boolean": case "bool": return h("input", { type: "checkbox", name });
    case "file": return h("input", { type: "file", name, required: req, multiple: true });
    default: return h("input", { type: "text", name, required: req });
  }
}

function readField(form, f) {
  const el = form.elements[f.name];
  if (!el) return undefined;
  if (f.type === "bool") return el.checked;
  if (el.multiple) {
    const picked = Array.from(el.selectedOptions).map((o) => o.value);
    return picked.length ? picked : undefined;
  }
  const v = el.value.trim();
  if (v === "") return undefined;
  if (f.type === "int") return Number(v);
  if (f.type === "list") return v.split(/[,，、\s]+/).filter(Boolean);
  return v;
}

function actionForms(actions, submit) {
  if (!actions.length) return h("p", { class: "muted" }, "当前状态下您没有可执行的操作。");
  return h("div", { class: "actions" }, actions.map((a) => {
    const fields = a.fields;
    const form = h("form", { class: "stack", "data-action": a.action },
      a.blocked_zh ? h("p", { class: "alert orange blocked" }, a.blocked_zh) : null,
      fields.map((f) => h("label", {}, `${f.label_zh}${f.required ? " *" : ""}`,
        f.type === "list" ? h("span", { class: "muted" }, f.choices ? "（可多选）" : "（多个用逗号分隔）") : null,
        fieldInput(f))),
      h("div", {}, h("button", { type: "submit", disabled: Boolean(a.blocked_zh) }, `确认${a.label_zh}`)));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const values = {};
      for (const f of fields) {
        const v = readField(form, f);
        if (v !== undefined) values[f.name] = v;
      }
      const btn = form.querySelector("button[type=submit]");
      btn.disabled = true;
      try {
        await submit(a, values);
        toast(`已${a.label_zh}`, true);
      } catch (e) {
        toast(e.message);
      } finally {
        btn.disabled = false;
      }
    });
    return h("details", { class: a.blocked_zh ? "action blocked" : "action", "data-action": a.action },
      h("summary", {}, a.label_zh, a.blocked_zh ? h("span", { class: "muted" }, "（不可办理）") : null), form);
  }));
}

// ---------- pages ----------
function loginPage() {
  document.getElementById("main").replaceChildren();
  const err = h("div", { id: "login-error", class: "alert red", style: "display:none" });
  const form = h("form", { class: "stack", id: "login-form" },
    h("label", {}, "用户名", h("input", { name: "username", id: "username", autocomplete: "username", required: true })),
    h("label", {}, "密码", h("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true })),
    err,
    h("button", { type: "submit", id: "login-submit" }, "登录"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.style.display = "none";
    try {
      await api("/api/auth/login", { method: "POST",
        json: { username: form.elements.username.value.trim(), password: form.elements.password.value } });
      state.user = await api("/api/me");  // with the permissions that decide the menu
      location.hash = isHospital() ? "#/clues" : "#/dashboard";
    } catch (e) {
      err.textContent = e.message;
      err.style.display = "block";
    }
  });
  document.getElementById("main").append(h("div", { class: "login-wrap" },
    h("div", { class: "panel login" }, h("h1", {}, "监管工作台登录"), form,
      h("p", { class: "muted" }, "连续多次输入错误密码将临时锁定账号。"))));
}

function chart(el, option) {
  const c = echarts.init(el);
  c.setOption(Object.assign({ textStyle: { fontFamily: "Noto Sans CJK SC, sans-serif" } }, option));
  state.charts.push(c);
  return c;
}

async function dashboardPage() {
  const d = await api("/api/dashboard");
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

const CLUE_FILTERS = ["status", "rule_id", "fixmedins_code", "admdvs", "month", "q", "overdue"];

// the processes (states with Chinese names, transitions and their forms) come from the workflow engine
async function processStates(name) {
  if (!state.processes) state.processes = await api("/api/processes");
  return state.processes[name].states;
}

async function cluesPage(params) {
  const query = Object.fromEntries(CLUE_FILTERS.map((k) => [k, params.get(k) || ""]));
  const pageNo = Number(params.get("page") || 1);
  const data = await api(`/api/clues${qs(Object.assign({}, query, { page: pageNo, size: 20 }))}`);
  const states = await processStates("flag");
  const go = (p, q) => { location.hash = `#/clues${qs(Object.assign({}, q || query, { page: p }))}`; };
  const form = h("form", { class: "filters", id: "clue-filters" },
    h("label", {}, "状态", h("select", { name: "status" }, h("option", { value: "" }, "全部"),
      states.map((st) => h("option", { value: st.code, selected: st.code === query.status }, st.label_zh)))),
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

const SOURCE_ZH = { rule: "规则命中", transfer: "部门/地区移交", model: "模型预警", complaint: "投诉举报", inspection: "检查发现" };

function evidenceTable(rows) {
  return table([
    { label: "就诊ID", key: "mdtrt_id" },
    { label: "记账流水号", render: (r) => {
      const all = Array.isArray(r.bkkp_sn) ? r.bkkp_sn : [r.bkkp_sn].filter(Boolean);
      return h("span", { title: all.join("、") }, all.length > 1 ? `${all[0]} 等 ${all.length} 条` : txt(all[0]));
    } },
    { label: "参保人", render: (r) => `${txt(r.psn_name)}（${txt(r.psn_no)}）` },
    { label: "项目", render: (r) => `${txt(r.item_name)}（${txt(r.hilist_code)}）` },
    { label: "发生时间", render: (r) => h("span", { class: "nowrap" }, when(r.fee_ocur_time)) },
    { label: "金额（元）", num: true, render: (r) => money(r.amount) },
    { label: "违规说明", render: (r) => h("div", { class: "evidence-text" }, txt(r.evidence_zh)) },
    { label: "知识点", key: "kp_id" },
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

async function clueDetailPage(id) {
  const c = await api(`/api/clues/${id}`);
  const reload = () => route();
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
        h("dt", {}, "政策依据"), h("dd", { id: "legal-basis" }, txt(c.legal_basis)),
        h("dt", {}, "知识来源"), h("dd", { id: "knowledge-source" }, txt(c.knowledge_source)),
        h("dt", {}, "处理建议"), h("dd", {}, txt(c.suggested_handling))))),
    panel(`证据明细（${c.evidence.length} 条）`, h("div", { id: "evidence" }, evidenceTable(c.evidence))),
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

async function casesPage(params) {
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
    { label: "案号", render: (r) => h("a", { href: `#/cases/${r.id}`, class: "case-link" }, txt(r.number)) },
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

function labelled(obj, labels) {
  if (!obj) return h("p", { class: "muted" }, "暂无");
  return h("dl", { class: "kv" }, labels.filter(([k]) => obj[k] !== null && obj[k] !== undefined && obj[k] !== "")
    .map(([k, label, fmt]) => [h("dt", {}, label), h("dd", { "data-key": k }, fmt ? fmt(obj[k]) : String(obj[k]))]));
}

function referralForm(caseId, reload) {
  const form = h("form", { class: "stack", id: "referral-form" },
    h("label", {}, "移送机关 *", h("select", { name: "target", required: true },
      ["公安", "纪检监察", "卫生健康", "市场监管"].map((t) => h("option", { value: t }, t)))),
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

async function caseDetailPage(id) {
  const c = await api(`/api/cases/${id}`);
  const reload = () => route();
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

async function rulesPage() {
  const rows = await api("/api/rules/scorecard");
  const items = rows;
  const admin = state.user.role === "admin";
  const toggle = async (r) => {
    try {
      if (r.paused) await api(`/api/rules/${encodeURIComponent(r.rule_id)}/resume`, { method: "POST" });
      else {
        const reason = prompt(`暂停规则 ${r.rule_id} 的原因：`, "确认率低于下限");
        if (!reason) return;
        await api(`/api/rules/${encodeURIComponent(r.rule_id)}/pause`, { method: "POST", json: { reason } });
      }
      toast(r.paused ? "规则已恢复" : "规则已暂停", true);
      route();
    } catch (e) { toast(e.message); }
  };
  const rate = (r) => (r.confirmation_rate === null || r.confirmation_rate === undefined ? "—"
    : `${(Number(r.confirmation_rate) * 100).toFixed(1)}%`);
  page("规则成效", panel(null, table([
    { label: "规则编码", key: "rule_id" },
    { label: "规则名称", key: "rule_name" },
    { label: "版本", key: "rule_version" },
    { label: "线索数", num: true, render: (r) => num(r.flags) },
    { label: "确认", num: true, render: (r) => num(r.confirmed) },
    { label: "排除", num: true, render: (r) => num(r.dismissed) },
    { label: "申诉推翻", num: true, render: (r) => num(r.overturned) },
    { label: "确认率", num: true, render: (r) => h("span", { class: r.below_floor ? "tag red" : "" }, rate(r)) },
    { label: "涉及金额（元）", num: true, render: (r) => money(r.money_at_issue) },
    { label: "确认金额（元）", num: true, render: (r) => money(r.money_confirmed) },
    { label: "状态", render: (r) => (r.paused ? h("span", { class: "tag red" }, "已暂停") : h("span", { class: "tag green" }, "启用")) },
    admin ? { label: "操作", render: (r) => h("button", { class: r.paused ? "secondary" : r.below_floor ? "danger" : "",
      "data-rule": r.rule_id, onclick: () => toggle(r) }, r.paused ? "恢复" : "暂停") } : null,
  ].filter(Boolean), items, (r) => ({ "data-rule-row": r.rule_id })),
  h("p", { class: "muted" }, "确认率 = 确认 ÷（确认 + 排除），按真实办理结果计算：核实确认、处罚、协议处理计为确认；排除、申诉成立、无损失不予处罚计为排除。确认率低于下限的规则以红色标出；管理员可说明理由暂停任一规则，暂停的规则在审核引擎下次运行时不再执行。")));
}

const LEDGERS = [
  ["clues", "线索台账"], ["cases", "案件台账"], ["measures", "协议处理台账"], ["penalties", "行政处罚台账"],
  ["refunds", "退回基金台账"], ["fines", "罚没款上缴国库台账"], ["referrals", "移送台账"],
];

function ledgersPage() {
  page("台账", panel("导出 Excel 台账", h("ul", { id: "ledgers" },
    LEDGERS.map(([name, label]) => h("li", {}, h("a", { href: `/api/ledgers/${name}`, download: "", "data-ledger": name }, label))))),
  h("p", { class: "muted" }, "退回基金与罚没款分别建账：追回的医保基金退回基金账户，罚款上缴国库。"));
}

async function recordPage(params) {
  const pageNo = Number(params.get("page") || 1);
  const data = await api(`/api/record${qs({ page: pageNo, size: 50 })}`);
  const result = h("div", { id: "verify-result" });
  const verify = async () => {
    try {
      const v = await api("/api/record/verify");
      result.replaceChildren(h("div", { class: v.ok ? "alert green" : "alert red" },
        v.ok ? `校验通过：共 ${num(v.entries)} 条记录，哈希链完整。` : `校验失败：第 ${v.first_bad} 条记录异常（${txt(v.reason_zh)}）`));
    } catch (e) { toast(e.message); }
  };
  page("执法全过程记录",
    panel(null, h("button", { id: "verify", onclick: verify }, "校验哈希链"), result),
    panel(null, table([
      { label: "序号", key: "seq" }, { label: "时间", render: (r) => when(r.at) }, { label: "操作人", key: "actor" },
      { label: "对象", nowrap: true, render: (r) => `${txt(r.entity_zh)} ${txt(r.entity_id)}` }, { label: "操作", render: (r) => txt(r.action_zh) },
      { label: "哈希", render: (r) => h("code", {}, String(r.hash || "").slice(0, 16)) },
    ], data.items), pager(data, (p) => { location.hash = `#/record?page=${p}`; })));
}

// ---------- router ----------
async function route() {
  for (const c of state.charts) c.dispose();
  state.charts = [];
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query] = raw.split("?");
  const params = new URLSearchParams(query || "");
  if (!state.user && path !== "/login") {
    try { state.user = await api("/api/me"); } catch (e) { state.user = null; }
    if (!state.user) { location.hash = "#/login"; return; }
  }
  renderChrome();
  try {
    let m;
    if (path === "/login") loginPage();
    else if (path === "/" || path === "") location.hash = isHospital() ? "#/clues" : "#/dashboard";
    else if (path === "/dashboard") await dashboardPage();
    else if (path === "/clues") await cluesPage(params);
    else if ((m = path.match(/^\/clues\/(\d+)$/))) await clueDetailPage(m[1]);
    else if (path === "/cases") await casesPage(params);
    else if ((m = path.match(/^\/cases\/(\d+)$/))) await caseDetailPage(m[1]);
    else if (path === "/rules") await rulesPage();
    else if (path === "/ledgers") ledgersPage();
    else if (path === "/record") await recordPage(params);
    else page("页面不存在", h("p", {}, "请从左侧菜单选择。"));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    page("出错了", h("div", { class: "alert red", id: "page-error" }, e.message));
  }
  const main = document.getElementById("main");
  main.setAttribute("data-ready", raw);
  main.setAttribute("data-render", String(++state.renders));  // lets tests wait for a re-render
}

window.addEventListener("hashchange", route);
window.addEventListener("resize", () => state.charts.forEach((c) => c.resize()));
route();
