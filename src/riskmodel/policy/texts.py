"""Every user-facing policy text in English and Chinese, chosen by ``lang``.

Templates use :meth:`str.format` fields; the numbers come from the structured facts or
rationale steps they describe, so a text never says more than the data behind it.
"""

from __future__ import annotations

import math
from typing import Any

LANGS: tuple[str, ...] = ("en", "zh")

TEXTS: dict[str, dict[str, str]] = {
    # collection ladder
    "action.none": {"en": "not overdue: no collection step", "zh": "未逾期：无需催收"},
    "action.monitor": {"en": "monitor the account; no collection step yet", "zh": "持续关注账户，暂不催收"},
    "action.reminder": {"en": "send a payment reminder", "zh": "发送付款提醒"},
    "action.call_and_order_hold": {
        "en": "phone the customer and put new orders on hold",
        "zh": "电话催收并暂停新订单",
    },
    "action.stop_supply_and_formal_demand": {
        "en": "stop supply and send a formal demand for payment",
        "zh": "停止供货并发出正式催款函",
    },
    "action.legal_action": {
        "en": "start legal action, pass the debt to a collection agency or claim on credit insurance",
        "zh": "启动法律程序、委托催收机构或向信用保险索赔",
    },
    "action.resolve_dispute": {
        "en": "resolve the dispute with the customer; collection of the invoice waits until then",
        "zh": "与客户解决争议，争议解决前暂缓催收该发票",
    },
    "action.review_credit": {
        "en": "review the customer's limit and terms with the latest figures before the next order",
        "zh": "在下一笔订单前，依据最新数据复核客户额度与账期",
    },
    "severity.info": {"en": "info", "zh": "提示"},
    "severity.warning": {"en": "warning", "zh": "警告"},
    "severity.severe": {"en": "severe", "zh": "严重"},
    # early-warning alerts
    "alert.pd_jump": {
        "en": "12-month PD rose from {previous_pd_12m:.2%} to {pd_12m:.2%} since the last score (+{absolute_increase:.2%}, +{relative_increase:.0%})",
        "zh": "12个月违约概率自上次评分由{previous_pd_12m:.2%}升至{pd_12m:.2%}（增加{absolute_increase:.2%}，相对增幅{relative_increase:.0%}）",
    },
    "alert.grade_downgrade": {
        "en": "risk grade fell from {previous_grade} to {grade} ({notches} notches) since the last score",
        "zh": "风险等级自上次评分由{previous_grade}级降至{grade}级（下调{notches}级）",
    },
    "alert.overdue_invoice": {
        "en": "{n_invoices} invoice(s) over {threshold} days past due, {overdue_amount:,.2f} open; the oldest {oldest_days_past_due} days ({invoice_list})",
        "zh": "{n_invoices}张发票逾期超过{threshold}天，未结金额{overdue_amount:,.2f}；最久逾期{oldest_days_past_due}天（{invoice_list}）",
    },
    "alert.new_dispute": {
        "en": "{n_invoices} invoice(s) in dispute, {disputed_amount:,.2f} open ({invoice_list})",
        "zh": "{n_invoices}张发票存在争议，未结金额{disputed_amount:,.2f}（{invoice_list}）",
    },
    "alert.utilisation": {
        "en": "limit utilisation {value:.0%} is at or above {threshold:.0%}",
        "zh": "额度使用率{value:.0%}，达到或超过{threshold:.0%}",
    },
    "alert.payment_trend": {
        "en": "payments are slowing: {recent_days:.1f} average days beyond terms recently against {history_days:.1f} over the longer history (+{increase_days:.1f} days)",
        "zh": "付款变慢：近期平均超期{recent_days:.1f}天，较长期平均{history_days:.1f}天增加{increase_days:.1f}天",
    },
    "alert.in_default": {
        "en": "in default since {default_date}: supply stops until it cures",
        "zh": "自{default_date}起违约：在恢复前停止供货",
    },
    "alert.expected_loss": {
        "en": "expected loss {value:,.0f} (12-month PD × open balance) is at or above {threshold:,.0f}",
        "zh": "预期损失{value:,.0f}（12个月违约概率×未结余额），达到或超过{threshold:,.0f}",
    },
    "alert.pd_level": {
        "en": "12-month PD {value:.2%} is at or above {threshold:.2%}",
        "zh": "12个月违约概率{value:.2%}，达到或超过{threshold:.2%}",
    },
    # credit-limit rationale
    "limit.monthly_volume": {
        "en": "average monthly invoiced amount {value:,.0f} ({volume:,.0f} invoiced over {observed_days:.0f} days, × 30)",
        "zh": "月均开票金额{value:,.0f}（{observed_days:.0f}天内开票{volume:,.0f}，× 30）",
    },
    "limit.trade_exposure": {
        "en": "trade need {value:,.0f}: the larger of monthly amount × {days_to_pay:.0f} days to pay/30 (terms, or DSO when longer) and the highest open balance seen {peak_balance:,.0f}",
        "zh": "交易所需额度{value:,.0f}：取月均开票金额 × 回款天数{days_to_pay:.0f}/30（账期，或更长的DSO）与观察到的最高未结余额{peak_balance:,.0f}中的较大者",
    },
    "limit.grade_limit": {
        "en": "{value:,.0f} after the grade {grade} factor {multiplier:g}",
        "zh": "按{grade}级系数{multiplier:g}调整后为{value:,.0f}",
    },
    "limit.cap_annual_revenue": {
        "en": "cap of {share:.0%} of annual revenue {base:,.0f}: {value:,.0f}",
        "zh": "年营业收入{base:,.0f}的{share:.0%}上限：{value:,.0f}",
    },
    "limit.cap_registered_capital": {
        "en": "cap of {share:.0%} of registered capital {base:,.0f}: {value:,.0f}",
        "zh": "注册资本{base:,.0f}的{share:.0%}上限：{value:,.0f}",
    },
    "limit.cap_max_limit": {"en": "policy maximum {value:,.0f}", "zh": "政策最高额度{value:,.0f}"},
    "limit.target": {
        "en": "target {value:,.0f}: the lowest of the above ({basis}), rounded down to a multiple of {rounding:,.0f}",
        "zh": "目标额度{value:,.0f}：取以上最低值（{basis}），向下取整至{rounding:,.0f}的倍数",
    },
    "limit.basis.grade_limit": {"en": "set by trade need and grade", "zh": "由交易需要和等级决定"},
    "limit.basis.cap_annual_revenue": {"en": "capped by annual revenue", "zh": "受年营业收入上限约束"},
    "limit.basis.cap_registered_capital": {"en": "capped by registered capital", "zh": "受注册资本上限约束"},
    "limit.basis.cap_max_limit": {"en": "capped by the policy maximum", "zh": "受政策最高额度约束"},
    "limit.rule.initial": {
        "en": "no current limit: the target is recommended",
        "zh": "当前无额度：建议采用目标额度",
    },
    "limit.rule.target": {
        "en": "moved from {current:,.0f} to the target",
        "zh": "由{current:,.0f}调整至目标额度",
    },
    "limit.rule.unchanged": {"en": "current limit {current:,.0f} kept", "zh": "维持当前额度{current:,.0f}"},
    "limit.rule.cut_past_due": {
        "en": "an invoice is {days_past_due:.0f} days past due (over {past_due_days}): limit cut to at most {cut_factor:.0%} of the current {current:,.0f}",
        "zh": "有发票逾期{days_past_due:.0f}天（超过{past_due_days}天）：额度压降至不高于当前额度{current:,.0f}的{cut_factor:.0%}",
    },
    "limit.rule.freeze_past_due": {
        "en": "an invoice is {days_past_due:.0f} days past due (over {past_due_days}): limit frozen at no more than the current {current:,.0f}",
        "zh": "有发票逾期{days_past_due:.0f}天（超过{past_due_days}天）：额度冻结，不高于当前额度{current:,.0f}",
    },
    # default state: the trigger named in place of the model's reasons
    "default.trigger.invoice_past_due": {
        "en": "invoice {invoice_id} {days_past_due} days past due since {date}, open {open_amount:,.0f}",
        "zh": "发票{invoice_id}自{date}起逾期{days_past_due}天，未结金额{open_amount:,.0f}",
    },
    "default.trigger.invoice_written_off": {
        "en": "invoice {invoice_id} written off on {date}, open {open_amount:,.0f}",
        "zh": "发票{invoice_id}于{date}核销，未结金额{open_amount:,.0f}",
    },
    "default.trigger.event": {"en": "{event} event on {date}", "zh": "{date}发生{event}事件"},
    "default.event.bankruptcy": {"en": "bankruptcy", "zh": "破产"},
    "default.event.legal_action": {"en": "legal action", "zh": "法律诉讼"},
    "default.event.write_off": {"en": "write-off", "zh": "坏账核销"},
    "default.description": {
        "en": "in default since {date} (the trigger shown): pd_12m is 1 by rule, not by the model, until the customer cures",
        "zh": "自{date}起处于违约状态（触发事项如上）：违约概率按规则取1，而非模型结果，直至客户恢复正常",
    },
    "limit.rule.stop_supply": {
        "en": "in default since {default_date}: stop supply, no new credit (limit 0) until the customer cures",
        "zh": "自{default_date}起处于违约状态：停止供货，不再授信（额度为0），直至客户恢复正常",
    },
    "limit.rule.cut_severe_alert": {
        "en": "a severe alert is open: limit cut to at most {cut_factor:.0%} of the current {current:,.0f}",
        "zh": "存在严重预警：额度压降至不高于当前额度{current:,.0f}的{cut_factor:.0%}",
    },
    "limit.rule.freeze_severe_alert": {
        "en": "a severe alert is open: limit frozen at no more than the current {current:,.0f}",
        "zh": "存在严重预警：额度冻结，不高于当前额度{current:,.0f}",
    },
    "limit.rule.no_growth_without_clean_record": {
        "en": "no increase without a clean payment record ({clean_feature} {clean_value} against at most {max_days_beyond_terms:g}; oldest open invoice {open_days} days past due against at most {max_open_days:g}): kept at {current:,.0f}",
        "zh": "付款记录未达标，不予提额（{clean_feature}为{clean_value}，上限{max_days_beyond_terms:g}；最久未结发票逾期{open_days}天，上限{max_open_days:g}）：维持{current:,.0f}",
    },
    "limit.rule.keep_good_grade": {
        "en": "grade {keep_max_grade} or better with no breach: current limit {current:,.0f} kept",
        "zh": "等级为{keep_max_grade}级或更好且无违规：维持当前额度{current:,.0f}",
    },
    "limit.rule.cover_exposure": {
        "en": "grade {keep_max_grade} or better with no breach: raised to cover the current open balance {exposure:,.0f}",
        "zh": "等级为{keep_max_grade}级或更好且无违规：提高至覆盖当前未结余额{exposure:,.0f}",
    },
    "limit.rule.stop_supply_below_exposure": {
        "en": "below the current open balance {exposure:,.0f}: this means no new supply until the balance is paid down under the limit",
        "zh": "低于当前未结余额{exposure:,.0f}：即在余额降至额度以下前停止新的供货",
    },
    "limit.rule.step_cap_increase": {
        "en": "increase capped at +{max_increase:.0%} of the current {current:,.0f} per review",
        "zh": "每次复核提额不超过当前额度{current:,.0f}的{max_increase:.0%}",
    },
    "limit.rule.step_cap_decrease": {
        "en": "decrease capped at -{max_decrease:.0%} of the current {current:,.0f} per review",
        "zh": "每次复核降额不超过当前额度{current:,.0f}的{max_decrease:.0%}",
    },
    "limit.recommended": {"en": "recommended limit {value:,.0f}", "zh": "建议额度{value:,.0f}"},
    "limit.target_short": {"en": "target {value:,.0f}, {basis}", "zh": "目标额度{value:,.0f}，{basis}"},
    "limit.summary": {
        "en": "Recommended limit {value:,.0f}: {rule}; {target}.",
        "zh": "建议额度{value:,.0f}：{rule}；{target}。",
    },
    # onboarding
    "decision.approve": {"en": "approve", "zh": "批准"},
    "decision.review": {"en": "refer to a credit officer for review", "zh": "提交信用审核人员复核"},
    "decision.prepayment_or_guarantee": {
        "en": "ask for prepayment or a bank guarantee",
        "zh": "要求预付款或银行保函",
    },
    "decision.decline": {"en": "decline credit terms", "zh": "拒绝赊销"},
    "onboarding.grade": {
        "en": "grade {grade} from 12-month PD {pd_12m:.2%}",
        "zh": "12个月违约概率{pd_12m:.2%}，风险等级{grade}级",
    },
    "onboarding.grade_rules": {
        "en": "grade {grade} from the policy's onboarding rules (no onboarding model is registered)",
        "zh": "按政策准入规则评为{grade}级（尚无已注册的准入模型）",
    },
    "onboarding.rules_base": {
        "en": "rules start at grade {grade}",
        "zh": "规则起始等级{grade}级",
    },
    "onboarding.rules_bureau_score": {
        "en": "bureau score {value:,.0f} (band from {at_least:,.0f}): {notches:+d} notch(es)",
        "zh": "征信评分{value:,.0f}（{at_least:,.0f}以上区间）：调整{notches:+d}级",
    },
    "onboarding.rules_years_in_business": {
        "en": "{value:,.1f} years in business (band from {at_least:,.0f}): {notches:+d} notch(es)",
        "zh": "经营年限{value:,.1f}年（{at_least:,.0f}年以上区间）：调整{notches:+d}级",
    },
    "onboarding.rules_annual_revenue": {
        "en": "annual revenue {value:,.0f} (band from {at_least:,.0f}): {notches:+d} notch(es)",
        "zh": "年营业收入{value:,.0f}（{at_least:,.0f}以上区间）：调整{notches:+d}级",
    },
    "onboarding.band.approve": {
        "en": "grade {grade} is in the approve band (grades {low} to {high})",
        "zh": "{grade}级属于批准区间（{low}至{high}级）",
    },
    "onboarding.band.review": {
        "en": "grade {grade} is in the review band (grades {low} to {high})",
        "zh": "{grade}级属于复核区间（{low}至{high}级）",
    },
    "onboarding.band.prepayment_or_guarantee": {
        "en": "grade {grade} is in the prepayment-or-guarantee band (grades {low} to {high}): no open credit",
        "zh": "{grade}级属于预付款或保函区间（{low}至{high}级）：不给予赊销额度",
    },
    "onboarding.band.decline": {
        "en": "grade {grade} is in the decline band (grades {low} to {high})",
        "zh": "{grade}级属于拒绝区间（{low}至{high}级）",
    },
    "onboarding.cap_grade": {
        "en": "maximum initial limit for grade {grade}: {value:,.0f}",
        "zh": "{grade}级最高初始额度：{value:,.0f}",
    },
    "onboarding.cap": {
        "en": "initial limit cap {value:,.0f}: the lowest of the above, rounded down to a multiple of {rounding:,.0f}",
        "zh": "初始额度上限{value:,.0f}：取以上最低值，向下取整至{rounding:,.0f}的倍数",
    },
    "onboarding.requested_within": {
        "en": "requested exposure {requested:,.0f} is within the cap",
        "zh": "申请额度{requested:,.0f}在上限之内",
    },
    "onboarding.requested_above": {
        "en": "requested exposure {requested:,.0f} is above the cap {value:,.0f}: a credit officer decides on the excess",
        "zh": "申请额度{requested:,.0f}超过上限{value:,.0f}：超出部分由信用审核人员决定",
    },
    "onboarding.cap_zero": {
        "en": "the cap is 0: a credit officer decides on any credit",
        "zh": "额度上限为0：是否赊销由信用审核人员决定",
    },
    "onboarding.requested_none": {
        "en": "no exposure requested: the cap is offered",
        "zh": "未申请具体额度：按上限给予",
    },
    "onboarding.summary": {
        "en": "{decision}: initial limit {initial_limit:,.0f} ({grade_text}).",
        "zh": "{decision}：初始额度{initial_limit:,.0f}（{grade_text}）。",
    },
    # payment-behaviour rules: the grade of a customer without a default model
    "payment_rules.base": {
        "en": "no default model is registered: the policy's payment-behaviour rules start at grade {grade} and add the notches of each step (grades 1 to 10)",
        "zh": "尚无已注册的违约模型：按政策付款行为规则从{grade}级起，逐项加减调整级数（1至10级）",
    },
    "payment_rules.step": {
        "en": "{description}: {value} ({band}): {notches:+d} notch(es)",
        "zh": "{description}：{value}（{band}）：调整{notches:+d}级",
    },
    "payment_rules.step_missing": {
        "en": "{description}: no data, no change",
        "zh": "{description}：无数据，不调整",
    },
    "payment_rules.band.top": {"en": "{at_least} or more", "zh": "{at_least}及以上"},
    "payment_rules.band.middle": {"en": "{at_least} to below {upper}", "zh": "{at_least}至低于{upper}"},
    "payment_rules.band.bottom": {"en": "below {upper}", "zh": "低于{upper}"},
    "payment_rules.band.any": {"en": "any value", "zh": "任意值"},
    # what an answer lacks, said in the answer
    "note.rules_basis": {
        "en": "pd_12m and grade come from the policy's payment-behaviour rules (basis 'rules'): no default model is registered; pd_12m is the grade's central PD, a policy figure, not a model estimate",
        "zh": "违约概率和风险等级来自政策付款行为规则（basis为rules）：尚无已注册的违约模型；违约概率取该等级的中心值，是政策设定值而非模型估计",
    },
    "note.no_late_payment_model": {
        "en": "no late-payment model is registered: p_late, p_late_30, p_late_60, p_late_90 and the payment dates of the invoices are empty",
        "zh": "尚无已注册的逾期付款模型：发票的逾期概率（p_late、p_late_30、p_late_60、p_late_90）和预计付款日为空",
    },
    "note.no_cash_forecast": {
        "en": "no late-payment model is registered: the cash-in forecast needs its payment-timing distribution, so weeks is empty; train one with 'riskmodel train DIR --models late_payment'",
        "zh": "尚无已注册的逾期付款模型：现金回款预测需要其付款时间分布，因此weeks为空；请用“riskmodel train DIR --models late_payment”训练",
    },
    # reason codes
    "reason.line": {
        "en": "{description}: {value} (portfolio median {comparison})",
        "zh": "{description}：{value}（组合中位数{comparison}）",
    },
    "value.missing": {"en": "no data", "zh": "无数据"},
    "improve.pay_overdue": {
        "en": "pay the {n} oldest overdue invoice(s), {amount:,.2f} ({invoices}): PD {pd_12m:.2%}, grade {grade} (PDs up to {target_pd:.2%} make the next better grade)",
        "zh": "支付最久逾期的{n}张发票，共{amount:,.2f}（{invoices}）：违约概率{pd_12m:.2%}，等级{grade}（违约概率不超过{target_pd:.2%}即升一级）",
    },
    "improve.pay_open": {
        "en": "pay every open invoice now, {amount:,.2f} ({invoices}): PD {pd_12m:.2%}, grade {grade} (PDs up to {target_pd:.2%} make the next better grade)",
        "zh": "立即支付全部未结发票，共{amount:,.2f}（{invoices}）：违约概率{pd_12m:.2%}，等级{grade}（违约概率不超过{target_pd:.2%}即升一级）",
    },
    "value.not_provided": {"en": "not provided", "zh": "未提供"},
    "unit.days": {"en": "{value:,.0f} days", "zh": "{value:,.0f}天"},
    "unit.years": {"en": "{value:,.0f} years", "zh": "{value:,.0f}年"},
}

UNIT_FORMATS: dict[str, str] = {
    "amount": "{value:,.0f}",
    "count": "{value:,.0f}",
    "score": "{value:,.0f}",
    "month": "{value:.0f}",
    "ratio": "{value:.2f}",
    "share": "{value:.0%}",
}


def check_lang(lang: str) -> str:
    """Return ``lang`` when it is supported, otherwise raise a ValueError naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(repr(code) for code in LANGS)}; got {lang!r}")
    return lang


def render(key: str, lang: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` with ``values`` filled in."""
    return TEXTS[key][check_lang(lang)].format(**values)


def format_value(value: Any, lang: str) -> str:
    """A feature or fact value for a sentence: numbers to 4 significant digits, missing as 'no data'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return render("value.missing", lang)
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def format_feature_value(value: Any, unit: str, lang: str) -> str:
    """A feature's value as a credit officer reads it: by its unit (amounts, days, years, %), "not provided" when missing."""
    check_lang(lang)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return render("value.not_provided", lang)
    if isinstance(value, str | bool) or unit == "category":
        return str(value)
    if unit in ("days", "years"):
        return render(f"unit.{unit}", lang, value=float(value))
    return UNIT_FORMATS.get(unit, "{value:.4g}").format(value=float(value))
