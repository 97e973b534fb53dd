// The credit console: customer lookup, onboarding decision and portfolio overview over the service's API.

import { apiKey, post, setApiKey, status } from "./api.js";
import { barChart, forecastChart } from "./charts.js";
import { lang, setLang, t } from "./i18n.js";

const $ = (selector) => document.querySelector(selector);

// -- formatting (the tests read the same rules back) -----------------------------------
const locale = () => (lang() === "zh" ? "zh-CN" : "en-US");
export const formatPd = (p) => (p === null || p === undefined ? "–" : `${(p * 100).toFixed(2)}%`);
export const formatAmount = (x) =>
  x === null || x === undefined ? "–" : new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(x);
const shorten = (text, n = 34) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

function setFigure(selector, value, text) {
  const element = $(selector);
  element.textContent = text;
  element.dataset.value = value === null || value === undefined ? "" : String(value);
}

function showMessage(text) {
  const message = $("#message");
  message.textContent = text || "";
  message.hidden = !text;
}

function listItems(list, items, render, emptyText) {
  list.replaceChildren();
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = emptyText;
    list.append(li);
    return;
  }
  for (const item of items) list.append(render(item));
}

function stepItem(step) {
  const li = document.createElement("li");
  li.textContent = step.detail;
  li.dataset.rule = step.rule;
  return li;
}

function alertItem(alert) {
  const li = document.createElement("li");
  li.className = `alert severity-${alert.severity}`;
  const head = document.createElement("strong");
  head.textContent = `${alert.customer_id} · ${alert.alert_type}`;
  const text = document.createElement("span");
  text.textContent = alert.text;
  const action = document.createElement("em");
  action.textContent = `→ ${alert.action_text}`;
  li.append(head, text, action);
  return li;
}

function ruleStep(reason) {
  const li = document.createElement("li");
  li.textContent = reason.description;
  li.dataset.rule = reason.rule;
  li.dataset.value = String(reason.contribution);
  return li;
}

// Reasons as the basis gives them: SHAP bars from the model, or the steps of the policy's rules.
function showReasons(body) {
  const rules = body.basis === "rules";
  const title = $("#reasons-title");
  title.dataset.i18n = rules ? "reasons.rules" : "reasons";
  title.textContent = t(title.dataset.i18n);
  $("#reasons-chart").hidden = rules;
  $("#reasons-steps").hidden = !rules;
  $("#reasons-values").hidden = rules || !body.reasons.length;
  if (rules) listItems($("#reasons-steps"), body.reasons, ruleStep, "");
  else {
    reasonBars($("#reasons-chart"), body.reasons);
    listItems($("#reasons-values"), body.reasons, reasonValue, "");
  }
}

// A reason's value as the service formats it by unit, beside the portfolio median.
function reasonText(reason) {
  const value = `${reason.description}: ${reason.value_text ?? "–"}`;
  return reason.comparison_text ? `${value} (${t("median")} ${reason.comparison_text})` : value;
}

function reasonValue(reason) {
  const li = document.createElement("li");
  li.textContent = reasonText(reason);
  li.dataset.feature = reason.feature;
  return li;
}

function improveItem(item) {
  const li = document.createElement("li");
  li.textContent = item.text;
  li.dataset.action = item.action;
  li.dataset.pd = String(item.pd_12m);
  li.dataset.grade = String(item.grade);
  return li;
}

function renderImprovements(body) {
  const list = $("#improve-list");
  listItems(list, body.to_improve || [], improveItem, t("none.improve"));
  list.hidden = false;
}

function showNotes(selector, notes) {
  const list = $(selector);
  list.replaceChildren(...(notes || []).map((text) => Object.assign(document.createElement("li"), { textContent: text })));
  list.hidden = !list.children.length;
}

function reasonBars(container, reasons) {
  const items = reasons.map((r) => ({
    label: shorten(r.description),
    value: r.contribution,
    text: `+${r.contribution.toFixed(3)}`,
    title: reasonText(r),
    kind: "risk",
  }));
  barChart(container, items, { labelWidth: 250, width: 600, empty: t("none.reasons") });
}

// -- aging buckets, as in the collection ladder ---------------------------------------
export function agingBuckets(invoices) {
  const buckets = [
    ["aging.current", (d) => d <= 0], ["aging.1_30", (d) => d >= 1 && d <= 30], ["aging.31_60", (d) => d >= 31 && d <= 60],
    ["aging.61_90", (d) => d >= 61 && d <= 90], ["aging.90", (d) => d > 90],
  ];
  return buckets.map(([key, test]) => ({
    key,
    amount: invoices.filter((i) => test(i.days_past_due)).reduce((sum, i) => sum + i.open_amount, 0),
  }));
}

function invoiceRow(invoice) {
  const tr = document.createElement("tr");
  tr.dataset.invoice = invoice.invoice_id;
  const cells = [
    [invoice.invoice_id, ""], [invoice.due_date, ""], [formatAmount(invoice.open_amount), "num"],
    [String(invoice.days_past_due), "num"], [formatPd(invoice.p_late), "num p_late"], [formatPd(invoice.p_late_30), "num p_late_30"],
    [formatPd(invoice.p_late_60), "num p_late_60"], [formatPd(invoice.p_late_90), "num p_late_90"],
    [invoice.expected_payment_date ?? "–", ""],
  ];
  for (const [text, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    td.className = cls;
    tr.append(td);
  }
  return tr;
}

// -- pages -------------------------------------------------------------------------------
function renderCustomer(body) {
  setFigure("#pd", body.pd_12m, formatPd(body.pd_12m));
  setFigure("#grade", body.grade, String(body.grade));
  $("#grade").className = `grade-${body.grade}`;
  setFigure("#grade-basis", body.basis, t(`score.basis.${body.basis}`));
  setFigure("#current-limit", body.current_limit, formatAmount(body.current_limit));
  setFigure("#recommended-limit", body.recommended_limit, formatAmount(body.recommended_limit));
  $("#customer-meta").textContent = t("meta", { as_of: body.as_of, model: body.model_version, policy: body.policy_version });
  showNotes("#customer-notes", body.notes);
  $("#limit-text").textContent = body.limit_rationale.text;
  listItems($("#limit-steps"), body.limit_rationale.steps, stepItem, "");
  showReasons(body);
  const aging = agingBuckets(body.open_invoices);
  barChart(
    $("#aging-chart"),
    aging.map((b, i) => ({ label: t(b.key), value: b.amount, text: formatAmount(b.amount), kind: `aging-${i}` })),
    { labelWidth: 110 },
  );
  listItems($("#alerts"), body.alerts, alertItem, t("none.alerts"));
  const improve = $("#improve-list");
  improve.replaceChildren();
  improve.hidden = true;
  Object.assign($("#improve-submit").dataset, { customer: body.customer_id, asOf: body.as_of });
  const tbody = $("#invoice-table tbody");
  tbody.replaceChildren(...body.open_invoices.map(invoiceRow));
  $("#customer-result").hidden = false;
}

function renderOnboarding(body) {
  setFigure("#decision", body.decision, t(`decision.${body.decision}`));
  $("#decision").className = `decision-${body.decision}`;
  setFigure("#decision-basis", body.basis, t(`basis.${body.basis}`));
  setFigure("#onboard-pd", body.pd_12m, formatPd(body.pd_12m));
  setFigure("#onboard-grade", body.grade, String(body.grade));
  setFigure("#initial-limit", body.initial_limit, formatAmount(body.initial_limit));
  $("#onboard-text").textContent = body.rationale.text;
  listItems($("#onboard-steps"), body.rationale.steps, stepItem, "");
  reasonBars($("#onboard-chart"), body.reasons);
  $("#onboard-result").hidden = false;
}

function renderPortfolio(body) {
  setFigure("#portfolio-n", body.n_customers, formatAmount(body.n_customers));
  setFigure("#portfolio-pd", body.mean_pd_12m, formatPd(body.mean_pd_12m));
  setFigure("#portfolio-basis", body.basis, t(`score.basis.${body.basis}`));
  setFigure("#portfolio-balance", body.open_balance, formatAmount(body.open_balance));
  setFigure("#portfolio-alerts", body.n_alerts, formatAmount(body.n_alerts));
  barChart(
    $("#grade-chart"),
    body.grades.map((g) => ({
      label: `${t("grade")} ${g.grade}`, value: g.n_customers, kind: `grade-${g.grade}`,
      text: `${g.n_customers} (${(g.share * 100).toFixed(1)}%)`,
      title: `${t("portfolio.open_balance")}: ${formatAmount(g.open_balance)}`,
    })),
    { labelWidth: 110 },
  );
  listItems($("#top-alerts"), body.top_alerts, alertItem, t("none.alerts"));
  $("#portfolio-result").hidden = false;
}

// Expected cash-in by week with its band, under the page's other figures ("customer" or "portfolio").
function renderForecast(prefix, body) {
  forecastChart($(`#${prefix}-forecast-chart`), body.weeks, {
    format: formatAmount, empty: t("forecast.none"), bandText: t("forecast.band"),
  });
  const summary = $(`#${prefix}-forecast-summary`);
  summary.textContent = body.weeks.length
    ? t("forecast.summary", {
      open: formatAmount(body.open_amount), weeks: body.weeks.length,
      expected: formatAmount(body.expected_in_weeks), remaining: formatAmount(body.remaining),
    })
    : t("forecast.open", { open: formatAmount(body.open_amount) });
  summary.dataset.openAmount = String(body.open_amount);
  summary.dataset.remaining = body.remaining === null ? "" : String(body.remaining);
  showNotes(`#${prefix}-forecast-notes`, body.notes);
}

async function loadForecast(prefix, body) {
  $(`#${prefix}-forecast-chart`).replaceChildren();
  try {
    renderForecast(prefix, await post("/cash_forecast", { ...body, lang: lang() }));
  } catch (error) {
    showMessage(error.message);
  }
}

function formFields(form) {
  const body = {};
  for (const element of form.elements) {
    if (!element.name || element.value.trim() === "") continue;
    body[element.name] = element.type === "number" ? Number(element.value) : element.value.trim();
  }
  return body;
}

async function submit(event, route, body, render) {
  event.preventDefault();
  if (!apiKey()) {
    showMessage(t("key.missing"));
    $("#key-dialog").showModal();
    return;
  }
  showMessage("");
  try {
    render(await post(route, { ...body, lang: lang() }));
  } catch (error) {
    showMessage(error.message);
    if (error.status === 401) $("#key-dialog").showModal();
  }
}

function showPage(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.page === name);
  for (const page of document.querySelectorAll(".page")) page.hidden = page.id !== `page-${name}`;
}

async function showStatus() {
  try {
    const s = await status();
    $("#status").textContent = t("status", { model: s.model_version, policy: s.policy_version, end: s.ledger.data_end });
  } catch {
    $("#status").textContent = t("status.down");
  }
}

function start() {
  const saved = sessionStorage.getItem("riskmodel.lang") || "en";
  $("#lang").value = saved;
  setLang(saved);
  $("#lang").addEventListener("change", () => {
    sessionStorage.setItem("riskmodel.lang", $("#lang").value);
    setLang($("#lang").value);
    showStatus();
  });
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showPage(tab.dataset.page));
  $("#key-button").addEventListener("click", () => $("#key-dialog").showModal());
  $("#key-form").addEventListener("submit", () => setApiKey($("#key-input").value));
  $("#customer-form").addEventListener("submit", (event) => {
    const body = { customer_id: $("#customer-id").value.trim() };
    if ($("#customer-as-of").value) body.as_of = $("#customer-as-of").value;
    submit(event, "/score", body, (answer) => {
      renderCustomer(answer);
      loadForecast("customer", { customer_id: answer.customer_id, as_of: answer.as_of });
    });
  });
  $("#improve-submit").addEventListener("click", (event) => {
    const { customer, asOf } = event.target.dataset;
    submit(event, "/score", { customer_id: customer, as_of: asOf, improve: true }, renderImprovements);
  });
  $("#onboard-form").addEventListener("submit", (event) =>
    submit(event, "/onboard", formFields(event.target), renderOnboarding));
  $("#portfolio-form").addEventListener("submit", (event) => {
    const body = $("#portfolio-as-of").value ? { as_of: $("#portfolio-as-of").value } : {};
    submit(event, "/portfolio", body, (answer) => {
      renderPortfolio(answer);
      loadForecast("portfolio", { as_of: answer.as_of });
    });
  });
  showStatus();
  if (!apiKey()) $("#key-dialog").showModal();
}

start();
