// Calls to the scoring service with the API key kept in sessionStorage (this tab only).

const KEY_NAME = "riskmodel.apiKey";

export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body.detail || []).map((d) => (d.field ? `${d.field}: ${d.message}` : d.message));
    super([body.error || `HTTP ${status}`, ...detail.slice(0, 5)].join(" · "));
    this.status = status;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY_NAME) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_NAME, key.trim());
  else sessionStorage.removeItem(KEY_NAME);
}

export async function post(route, body) {
  const response = await fetch(route, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey()}` },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export async function status() {
  const response = await fetch("/status");
  if (!response.ok) throw new ApiError(response.status, {});
  return response.json();
}
