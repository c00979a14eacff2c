// The enforcement record (执法全过程记录) and its hash-chain check.
import { api, qs } from "./client.js";
import { h, num, page, pager, panel, table, toast, txt, when } from "./dom.js";

export async function recordPage(params) {
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

