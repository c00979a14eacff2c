// Ledgers (台账): the Excel exports.
import { api } from "./client.js";
import { h, page, panel } from "./dom.js";

const LEDGERS = [
  ["clues", "线索台账"], ["cases", "案件台账"], ["measures", "协议处理台账"], ["penalties", "行政处罚台账"],
  ["refunds", "退回基金台账"], ["fines", "罚没款上缴国库台账"], ["referrals", "移送台账"],
];

export function ledgersPage() {
  page("台账", panel("导出 Excel 台账", h("ul", { id: "ledgers" },
    LEDGERS.map(([name, label]) => h("li", {}, h("a", { href: `/api/ledgers/${name}`, download: "", "data-ledger": name }, label))))),
  h("p", { class: "muted" }, "退回基金与罚没款分别建账：追回的医保基金退回基金账户，罚款上缴国库。"));
}

