// 医保支付资格公众查询: no login, one JSON call; the answer is shown as text (never as HTML).
const form = document.getElementById("public-points");
const out = document.getElementById("public-points-result");

function show(text, cls) {
  const div = document.createElement("div");
  div.className = `alert ${cls}`;
  div.textContent = text;
  out.replaceChildren(div);
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const code = form.elements.national_code.value.trim();
  try {
    const r = await fetch(`/api/public/points/status?national_code=${encodeURIComponent(code)}`);
    const body = await r.json();
    if (!r.ok) {
      const wait = r.headers.get("Retry-After");
      show(`${body.detail?.zh || "查询失败"}${wait ? `（${wait} 秒后可再查询）` : ""}`, "red");
      return;
    }
    const who = body.name ? `${body.name}（${body.national_code}）` : body.national_code;
    const until = body.until ? `，暂停至 ${body.until}` : "";
    show(`${who}：${body.status_zh}${until}。查询日期 ${body.on_date}。`, body.status === "normal" ? "green" : "red");
  } catch (e) {
    show("网络错误，请稍后再试", "red");
  }
});
