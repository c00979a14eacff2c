// Rule scorecard (规则成效): precision from real outcomes; the admin pauses or resumes a rule.
import { api, rerender, state } from "./client.js";
import { h, money, num, page, panel, table, toast } from "./dom.js";

export async function rulesPage() {
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
      rerender();
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

