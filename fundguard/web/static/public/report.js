/* 举报投诉: fills the choices, solves the challenge, sends the report with its attachments (base64), and shows
   the tracking code once. */
"use strict";

(function () {
  const form = document.getElementById("report-form");
  const status = document.getElementById("report-status");
  const byId = (id) => document.getElementById(id);

  FG.api("/api/public/reports/form").then((f) => {
    f.regions.forEach((r) => FG.option(byId("admdvs"), r.code, r.name + "（" + r.code + "）"));
    f.target_kinds.forEach((o) => FG.option(byId("target_kind"), o.value, o.label_zh));
    f.violation_types.forEach((o) => FG.option(byId("violation_type"), o.value, o.label_zh));
  }).catch((e) => { status.textContent = e.message; status.className = "error"; });

  form.addEventListener("change", (ev) => {
    if (ev.target.name === "real_name") byId("identity").classList.toggle("hidden", ev.target.value !== "1");
  });

  function read(file) {
    return new Promise((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve({ filename: file.name, content_type: file.type || "application/octet-stream",
        data_base64: String(r.result).split(",")[1] || "" });
      r.onerror = () => reject(new Error("无法读取附件 " + file.name));
      r.readAsDataURL(file);
    });
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = byId("submit");
    button.disabled = true;
    status.className = "hint";
    status.textContent = "正在进行防刷验证并提交…";
    try {
      const realName = form.querySelector("input[name=real_name]:checked").value === "1";
      const files = Array.from(byId("files").files || []);
      if (files.length > 3) throw new Error("附件最多 3 个");
      const body = {
        admdvs: byId("admdvs").value, target_kind: byId("target_kind").value,
        violation_type: byId("violation_type").value, target_name: byId("target_name").value,
        description: byId("description").value, happened: byId("happened").value, place: byId("place").value,
        real_name: realName, insider: byId("insider").checked,
        identity: realName ? { name: byId("name").value, phone: byId("phone").value, id_no: byId("id_no").value } : null,
        attachments: await Promise.all(files.map(read)),
      };
      Object.assign(body, await FG.proof());
      const done = await FG.api("/api/public/reports", body);
      form.reset();
      form.classList.add("hidden");
      byId("done-number").textContent = done.number;
      byId("done-code").textContent = done.code;
      byId("done").classList.remove("hidden");
    } catch (e) {
      status.className = "error";
      status.textContent = e.message;
    } finally {
      button.disabled = false;
    }
  });
})();
