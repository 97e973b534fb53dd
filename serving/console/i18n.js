// Console labels in English and Chinese; texts computed by the service come back in the language asked for.

const STRINGS = {
  en: {
    "title": "Credit risk console",
    "nav.customer": "Customer", "nav.onboarding": "Onboarding", "nav.portfolio": "Portfolio",
    "key.button": "API key", "key.prompt": "API key (kept in this browser tab only)", "key.save": "Use key",
    "key.missing": "Enter the API key first (button 'API key').",
    "customer.id": "Customer id", "as_of": "As of (empty: latest)", "customer.lookup": "Look up",
    "pd": "12-month PD", "grade": "Grade", "current_limit": "Current limit", "recommended_limit": "Recommended limit",
    "limit.why": "Why this limit", "reasons": "What drives the PD (SHAP)", "aging": "Aging of open invoices",
    "alerts": "Open alerts and actions", "invoices": "Open invoices and late-payment risk",
    "inv.id": "Invoice", "inv.due": "Due", "inv.open": "Open amount", "inv.dpd": "Days past due",
    "inv.expected": "Expected payment",
    "aging.current": "current", "aging.1_30": "1-30 days", "aging.31_60": "31-60 days",
    "aging.61_90": "61-90 days", "aging.90": "90+ days",
    "none.alerts": "No open alerts.", "none.reasons": "No feature raises the risk.", "none.invoices": "No open invoices.",
    "meta": "as of {as_of} · model {model} · policy {policy}",
    "app.name": "Company name", "app.country": "Country", "app.industry": "Industry",
    "app.annual_revenue": "Annual revenue", "app.years_in_business": "Years in business", "app.employees": "Employees",
    "app.registered_capital": "Registered capital", "app.bureau_score": "Bureau score",
    "app.payment_terms_days": "Payment terms (days)", "app.requested_limit": "Requested limit", "app.decide": "Decide",
    "basis.model": "by the onboarding model", "basis.rules": "by the policy rules (no onboarding model yet)",
    "score.basis.model": "by the default model",
    "score.basis.rules": "by the policy's payment-behaviour rules (no default model yet)",
    "reasons.rules": "How the rules set the grade (notches per step)",
    "decision": "Decision", "initial_limit": "Initial limit", "decision.why": "Why this decision",
    "decision.approve": "approve", "decision.review": "review",
    "decision.prepayment_or_guarantee": "prepayment or guarantee", "decision.decline": "decline",
    "portfolio.show": "Show", "portfolio.customers": "Active customers", "portfolio.mean_pd": "Mean PD",
    "portfolio.open_balance": "Open balance", "portfolio.alerts": "Open alerts",
    "portfolio.grades": "Customers by grade", "portfolio.top": "Top alerts",
    "status": "models {model} · policy {policy} · ledger to {end}",
    "status.down": "The service does not answer /status.",
    "forecast.title": "Expected cash-in by week, next 13 weeks (80% band)",
    "forecast.summary": "open book {open} · expected in {weeks} weeks {expected} · still open after {remaining}",
    "forecast.open": "open book {open}",
    "forecast.none": "No forecast.",
    "forecast.band": "80% band",
    "median": "portfolio median",
    "improve": "What would lift this customer one grade", "improve.find": "Find the smallest payment",
    "none.improve": "No payment of open invoices lifts this customer a grade (or it is at grade 1 already).",
  },
  zh: {
    "title": "信用风险控制台",
    "nav.customer": "客户", "nav.onboarding": "新客户准入", "nav.portfolio": "组合",
    "key.button": "API 密钥", "key.prompt": "API 密钥（仅保存在本浏览器标签页）", "key.save": "使用密钥",
    "key.missing": "请先输入 API 密钥（“API 密钥”按钮）。",
    "customer.id": "客户编号", "as_of": "评估日期（留空：最新）", "customer.lookup": "查询",
    "pd": "12个月违约概率", "grade": "风险等级", "current_limit": "当前额度", "recommended_limit": "建议额度",
    "limit.why": "额度依据", "reasons": "违约概率的主要驱动因素（SHAP）", "aging": "未结发票账龄",
    "alerts": "未关闭预警及建议措施", "invoices": "未结发票及逾期风险",
    "inv.id": "发票", "inv.due": "到期日", "inv.open": "未结金额", "inv.dpd": "逾期天数",
    "inv.expected": "预计付款日",
    "aging.current": "未到期", "aging.1_30": "1-30天", "aging.31_60": "31-60天",
    "aging.61_90": "61-90天", "aging.90": "90天以上",
    "none.alerts": "无未关闭预警。", "none.reasons": "没有推高风险的因素。", "none.invoices": "无未结发票。",
    "meta": "评估日期 {as_of} · 模型 {model} · 政策 {policy}",
    "app.name": "公司名称", "app.country": "国家", "app.industry": "行业",
    "app.annual_revenue": "年收入", "app.years_in_business": "经营年限", "app.employees": "员工人数",
    "app.registered_capital": "注册资本", "app.bureau_score": "征信评分",
    "app.payment_terms_days": "账期（天）", "app.requested_limit": "申请额度", "app.decide": "评估",
    "basis.model": "依据准入模型", "basis.rules": "依据政策规则（尚无准入模型）",
    "score.basis.model": "依据违约模型",
    "score.basis.rules": "依据政策付款行为规则（尚无违约模型）",
    "reasons.rules": "规则如何确定等级（每步调整级数）",
    "decision": "决定", "initial_limit": "初始额度", "decision.why": "决定依据",
    "decision.approve": "批准", "decision.review": "人工审核",
    "decision.prepayment_or_guarantee": "预付款或担保", "decision.decline": "拒绝",
    "portfolio.show": "显示", "portfolio.customers": "活跃客户", "portfolio.mean_pd": "平均违约概率",
    "portfolio.open_balance": "未结余额", "portfolio.alerts": "未关闭预警",
    "portfolio.grades": "各风险等级客户数", "portfolio.top": "重点预警",
    "status": "模型 {model} · 政策 {policy} · 数据截至 {end}",
    "status.down": "服务未响应 /status。",
    "forecast.title": "未来13周每周预计现金回款（80%区间）",
    "forecast.summary": "未结余额 {open} · {weeks}周内预计回款 {expected} · 之后仍未结 {remaining}",
    "forecast.open": "未结余额 {open}",
    "forecast.none": "无预测。",
    "forecast.band": "80%区间",
    "median": "组合中位数",
    "improve": "如何将该客户提升一个等级", "improve.find": "计算最小还款",
    "none.improve": "偿还未结发票无法将该客户提升一个等级（或已是1级）。",
  },
};

let current = "en";

export function setLang(lang) {
  current = STRINGS[lang] ? lang : "en";
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
}

export function lang() {
  return current;
}

export function t(key, values = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}
