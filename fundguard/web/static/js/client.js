// The REST client: one `api()` for every call (JSON in and out, bilingual errors as `ApiError`, a 401 sends
// the user to the login page), the shared state, and the process definitions from the workflow engine.

export const state = { user: null, charts: [], renders: 0 };

export class ApiError extends Error {
  constructor(status, detail) {
    super((detail && detail.zh) || `请求失败（${status}）`);
    this.status = status;
    this.detail = detail || {};
  }
}

export async function api(path, options) {
  const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
  if (opts.json !== undefined) {
    opts.body = JSON.stringify(opts.json);
    opts.headers["Content-Type"] = "application/json";
    delete opts.json;
  }
  const res = await fetch(path, opts);
  let body = null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("application/json")) body = await res.json();
  if (!res.ok) {
    const detail = body && typeof body.detail === "object" && !Array.isArray(body.detail) ? body.detail : null;
    if (res.status === 401 && !path.startsWith("/api/auth/")) {
      state.user = null;
      location.hash = "#/login";
    }
    throw new ApiError(res.status, detail);
  }
  return body;
}

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) p.set(k, v);
  const s = p.toString();
  return s ? `?${s}` : "";
}

export function isHospital() { return state.user && state.user.role === "hospital"; }

export async function processStates(name) {
  if (!state.processes) state.processes = await api("/api/processes");
  return state.processes[name].states;
}


// Render the current page again (after an action): the router listens for this event.
export function rerender() {
  window.dispatchEvent(new Event("hashchange"));
}
