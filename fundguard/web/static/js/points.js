// 医保支付资格记分 (一人一档): the staff files with today's qualification, the person's file with every point
// record and its 陈述申辩 actions (forms from the engine), the nationwide lookup, and pending notices.
import { api, isHospital, qs, rerender } from "./client.js";
import { h, labelled, page, pager, panel, statusTag, table, toast, txt } from "./dom.js";
import { actionForms } from "./forms.js";

const statusCell = (r) => statusTag(r.status_zh, r.status === "suspended" || r.status === "terminated");

function lookupPanel() {
  const out = h("div", { id: "points-lookup-result" });
  const form = h("form", { class: "filters", id: "points-lookup" },
    h("label", {}, "国家医保编码", h("input", { name: "national_code" })),
    h("label", {}, "或身份证号", h("input", { name: "id_no" })),
    h("button", { type: "submit" }, "全国联网查询"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const q = await api(`/api/points/lookup${qs({ national_code: form.elements.national_code.value.trim(),
        id_no: form.elements.id_no.value.trim() })}`);
      out.replaceChildren(h("div", { class: q.status === "normal" ? "alert green" : "alert red" },
        `${q.national_code} ${txt(q.name)}：${q.status_zh}，本年记分 ${q.points_year} 分。${q.reason_zh || ""}`,
        q.warn ? "（已接近暂停阈值）" : ""));
    } catch (e) { toast(e.message); }
  });
  return panel("资格查询", form, out);
}

export async function pointsPage(params) {
  const q = params.get("q") || "";
  const pageNo = Number(params.get("page") || 1);
  const [data, pending] = await Promise.all([
    api(`/api/points/staff${qs({ q, page: pageNo, size: 20 })}`),
    api(`/api/points/records${qs({ status: "notified", size: 50 })}`),
  ]);
  const filter = h("form", { class: "filters", id: "staff-filters" },
    h("label", {}, "姓名或编码", h("input", { name: "q", value: q })), h("button", { type: "submit" }, "查询"));
  filter.addEventListener("submit", (ev) => { ev.preventDefault(); location.hash = `#/points${qs({ q: filter.elements.q.value.trim() })}`; });
  page(isHospital() ? "本院医保支付资格" : "医保支付资格记分",
    lookupPanel(),
    panel(`待陈述申辩的记分告知（${pending.total}）`, table([
      { label: "编号", key: "id" }, { label: "事由", key: "reason" }, { label: "分值", key: "points", num: true },
      { label: "申辩截止", key: "statement_due", nowrap: true },
      { label: "人员档案", render: (r) => h("a", { href: `#/points/${r.staff_id}` }, "查看") },
    ], pending.items)),
    panel("人员档案（一人一档）", filter, table([
      { label: "国家医保编码", key: "national_code", nowrap: true }, { label: "姓名", key: "name" },
      { label: "类别", key: "category" }, { label: "登记机构", key: "fixmedins_code", nowrap: true },
      { label: "本年记分", key: "points_year", num: true }, { label: "资格状态", render: statusCell },
    ], data.items, (r) => ({ onclick: () => { location.hash = `#/points/${r.id}`; }, class: "clickable" })),
    pager(data, (p) => { location.hash = `#/points${qs({ q, page: p })}`; })));
}

export async function staffPage(id) {
  const f = await api(`/api/points/staff/${id}`);
  const q = f.qualification;
  page(`人员档案 ${f.name}（${f.national_code}）`,
    h("div", { class: q.status === "normal" ? "alert green" : "alert red", id: "qualification" },
      `${q.status_zh}，本年记分 ${q.points_year} 分`, q.until ? `，至 ${q.until}` : "",
      q.bar_until ? `，${q.bar_until} 前不得再次登记备案` : "", q.reason_zh ? `。${q.reason_zh}` : ""),
    h("div", { class: "grid" },
      panel("登记备案", labelled(f, [["category", "人员类别"], ["id_no", "身份证号"], ["fixmedins_code", "登记机构"],
        ["pledge_on", "服务承诺日期"], ["registered_on", "登记备案日期"]])),
      panel("执业机构（全国有效）", table([{ label: "机构编码", key: "fixmedins_code" }, { label: "区划", key: "admdvs" },
        { label: "科室", key: "department" }], f.sites))),
    f.records.map((r) => panel(`记分 #${r.id}：${r.points} 分（${r.status_zh}）`,
      labelled(r, [["reason", "事由"], ["behaviour_zh", "违法行为"], ["responsibility", "责任程度"],
        ["adjustment_zh", "情节"], ["decided_on", "记分日期（决定日）"], ["statement_due", "陈述申辩截止"],
        ["effective_on", "生效日期"], ["statement", "陈述申辩内容"], ["reduced", "已修复分值"]]),
      r.events.length ? table([{ label: "时间", render: (e) => when(e.at) }, { label: "步骤", key: "action_zh" },
        { label: "办理人", key: "actor_name" }, { label: "办理后状态", key: "to_status_zh" }, { label: "意见", key: "comment" }],
      r.events) : null,
      r.documents.length ? h("ul", { class: "points-documents", "data-record": r.id }, r.documents.map((d) => h("li", {},
        h("a", { href: d.url, class: "doc-link", "data-kind": d.kind, download: "" }, d.name_zh), " ",
        h("a", { href: d.pdf_url, class: "pdf-link", "data-kind": d.kind, download: "" }, "PDF")))) : null,
      r.actions.length ? actionForms(r.actions, async (a, values) => {
        await api(`/api/points/records/${r.id}/actions`, { method: "POST", json: Object.assign({ action: a.action, version: r.version }, values) });
        rerender();
      }) : null)));
}
