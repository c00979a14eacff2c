// Model leads (大数据模型线索): the ranked leads of the newest model run per entity type with their reasons; one
// lead with every model's reasons, its peer comparison (the entity's indicators against its peer group's
// quantiles) and, for a group, the graph of its members and their shared admissions.
import { api, processStates, qs } from "./client.js";
import { chart, h, labelled, money, num, page, pager, panel, table, txt } from "./dom.js";

const TYPES = [["institution", "医疗机构"], ["pharmacy", "药店"], ["department", "科室"], ["doctor", "医师"],
  ["person", "参保人"], ["group", "团伙"]];

export async function leadsPage(params) {
  const type = params.get("type") || "institution";
  const q = params.get("q") || "";
  const pageNo = Number(params.get("page") || 1);
  const data = await api(`/api/leads${qs({ entity_type: type, q, page: pageNo, size: 20 })}`);
  const states = await clueStates();
  const go = (p, query) => { location.hash = `#/leads${qs(Object.assign({ type, q, page: p }, query || {}))}`; };
  const tabs = h("div", { class: "filters", id: "leads-tabs" }, TYPES.map(([k, label]) =>
    h("a", { href: `#/leads${qs({ type: k })}`, class: k === type ? "active" : "", "data-tab": k },
      `${label}（${num(data.counts[k] || 0)}）`)));
  const form = h("form", { class: "filters", id: "lead-filters" },
    h("label", {}, "名称或编码", h("input", { name: "q", value: q, size: 18 })),
    h("button", { type: "submit" }, "查询"));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); go(1, { q: form.elements.q.value.trim() }); });
  const cols = [
    { label: "排名", num: true, render: (r) => num(r.rank) },
    { label: "对象", render: (r) => h("a", { href: `#/leads/${r.key}`, class: "lead-link" },
      r.entity_name ? `${r.entity_name}（${r.entity_id}）` : r.entity_id) },
    { label: "风险分", num: true, render: (r) => r.score.toFixed(2) },
    { label: "模型", render: (r) => r.models.join("、") },
    { label: "主要理由", render: (r) => h("ul", { class: "reasons" }, r.reasons.slice(0, 3).map((x) => h("li", {}, x))) },
    { label: "涉及金额（元）", num: true, nowrap: true, render: (r) => money(r.money) },
    { label: "关联机构", render: (r) => r.institution_names.slice(0, 3).join("、") || "—" },
    { label: "线索", nowrap: true, render: (r) => (r.clue_id
      ? h("a", { href: `#/clues/${r.clue_id}`, class: "clue-link" }, `#${r.clue_id} ${states[r.clue_status] || ""}`) : "未导入") },
  ];
  page("大数据模型线索",
    h("p", { class: "muted", id: "lead-run" }, data.run_id
      ? `模型运行 ${data.run_id}；按对象类型排名，风险分越高越值得核查；理由给出指标值与同类中位数。`
      : "尚无模型运行结果（fundguard models run）。"),
    panel(null, tabs, form, table(cols, data.items, () => ({ class: "lead-row" })), pager(data, (p) => go(p))));
}

export async function leadDetailPage(key) {
  const d = await api(`/api/leads/${encodeURIComponent(key)}`);
  const states = await clueStates();
  const peerBox = h("div", { class: "chart", id: "peer-chart", "data-indicators": String(d.peers.length),
    style: `height:${Math.max(160, 70 + d.peers.length * 64)}px` });
  const graphBox = h("div", { class: "chart", id: "group-graph", "data-nodes": String(d.nodes.length),
    "data-links": String(d.links.length), style: "height:460px" });
  page(`${d.entity_type_zh}线索：${d.entity_name || d.entity_id}`,
    h("p", {}, h("a", { href: `#/leads${qs({ type: d.entity_type })}` }, "← 返回模型线索")),
    panel("概况", labelled(d, [
      ["entity_type_zh", "对象类型"], ["entity_id", "对象编号"], ["entity_name", "对象名称"],
      ["rank", "同类排名", (v) => `第 ${v} 名`], ["score", "风险分", (v) => v.toFixed(2)],
      ["money", "涉及金额（元）", money], ["institution_names", "关联机构", (v) => v.join("、") || "—"],
      ["clue_id", "对应线索", (v) => h("a", { href: `#/clues/${v}`, class: "clue-link" }, `#${v}（${txt(states[d.clue_status])}）`)], ["run_id", "模型运行"]])),
    panel("各模型的理由", table([
      { label: "模型", key: "model_name", nowrap: true },
      { label: "风险分", num: true, render: (r) => r.score.toFixed(2) },
      { label: "理由（指标值与同类中位数）", render: (r) => h("ul", { class: "reasons" }, r.reasons.map((x) => h("li", {}, x))) },
      { label: "同类组", render: (r) => txt(r.peer_group) },
      { label: "涉及金额（元）", num: true, render: (r) => money(r.money) },
      { label: "关联就诊/品种", render: (r) => (r.visits.length ? `${r.visits.slice(0, 5).join("、")}${r.visits.length > 5 ? ` 等 ${r.visits.length} 条` : ""}` : "—") },
    ], d.leads, () => ({ class: "lead-model-row" }))),
    d.peers.length ? panel("同类比较：本对象指标值与同类组分布（10%/25%/中位数/75%/90% 分位）", peerBox) : null,
    d.entity_type === "group" ? panel("团伙关系图：成员之间的同日同院入院与成员的入住机构", graphBox) : null);
  if (d.peers.length) peerChart(peerBox, d.peers);
  if (d.entity_type === "group") groupGraph(graphBox, d);
}

async function clueStates() {
  return Object.fromEntries((await processStates("flag")).map((st) => [st.code, st.label_zh]));
}

// A percent indicator is stored as a share (0.23): shown as 23.
const scale = (p) => (p.unit === "%" ? 100 : 1);
const unitOf = (p) => (p.unit === "%" ? "%" : p.unit);
const fmt = (p, v) => (v === null || v === undefined ? "—" : `${Number(v * scale(p)).toLocaleString("zh-CN", { maximumFractionDigits: 1 })}${unitOf(p)}`);

// One row per indicator, each on its own axis (their units differ): the peer group's box (10–90 %, quartiles,
// median) and the entity's value as a red point.
function peerChart(el, peers) {
  const rowH = 64;
  const grid = [], xAxis = [], yAxis = [], series = [];
  peers.forEach((p, i) => {
    const k = scale(p);
    const top = 40 + i * rowH;
    grid.push({ left: 170, right: 40, top, height: rowH - 34 });
    const lo = Math.min(p.p10, p.value ?? p.p10) * k, hi = Math.max(p.p90, p.value ?? p.p90) * k;
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 1;
    xAxis.push({ gridIndex: i, type: "value", min: Math.max(0, lo - pad), max: hi + pad, splitNumber: 4,
      axisLabel: { fontSize: 10, formatter: (v) => `${Number(v).toLocaleString("zh-CN", { maximumFractionDigits: 1 })}${unitOf(p)}` } });
    yAxis.push({ gridIndex: i, type: "category", data: [`${p.name_zh}\n${p.peer_group}（${p.n}）`],
      axisLabel: { width: 160, overflow: "truncate", fontSize: 11 } });
    series.push({ name: "同类组分布", type: "boxplot", xAxisIndex: i, yAxisIndex: i, boxWidth: [10, 18],
      data: [[p.p10, p.p25, p.p50, p.p75, p.p90].map((v) => v * k)],
      tooltip: { formatter: () => `${p.name_zh}（${p.peer_group}，${p.n} 个）\n10%：${fmt(p, p.p10)}　25%：${fmt(p, p.p25)}\n中位数：${fmt(p, p.p50)}\n75%：${fmt(p, p.p75)}　90%：${fmt(p, p.p90)}` } });
    series.push({ name: "本对象", type: "scatter", xAxisIndex: i, yAxisIndex: i, symbolSize: 12, itemStyle: { color: "#c0392b" },
      data: p.value === null ? [] : [[p.value * k, 0]],
      label: { show: true, position: "top", formatter: () => fmt(p, p.value) },
      tooltip: { formatter: () => `${p.name_zh}：本对象 ${fmt(p, p.value)}，同类中位数 ${fmt(p, p.p50)}` } });
  });
  chart(el, { tooltip: { trigger: "item", renderMode: "richText" }, legend: { data: ["同类组分布", "本对象"], top: 0 }, grid, xAxis, yAxis, series });
}

// The group: members (insured persons) and their institutions as nodes; co-admissions between members (line width:
// times admitted together) and stays (dashed) as links.
function groupGraph(el, d) {
  const degree = {};
  for (const l of d.links) { degree[l.source] = (degree[l.source] || 0) + 1; degree[l.target] = (degree[l.target] || 0) + 1; }
  chart(el, {
    tooltip: { renderMode: "richText" }, legend: { data: ["参保人", "医疗机构"], top: 0 },
    series: [{
      type: "graph", layout: "force", roam: true, draggable: true, force: { repulsion: 420, gravity: 0.06, edgeLength: [70, 170] },
      categories: [{ name: "参保人" }, { name: "医疗机构" }],
      label: { show: true, position: "right", fontSize: 10 },
      data: d.nodes.map((n) => ({ id: n.id, name: n.name, category: n.kind === "institution" ? 1 : 0,
        symbol: n.kind === "institution" ? "rect" : "circle", symbolSize: n.kind === "institution" ? 26 : 10 + Math.min(12, degree[n.id] || 0),
        label: { show: n.kind === "institution" || d.nodes.length <= 20 } })),
      links: d.links.map((l) => ({ source: l.source, target: l.target,
        value: l.kind === "institution" ? `入住 ${l.times} 次` : `共同入院 ${l.times} 次`,
        lineStyle: l.kind === "institution" ? { type: "dashed", opacity: 0.4 } : { width: 1 + l.times, opacity: 0.8 } })),
    }],
  });
}
