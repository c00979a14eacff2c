// DOM and formatting helpers: elements built with textContent only (data cannot inject markup), money and
// dates in Chinese, panels, tables, pagers, tags and charts.
import { state } from "./client.js";

export function h(tag, attrs, ...children) {
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

export const money = (v) => (v === null || v === undefined || v === "" ? "—"
  : Number(v).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));

export const num = (v) => (v === null || v === undefined ? "—" : Number(v).toLocaleString("zh-CN"));

export const txt = (v) => (v === null || v === undefined || v === "" ? "—" : String(v));

export const when = (v) => (v ? String(v).replace("T", " ").slice(0, 19) : "—");

export function toast(message, ok) {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.className = ok ? "ok" : "";
  t.style.display = "block";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.style.display = "none"; }, 5000);
}

export function page(title, ...children) {
  const main = document.getElementById("main");
  main.replaceChildren(h("h1", {}, title), ...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return main;
}

export function panel(title, ...children) {
  return h("div", { class: "panel" }, title ? h("h2", {}, title) : null, ...children);
}

export function table(columns, rows, rowAttrs) {
  const head = h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : "" }, c.label)));
  const body = rows.length
    ? rows.map((r) => h("tr", rowAttrs ? rowAttrs(r) : {},
      columns.map((c) => h("td", { class: [c.num ? "num" : "", c.nowrap ? "nowrap" : ""].join(" ").trim() },
        c.render ? c.render(r) : txt(r[c.key])))))
    : [h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, "暂无数据"))];
  return h("table", {}, h("thead", {}, head), h("tbody", {}, body));
}

export function pager(data, go) {
  const pages = Math.max(1, Math.ceil(data.total / data.size));
  return h("div", { class: "pager" },
    h("button", { class: "secondary", id: "prev-page", disabled: data.page <= 1, onclick: () => go(data.page - 1) }, "上一页"),
    h("span", { id: "page-info" }, `第 ${data.page} / ${pages} 页，共 ${num(data.total)} 条`),
    h("button", { class: "secondary", id: "next-page", disabled: data.page >= pages, onclick: () => go(data.page + 1) }, "下一页"),
  );
}

export function statusTag(text, overdue) {
  return h("span", { class: overdue ? "tag red" : "tag" }, txt(text));
}

export function dueCell(due, overdue, warning) {
  if (!due) return "—";
  if (overdue) return h("span", { class: "tag red" }, `${due} 已超期`);
  if (warning && warning !== "正常") return h("span", { class: "tag orange" }, `${due} ${warning}`);
  return due;
}

export function labelled(obj, labels) {
  if (!obj) return h("p", { class: "muted" }, "暂无");
  return h("dl", { class: "kv" }, labels.filter(([k]) => obj[k] !== null && obj[k] !== undefined && obj[k] !== "")
    .map(([k, label, fmt]) => [h("dt", {}, label), h("dd", { "data-key": k }, fmt ? fmt(obj[k]) : String(obj[k]))]));
}

export function chart(el, option) {
  const c = echarts.init(el);
  c.setOption(Object.assign({ textStyle: { fontFamily: "Noto Sans CJK SC, sans-serif" } }, option));
  state.charts.push(c);
  return c;
}

