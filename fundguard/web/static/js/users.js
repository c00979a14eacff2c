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
  const resetTotp = async (u) => {
    if (!confirm(`重置 ${u.username} 的动态验证码（如手机丢失）？其下次登录不再需要验证码，可重新启用。`)) return;
    try { await api(`/api/admin/users/${encodeURIComponent(u.username)}/reset-totp`, { method: "POST" }); toast("已重置动态验证码", true); await usersPage(); } catch (e) { toast(e.message); }
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
      { label: "状态", render: (u) => (u.must_change ? "待修改初始密码" : "正常") + (u.totp_on ? "，已启用动态验证码" : "") },
      { label: "操作", render: (u) => (admin ? h("span", {}, h("button", { onclick: () => reset(u) }, "重置密码"),
        u.totp_on ? h("button", { onclick: () => resetTotp(u) }, "重置动态验证码") : null) : "—") },
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
    panel(null, form), panel("会话", h("button", { id: "revoke-others", onclick: endOthers }, "结束本人其他会话")),
    state.user && ["admin", "legal_reviewer"].includes(state.user.role) && !state.user.must_change ? totpPanel() : null);
}

// The optional second factor of administrators and legal reviewers: the secret is shown once, then confirmed.
function totpPanel() {
  const box = h("div", { class: "stack", id: "totp" });
  if (state.user.totp_on) {
    box.append(h("p", {}, "已启用动态验证码：登录时须输入身份验证器 App 显示的 6 位验证码。如手机丢失，请系统管理员重置。"));
    return panel("动态验证码（第二因素）", box);
  }
  const start = h("button", { id: "totp-begin" }, "启用动态验证码");
  start.addEventListener("click", async () => {
    try {
      const r = await api("/api/auth/totp/begin", { method: "POST" });
      const form = h("form", { class: "stack", id: "totp-confirm" },
        field("身份验证器显示的 6 位验证码", "code", { required: true, inputmode: "numeric", maxlength: 6, autocomplete: "one-time-code" }),
        h("button", { type: "submit" }, "确认启用"));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        try {
          await api("/api/auth/totp/confirm", { method: "POST", json: formJson(form, ["code"]) });
          state.user = await api("/api/me");
          toast("动态验证码已启用，下次登录须输入验证码", true);
          passwordPage();
        } catch (e) { toast(e.message); }
      });
      box.replaceChildren(
        h("p", {}, "请在身份验证器 App 中添加以下账户（仅显示这一次，离开本页后无法再次查看）："),
        h("p", {}, "链接：", h("code", { id: "totp-uri" }, r.otpauth_uri)),
        h("p", {}, "密钥（手工输入）：", h("code", { id: "totp-secret" }, r.secret)), form);
    } catch (e) { toast(e.message); }
  });
  box.append(h("p", {}, "系统管理员和法制审核人员可启用第二因素：启用后登录须另输入 6 位动态验证码。"), start);
  return panel("动态验证码（第二因素）", box);
}
