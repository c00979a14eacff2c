/* 查询办理结果: the status and reply by tracking code, and the reward claim with an identity check. */
"use strict";

(function () {
  const byId = (id) => document.getElementById(id);
  let code = "";

  async function show() {
    const r = await FG.api("/api/public/reports/" + encodeURIComponent(code));
    byId("r-received").textContent = r.received_on;
    byId("r-status").textContent = r.status_zh;
    byId("r-reply").textContent = r.reply || "暂无";
    byId("result").classList.remove("hidden");
    const claim = byId("claim-form");
    claim.classList.toggle("hidden", !r.reward);
    if (r.reward) {
      byId("claim-info").textContent = "奖励金额 " + r.reward.amount + " 元，状态：" + r.reward.status_zh +
        (r.reward.claim_due ? "，请于 " + r.reward.claim_due + " 前领取（逾期视为放弃）" : "");
      claim.querySelector("button").disabled = r.reward.status !== "notified";
    }
  }

  byId("track-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    byId("track-error").textContent = "";
    byId("result").classList.add("hidden");
    code = byId("code").value.trim();
    try { await show(); } catch (e) { byId("track-error").textContent = e.message; }
  });

  byId("claim-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = byId("claim-status");
    out.className = "hint";
    out.textContent = "正在核验身份…";
    try {
      const body = Object.assign({ name: byId("c-name").value, id_no: byId("c-id").value,
        phone: byId("c-phone").value }, await FG.proof());
      const r = await FG.api("/api/public/reports/" + encodeURIComponent(code) + "/claim", body);
      out.className = "ok";
      out.textContent = "身份核验通过：" + r.status_zh + "，奖励将按规定发放。";
      await show();
      out.className = "ok";
    } catch (e) {
      out.className = "error";
      out.textContent = e.message;
    }
  });
})();
