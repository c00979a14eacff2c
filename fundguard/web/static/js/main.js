// FundGuard workbench: buildless ES modules over the REST API (/api), one per concept, hash routes. Every text
// shown to users is Chinese; DOM is built with textContent (never innerHTML).
// The workbench entry point: login, the menu by permission, and the hash router over the concept pages.
import { caseDetailPage, casesPage } from "./cases.js";
import { ApiError, api, isHospital, state } from "./client.js";
import { clueDetailPage, cluesPage } from "./clues.js";
import { crossRegionPage, disclosureDetailPage, disclosuresPage, exchangePage } from "./cooperation.js";
import { creditPage } from "./credit.js";
import { dashboardPage } from "./dashboard.js";
import { h, page, panel } from "./dom.js";
import { campaignDetailPage, campaignReturnPage, campaignsPage } from "./campaigns.js";
import { drawDetailPage, drawsPage, flightDetailPage, flightsPage, inspectionsPage } from "./inspections.js";
import { leadDetailPage, leadsPage } from "./leads.js";
import { ledgersPage } from "./ledgers.js";
import { pointsPage, staffPage } from "./points.js";
import { recordPage } from "./record.js";
import { reportDetailPage, reportsPage } from "./reports.js";
import { rulesPage } from "./rules.js";
import { accessLogPage, passwordPage, usersPage } from "./users.js";

const NAV = [
  ["#/dashboard", "仪表盘", "clue.view"], ["#/clues", "线索", "clue.view"], ["#/cases", "案件", "case.view"],
  ["#/leads", "模型线索", "leads.view"], ["#/rules", "规则成效", "clue.view"], ["#/ledgers", "台账", "ledger.export"], ["#/record", "执法记录", "record.view"],
  ["#/inspections", "监督检查", "inspection.view"], ["#/flights", "飞行检查", "flight.view"],
  ["#/campaigns", "专项整治", "campaign.view"],
  ["#/draws", "抽查公开", "clue.view"],
  ["#/points", "支付资格记分", "points.view"], ["#/credit", "信用评价", "credit.view"],
  ["#/reports", "举报处理", "report.view"],
  ["#/disclosures", "信息公开", "disclosure.view"], ["#/exchange", "部门协同", "referral.view"],
  ["#/crossregion", "异地就医", "crossregion.view"],
  ["#/users", "用户与授权", "grant.manage"], ["#/access", "访问日志", "access.log"],
];

const HOSPITAL_NAV = [
  ["#/clues", "本院疑点"], ["#/flights", "飞行检查"], ["#/campaigns", "专项整治"], ["#/draws", "抽查公开"], ["#/points", "本院人员记分"],
  ["#/credit", "本院信用"],
];

function renderChrome() {
  const nav = document.getElementById("nav");
  const box = document.getElementById("userbox");
  nav.replaceChildren();
  box.replaceChildren();
  document.body.classList.toggle("anon", !state.user);
  if (!state.user) return;
  const perms = new Set(state.user.permissions);
  if (state.user.role === "admin") perms.add("access.log");  // the access log is the administrator's
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
    h("a", { href: "#/password", id: "change-password" }, "修改密码"),
    h("button", { id: "logout", onclick: logout }, "退出"),
  );
}

async function logout() {
  try { await api("/api/auth/logout", { method: "POST" }); } catch (e) { /* already logged out */ }
  state.user = null;
  location.hash = "#/login";
}

function loginPage() {
  document.getElementById("main").replaceChildren();
  const err = h("div", { id: "login-error", class: "alert red", style: "display:none" });
  const form = h("form", { class: "stack", id: "login-form" },
    h("label", {}, "用户名", h("input", { name: "username", id: "username", autocomplete: "username", required: true })),
    h("label", {}, "密码", h("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true })),
    h("label", { id: "otp-row", style: "display:none" }, "动态验证码（身份验证器 App）",
      h("input", { name: "otp", id: "otp", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 6 })),
    err,
    h("button", { type: "submit", id: "login-submit" }, "登录"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    err.style.display = "none";
    try {
      await api("/api/auth/login", { method: "POST",
        json: { username: form.elements.username.value.trim(), password: form.elements.password.value,
          otp: form.elements.otp.value.trim() } });
      state.user = await api("/api/me");  // with the permissions that decide the menu
      if (state.user.must_change) { location.hash = "#/password"; return; }
      location.hash = isHospital() ? "#/clues" : "#/dashboard";
    } catch (e) {
      if (e.detail.code === "otp_required") document.getElementById("otp-row").style.display = "";  // second factor on
      err.textContent = e.message;
      err.style.display = "block";
    }
  });
  document.getElementById("main").append(h("div", { class: "login-wrap" },
    h("div", { class: "panel login" }, h("h1", {}, "监管工作台登录"), form,
      h("p", { class: "muted" }, "多次输入错误后，需等待片刻才能再试。"))));
}

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
    else if (state.user && state.user.must_change && path !== "/password") location.hash = "#/password";
    else if (path === "/" || path === "") location.hash = isHospital() ? "#/clues" : "#/dashboard";
    else if (path === "/dashboard") await dashboardPage();
    else if (path === "/clues") await cluesPage(params);
    else if ((m = path.match(/^\/clues\/(\d+)$/))) await clueDetailPage(m[1]);
    else if (path === "/cases") await casesPage(params);
    else if ((m = path.match(/^\/cases\/(\d+)$/))) await caseDetailPage(m[1]);
    else if (path === "/leads") await leadsPage(params);
    else if ((m = path.match(/^\/leads\/([0-9a-f]{20})$/))) await leadDetailPage(m[1]);
    else if (path === "/rules") await rulesPage();
    else if (path === "/ledgers") ledgersPage();
    else if (path === "/record") await recordPage(params);
    else if (path === "/inspections") await inspectionsPage(params);
    else if (path === "/draws") await drawsPage(params, false);
    else if ((m = path.match(/^\/draws\/(\d+)$/))) await drawDetailPage(m[1]);
    else if (path === "/flights") await flightsPage(params);
    else if ((m = path.match(/^\/flights\/(\d+)$/))) await flightDetailPage(m[1]);
    else if (path === "/campaigns") await campaignsPage(params);
    else if ((m = path.match(/^\/campaigns\/(\d+)$/))) await campaignDetailPage(m[1]);
    else if ((m = path.match(/^\/campaign-returns\/(\d+)$/))) await campaignReturnPage(m[1]);
    else if (path === "/password") passwordPage();
    else if (path === "/users") await usersPage();
    else if (path === "/access") await accessLogPage(params);
    else if (path === "/credit") await creditPage(params);
    else if (path === "/points") await pointsPage(params);
    else if ((m = path.match(/^\/points\/(\d+)$/))) await staffPage(m[1]);
    else if (path === "/reports") await reportsPage(params);
    else if ((m = path.match(/^\/reports\/(\d+)$/))) await reportDetailPage(m[1]);
    else if (path === "/disclosures") await disclosuresPage(params);
    else if ((m = path.match(/^\/disclosures\/(\d+)$/))) await disclosureDetailPage(m[1]);
    else if (path === "/exchange") await exchangePage();
    else if (path === "/crossregion") await crossRegionPage();
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
