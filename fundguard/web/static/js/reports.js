// 举报处理与奖励 (handlers): the reports in scope with their time limits and overdue warnings, statistics, the
// report's facts (never the reporter: only the designated role decrypts, with a reason that is logged), its
// process actions (forms from the engine), the reward — computed, approved, notified, paid — and the ledger.
import { api, qs, rerender } from "./client.js";
import { h, labelled, money, page, pager, panel, statusTag, table, toast, txt } from "./dom.js";
import { actionForms } from "./forms.js";

const STATUS = [["", "全部"], ["registered", "待受理"], ["accepted", "已受理"], ["verifying", "核查中"],
  ["concluded", "已办结"], ["rejected", "不予受理"], ["merged", "已合并"]];

function counts(title, rows) {
  return panel(title, table([{ label: "类别", key: "label_zh" }, { label: "件数", key: "count", num: true }], rows));
}

export async function reportsPage(params) {
  const status = params.get("status") || "";
  const overdue = params.get("overdue") === "1";
  const pageNo = Number(params.get("page") || 1);
  const [data, stats] = await Promise.all([
    api(`/api/reports${qs({ status, overdue: overdue ? "true" : "", page: pageNo, size: 20 })}`),
    api("/api/reports/statistics"),
  ]);
  const filter = h("form", { class: "filters", id: "report-filters" },
    h("label", {}, "状态", h("select", { name: "status" }, STATUS.map(([v, l]) => h("option", { value: v, selected: v === status ? true : null }, l)))),
    h("label", {}, h("input", { type: "checkbox", name: "overdue", checked: overdue ? true : null }), "仅看超期"),
    h("button", { type: "submit" }, "查询"));
  filter.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = `#/reports${qs({ status: filter.elements.status.value, overdue: filter.elements.overdue.checked ? "1" : "" })}`;
  });
  page("举报处理",
    h("div", { class: "cards", id: "report-stats" },
      h("div", { class: "card" }, h("div", { class: "label" }, "举报总数"), h("div", { class: "value" }, String(stats.total))),
      h("div", { class: "card" }, h("div", { class: "label" }, "转为线索"), h("div", { class: "value" }, String(stats.became_clues))),
      h("div", { class: "card" }, h("div", { class: "label" }, "立案占比"), h("div", { class: "value" }, `${(stats.case_share * 100).toFixed(1)}%`)),
      h("div", { class: "card" }, h("div", { class: "label" }, "追回金额（元）"), h("div", { class: "value", id: "report-recovered" }, money(stats.recovered))),
      h("div", { class: "card" }, h("div", { class: "label" }, "已发放奖励（元）"), h("div", { class: "value" }, money(stats.rewards_paid)))),
    panel(`举报（${data.total}）`, filter, table([
      { label: "编号", key: "number", nowrap: true }, { label: "渠道", key: "channel_zh" },
      { label: "类型", key: "violation_type_zh" }, { label: "被举报对象", key: "target_name" },
      { label: "实名", render: (r) => (r.real_name ? "实名" : "匿名") },
      { label: "状态", render: (r) => statusTag(r.status_zh, r.warnings.length > 0) },
      { label: "时限", key: "due_date", nowrap: true },
      { label: "提醒", render: (r) => h("span", { class: "warn" }, r.warnings.join("；")) },
    ], data.items, (r) => ({ onclick: () => { location.hash = `#/reports/${r.id}`; }, class: "clickable", "data-report": r.number })),
    pager(data, (p) => { location.hash = `#/reports${qs({ status, overdue: overdue ? "1" : "", page: p })}`; })),
    h("div", { class: "grid" }, counts("按渠道", stats.by_channel), counts("按类型", stats.by_type),
      counts("按办理结果", stats.by_outcome)),
    panel("举报奖励", h("p", {}, h("a", { href: "/api/rewards/ledger.xlsx", id: "reward-ledger" }, "下载举报奖励发放台账（Excel）"))));
}

function identityPanel(r) {
  const out = h("div", { id: "identity-result" });
  const form = h("form", { class: "stack", id: "identity-form" },
    h("label", {}, "解密理由（记入访问日志和执法记录）*", h("input", { name: "reason", required: true, maxlength: 200 })),
    h("div", {}, h("button", { type: "submit" }, "解密举报人信息")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const who = await api(`/api/reports/${r.id}/identity`, { method: "POST", json: { reason: form.elements.reason.value.trim() } });
      out.replaceChildren(labelled(who, [["name", "姓名"], ["phone", "联系电话"], ["id_no", "身份证号"], ["address", "地址"]]));
    } catch (e) { toast(e.message); }
  });
  return panel("举报人信息（保密）", form, out);
}

function rewardPanel(r) {
  const w = r.reward;
  if (!w) {
    const form = h("form", { class: "stack", id: "reward-form" },
      h("label", {}, "奖励等级 *", h("select", { name: "grade" }, [1, 2, 3].map((g) => h("option", { value: String(g) }, `${g}级`)))),
      h("label", {}, h("input", { type: "checkbox", name: "insider", checked: r.insider ? true : null }), "内部人员举报"),
      h("div", {}, h("button", { type: "submit" }, "核定举报奖励")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await api(`/api/reports/${r.id}/reward`, { method: "POST",
          json: { grade: Number(form.elements.grade.value), insider: form.elements.insider.checked } });
        toast("已核定奖励", true);
        rerender();
      } catch (e) { toast(e.message); }
    });
    return panel("举报奖励", form);
  }
  return panel(`举报奖励：${money(w.amount)} 元（${w.status_zh}）`,
    h("div", { id: "reward-status", "data-status": w.status }, labelled(w, [["basis", "计算依据"], ["notice_no", "奖励通知文号"],
      ["notified_on", "通知日期"], ["claim_due", "领取期限"], ["claimed_on", "领取日期"], ["voucher_no", "支付凭证号"], ["paid_on", "发放日期"]])),
    h("div", { id: "reward-actions" }, rewardActions(w)));
}

function rewardActions(w) {
  const holder = h("div", {}, h("p", { class: "muted" }, "正在加载…"));
  api(`/api/rewards/${w.id}`).then((d) => holder.replaceChildren(actionForms(d.actions, async (a, values) => {
    await api(`/api/rewards/${w.id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: d.version }, values) });
    rerender();
  }))).catch((e) => holder.replaceChildren(h("p", { class: "muted" }, e.message)));
  return holder;
}

export async function reportDetailPage(id) {
  const r = await api(`/api/reports/${id}`);
  page(`举报 ${r.number}（${r.status_zh}）`,
    r.warnings.length ? h("div", { class: "alert orange", id: "report-warnings" }, r.warnings.join("；")) : null,
    h("div", { class: "grid" },
      panel("举报事实", h("div", { id: "report-facts" }, labelled(r, [["channel_zh", "渠道"], ["target_kind_zh", "对象类别"],
        ["target_name", "被举报对象"], ["violation_type_zh", "违法违规类型"], ["description", "举报内容"], ["happened", "发生时间"],
        ["place", "发生地点"], ["received_on", "收到日期"], ["admdvs", "承办区划"], ["due_date", "本环节时限"],
        ["notice_due", "告知举报人期限"], ["notified_on", "已告知日期"], ["clue_id", "线索编号"], ["inspection", "检查任务"],
        ["reply", "答复"]])),
        h("p", {}, r.real_name ? "实名举报（举报人信息已加密保存，办理人员不可见）" : "匿名举报"),
        r.clue_id ? h("p", {}, h("a", { href: `#/clues/${r.clue_id}` }, `查看线索 #${r.clue_id}`)) : null,
        r.attachments.length ? h("ul", {}, r.attachments.map((a) => h("li", {},
          h("a", { href: `/api/reports/${r.id}/attachments/${a.id}` }, `${a.filename}（${Math.ceil(a.size / 1024)} KB）`)))) : null,
        r.linked.length ? h("p", { id: "report-linked" }, "相关（重复）举报：", r.linked.map((l) => h("a", { href: `#/reports/${l.id}` }, `${l.number} `))) : null),
      panel("办理", actionForms(r.actions, async (a, values) => {
        await api(`/api/reports/${r.id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: r.version }, values) });
        rerender();
      }))),
    r.can_decrypt ? identityPanel(r) : null,
    r.status === "concluded" || r.reward ? rewardPanel(r) : null,
    panel("办理过程", table([{ label: "时间", key: "at", nowrap: true }, { label: "操作", key: "label_zh" },
      { label: "状态", key: "to_status_zh" }, { label: "办理人", key: "actor" }, { label: "意见", render: (e) => txt(e.comment) }], r.events)));
}
