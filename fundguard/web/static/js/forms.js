// The form renderer: an action's form is built from the fields the workflow engine sends (`actions[].fields`:
// types, Chinese choices, required marks); an action a rule refuses shows why and cannot be submitted.
import { h, money, toast } from "./dom.js";

export function fieldInput(f) {
  const name = f.name;
  const req = f.required ? true : null;
  const options = f.choices;
  if (options && options.length) {
    const multiple = f.type === "list";
    return h("select", { name, required: req, multiple, size: multiple ? Math.min(options.length, 6) : null },
      f.required || multiple ? null : h("option", { value: "" }, "（请选择）"),
      options.map((o) => h("option", { value: o.value }, o.label_zh)));
  }
  switch (f.type) {
    case "textarea": case "text_long": return h("textarea", { name, required: req });
    case "date": return h("input", { type: "date", name, required: req });
    case "datetime": return h("input", { type: "datetime-local", name, required: req });
    case "number": case "integer": case "int": return h("input", { type: "number", step: "1", name, required: req });
    case "money": case "decimal": return h("input", { type: "number", step: "0.01", min: "0", name, required: req });
    case "boolean": case "bool": return h("input", { type: "checkbox", name });
    case "file": return h("input", { type: "file", name, required: req, multiple: true });
    default: return h("input", { type: "text", name, required: req });
  }
}

export function readField(form, f) {
  const el = form.elements[f.name];
  if (!el) return undefined;
  if (f.type === "bool") return el.checked;
  if (el.multiple) {
    const picked = Array.from(el.selectedOptions).map((o) => o.value);
    return picked.length ? picked : undefined;
  }
  const v = el.value.trim();
  if (v === "") return undefined;
  if (f.type === "int") return Number(v);
  if (f.type === "list") return v.split(/[,，、\s]+/).filter(Boolean);
  return v;
}

export function actionForms(actions, submit) {
  if (!actions.length) return h("p", { class: "muted" }, "当前状态下您没有可执行的操作。");
  return h("div", { class: "actions" }, actions.map((a) => {
    const fields = a.fields;
    const form = h("form", { class: "stack", "data-action": a.action },
      a.blocked_zh ? h("p", { class: "alert orange blocked" }, a.blocked_zh) : null,
      fields.map((f) => h("label", {}, `${f.label_zh}${f.required ? " *" : ""}`,
        f.type === "list" ? h("span", { class: "muted" }, f.choices ? "（可多选）" : "（多个用逗号分隔）") : null,
        fieldInput(f))),
      h("div", {}, h("button", { type: "submit", disabled: Boolean(a.blocked_zh) }, `确认${a.label_zh}`)));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const values = {};
      for (const f of fields) {
        const v = readField(form, f);
        if (v !== undefined) values[f.name] = v;
      }
      const btn = form.querySelector("button[type=submit]");
      btn.disabled = true;
      try {
        await submit(a, values);
        toast(`已${a.label_zh}`, true);
      } catch (e) {
        toast(e.message);
      } finally {
        btn.disabled = false;
      }
    });
    return h("details", { class: a.blocked_zh ? "action blocked" : "action", "data-action": a.action },
      h("summary", {}, a.label_zh, a.blocked_zh ? h("span", { class: "muted" }, "（不可办理）") : null), form);
  }));
}

