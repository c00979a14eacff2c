// Users, cross-check grants, the access log and one's own password (issue 10 findings 7–9).
import { api, qs, state } from "./client.js";
import { h, page, pager, panel, table, toast, txt, when } from "./dom.js";

function field(label, name, attrs) {
  return h("label", {}, label, h("input", Object.assign({ name, id: `f-${name}` }, attrs || {})));
}

function formJson(form, names) {
  const out = {};
  for (const n of names) { const v = form.elements[n].value.trim(); if (v !== "") out[n] = v; }
  return out;
}

export async function usersPage() {
  const [users, grants] = await Promise.all([api("/api/admin/users"), api("/api/grants")]);
  const admin = state.user.role === "admin";
  const reset = async (u) => {
    if (!confirm(`重置 ${u.username} 的密码？其所有会话将被结束。`)) return;
    try {
      const r = await api(`/api/admin/users/${encodeURIComponent(u.username)}/reset-password`, { method: "POST" });
      toast(`临时密码（请当面或经安全渠道交付，首次登录须修改）：${r.temporary_password}`, true);
    } catch (e) { toast(e.message); }
  };
  const grantForm = h("form", { class: "stack", id: "grant-form" },
    field("被授权用户", "username", { required: true }), field("医保区划（6 位）", "admdvs"),
    field("或定点机构编码", "fixmedins_code"), field("天数", "days", { type: "number", min: 1, max: 365, value: 30 }),
    field("事由", "reason", { value: "交叉检查" }), h("button", { type: "submit" }, "授权"));
  grantForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = formJson(grantForm, ["username", "admdvs", "fixmedins_code", "reason"]);
    body.days = Number(grantForm.elements.days.value || 30);
    try { await api("/api/grants", { method: "POST", json: body }); toast("已授权", true); await usersPage(); } catch (e) { toast(e.message); }
  });
  const userForm = admin ? h("form", { class: "stack", id: "user-form" },
    field("用户名", "username", { required: true }), field("姓名", "display_name"),
    field("初始密码（≥10 位，三类字符）", "password", { type: "password", required: true, autocomplete: "new-password" }),
    field("角色代码", "role", { required: true }), field("医保区划", "admdvs", { required: true }),
    field("定点机构编码（医院用户）", "fixmedins_code"), h("button", { type: "submit" }, "创建用户")) : null;
  if (userForm) {
    userForm.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = formJson(userForm, ["username", "display_name", "password", "role", "admdvs", "fixmedins_code"]);
      try { await api("/api/admin/users", { method: "POST", json: body }); toast("已创建，首次登录须修改密码", true); await usersPage(); } catch (e) { toast(e.message); }
    });
  }
  page("用户与授权",
    panel("用户", table([
      { label: "用户名", key: "username" }, { label: "姓名", key: "display_name" }, { label: "角色", key: "role_zh" },
      { label: "区划", key: "admdvs" }, { label: "机构", key: "fixmedins_code" },
      { label: "状态", render: (u) => (u.must_change ? "待修改初始密码" : "正常") },
      { label: "操作", render: (u) => (admin ? h("button", { onclick: () => reset(u) }, "重置密码") : "—") },
    ], users)),
    userForm ? panel("创建用户", userForm) : null,
    panel("有效的交叉检查授权", table([
      { label: "用户", key: "username" }, { label: "区划", key: "admdvs" }, { label: "机构", key: "fixmedins_code" },
      { label: "有效至", render: (g) => when(g.valid_to) }, { label: "事由", key: "reason" }, { label: "授权人", key: "granted_by" },
    ], grants)),
    panel("新增授权（须同时管辖被授权人与授权范围）", grantForm));
}

export async function accessLogPage(params) {
  const q = { username: params.get("username") || "", action: params.get("action") || "", since: params.get("since") || "",
    until: params.get("until") || "", page: Number(params.get("page") || 1), size: 50 };
  const data = await api(`/api/admin/access-log${qs(Object.fromEntries(Object.entries(q).filter(([, v]) => v !== "")))}`);
  const form = h("form", { class: "filters", id: "access-filter" },
    field("用户名", "username", { value: q.username }), field("操作（前缀）", "action", { value: q.action }),
    field("起", "since", { type: "date", value: q.since }), field("止", "until", { type: "date", value: q.until }),
    h("button", { type: "submit" }, "查询"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = `#/access${qs(formJson(form, ["username", "action", "since", "until"]))}`;
  });
  page("访问日志", panel(null, form), panel(null, table([
    { label: "时间", render: (r) => when(r.at) }, { label: "用户", key: "username" }, { label: "操作", render: (r) => txt(r.action_zh) },
    { label: "对象", key: "target" }, { label: "来源地址", key: "client" }, { label: "结果", key: "outcome" },
  ], data.items), pager(data, (p) => { location.hash = `#/access${qs({ ...formJson(form, ["username", "action", "since", "until"]), page: p })}`; })));
}

export function passwordPage() {
  const form = h("form", { class: "stack", id: "password-form" },
    field("原密码", "old_password", { type: "password", required: true, autocomplete: "current-password" }),
    field("新密码（≥10 位，含大写、小写、数字、符号中的三类，不能是常见密码）", "new_password",
      { type: "password", required: true, autocomplete: "new-password" }),
    h("button", { type: "submit" }, "修改密码"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await api("/api/auth/password", { method: "POST", json: formJson(form, ["old_password", "new_password"]) });
      state.user = await api("/api/me");
      toast(`密码已修改，已结束其他 ${r.revoked} 个会话`, true);
      location.hash = "#/";
    } catch (e) { toast(e.message); }
  });
  const endOthers = async () => {
    try { const r = await api("/api/auth/sessions/revoke-others", { method: "POST" }); toast(`已结束其他 ${r.revoked} 个会话`, true); } catch (e) { toast(e.message); }
  };
  page("修改密码",
    state.user && state.user.must_change ? h("div", { class: "alert red" }, "首次登录或密码已被重置：请先修改密码。") : null,
    panel(null, form), panel("会话", h("button", { id: "revoke-others", onclick: endOthers }, "结束本人其他会话")));
}
