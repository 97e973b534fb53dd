# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Model validation report
#
# Independent validation of the champion models registered in MLflow: late payment,
# default (`pd_12m`) and onboarding. Every measure is computed **out of time**: the
# training table is rebuilt from the ledger exactly as the training run built it (its data
# end, feature windows, horizon and out-of-time design), and only the validation rows —
# dated after the cut, one outcome window after the last development row, and never seen by
# fitting, model choice or calibration — are scored, by the run's validation model (fitted on
# the development rows; the registered champion was then refitted on every labelled row).
# Section 1 shows that the rebuild reproduces what the run logged.
#
# Run headless with `riskmodel report`, or open this notebook in Jupyter (parameters below).

# %% tags=["parameters"]
tracking_uri = None  # MLflow store; default $MLFLOW_TRACKING_URI, else sqlite:///<repo>/mlflow.db
ledger_dir = "../data/sample"  # the ledger the models were trained on
policy_file = None  # credit policy YAML; default the shipped policy
n_bootstrap = 1000  # bootstrap resamples for the confidence intervals
migration_months = 12  # grade migration window, ending at the ledger's end
n_top_features = 8  # features shown in the stability and explanation sections
cash_forecast_weeks = 13  # weeks of the cash-in forecast backtest
backtest_start = None  # decisions backtest; default: the six months up to six months before the ledger's end
backtest_end = None
backtest_config_file = None  # training config of the backtest's model; default the backtest's own settings

# %%
# %matplotlib inline
import os

import pandas as pd
from IPython.display import Image, Markdown, display

from riskmodel.backtest import backtest_config, check_outcomes_known, report_window, run_backtest
from riskmodel.backtest.report import alerts_figure, headline_table, lead_time_figure, limits_figure
from riskmodel.exceptions import BacktestError
from riskmodel.forecast import backtest_cash_forecast, backtest_dates
from riskmodel.labels import add_months
from riskmodel.ledger import load_ledger
from riskmodel.models import default_tracking_uri, load_train_config
from riskmodel.policy import load_policy
from riskmodel.portfolio import (
    alert_summary,
    exposure_by_grade,
    grade_distribution,
    limit_actions,
    migration_matrix,
    migration_summary,
    performing_scores,
)
from riskmodel.scoring import ModelBundle, score_customers
from riskmodel.validation import model_figures as figures
from riskmodel.validation.data import (
    explain_rows,
    load_champion_runs,
    rebuild_out_of_time,
    reproduction_checks,
)
from riskmodel.validation.drift import drift_report
from riskmodel.validation.report import styled_table
from riskmodel.validation.summary import (
    benchmark_table,
    design_table,
    grade_coverage,
    open_invoice_calibration,
    rolling_origins,
    calibration_by_grade,
    calibration_measures,
    discrimination_by_target,
    overview_table,
    signoff_summary,
    stack_tables,
)

pd.set_option("display.precision", 4)
pd.set_option("display.max_columns", 30)
tracking_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri("..")
ledger = load_ledger(ledger_dir)
policy = load_policy(policy_file)
runs, missing = load_champion_runs(tracking_uri)
oot = {name: rebuild_out_of_time(run, ledger) for name, run in runs.items()}

# %% [markdown]
# ## 1. Scope and data
#
# The champions under review, the run that trained each, and the out-of-time slice each is
# judged on. *Same ledger as training* compares a SHA-256 of every ledger table with the
# run's data fingerprint.

# %%
display(
    Markdown(
        f"MLflow store `{tracking_uri}`; ledger `{ledger.source}` (data end {ledger.data_end}); "
        f"credit policy version `{policy.version}`."
    )
)
for name, reason in missing.items():
    display(Markdown(f"**{name}: no champion** — {reason}"))
display(overview_table(oot).set_index("model").T)

# %% [markdown]
# **Reproduction.** Row counts, dates and positive cases of the rebuilt design against the
# run's data fingerprint, and the out-of-time AUC against the run's logged metric. A
# mismatch means the ledger or the code changed since training: the measures below would
# then not be those of the registered model's own validation.

# %%
checks = stack_tables({name: reproduction_checks(d) for name, d in oot.items()})
mismatches = checks[~checks["match"].astype(bool)]
display(Markdown(f"{len(checks) - len(mismatches)} of {len(checks)} checks match."))
if len(mismatches):
    display(styled_table(mismatches))

# %% [markdown]
# **Out-of-time design.** Development rows (outcome windows closed by the cut, both classes
# alike), validation rows (after the cut) and the rows the registered model was refitted on,
# with positive rows and distinct customers among them: rows of one customer are not
# independent events.

# %%
display(styled_table(stack_tables({name: design_table(d) for name, d in oot.items()})))

# %% [markdown]
# **Rolling origins.** The GBM and the scorecard at each origin inside development (fitted
# only on rows whose windows closed by the origin, tested on the next block) and at the
# validation cut. The GBM is kept only when its gain is significant (`why`, section 6).

# %%
display(styled_table(stack_tables({name: rolling_origins(d) for name, d in oot.items()})))

# %% [markdown]
# ## 2. Out-of-time discrimination
#
# AUC, Gini (2 AUC − 1) and KS of every target, with 95 % percentile bootstrap intervals
# (whole customers resampled: a customer's rows move together). `logged` is the value the training run recorded
# for the same rows. Targets with fewer than 30 events are flagged *indicative*: with so
# few events the interval understates the uncertainty, since the same few events are
# resampled among themselves.

# %%
discrimination = {name: discrimination_by_target(d, n_bootstrap) for name, d in oot.items()}
display(styled_table(stack_tables(discrimination)))
figures.roc_figure(oot, discrimination)

# %% [markdown]
# ## 3. Calibration
#
# For the PD models, expected (mean `pd_12m`) against observed defaults in each grade of the
# policy's master scale, with an exact binomial test per grade and for the whole slice
# (α = 5 %). The test assumes independent defaults; with default correlation it rejects
# too often, so read a single rejection in a sparse grade with care. For the late-payment
# model, predicted against observed rates by decile of the prediction.

# %%
display(styled_table(stack_tables({name: calibration_measures(d) for name, d in oot.items()})))
pd_models = [name for name in ("default", "onboarding") if name in oot]
calibration = {name: calibration_by_grade(oot[name], policy.grade) for name in pd_models}
for name, table in calibration.items():
    display(Markdown(f"**{name}** — expected against observed by grade"))
    display(styled_table(table))
if calibration:
    display(figures.grade_calibration_figure(calibration))
if "late_payment" in oot:
    display(figures.reliability_figure(oot["late_payment"]))

# %% [markdown]
# ## 4. Stability
#
# Population stability index of the score and characteristic stability of the top features
# (by mean absolute SHAP contribution) between the development rows and the validation
# rows; for the default model also against the performing portfolio at the
# ledger's end (customers already in default left out, as in development). Levels from
# the credit policy: warning at PSI ≥ `drift.psi_warning`, severe at ≥ `drift.psi_severe`.

# %%
contributions = {name: explain_rows(d) for name, d in oot.items()}
top = {name: c.top(n_top_features) for name, c in contributions.items()}
drift = {
    name: drift_report(
        d.frame("development"), d.frame("validation"), policy.drift, [d.spec.targets[0].output, *top[name]]
    )
    for name, d in oot.items()
}
as_of = ledger.data_end
bundle = ModelBundle.from_registry(tracking_uri, policy=policy)
portfolio = None
if "default" in oot:
    previous = score_customers(bundle, ledger, add_months(as_of, -1)).scores
    portfolio = score_customers(bundle, ledger, as_of, previous=previous)
    drift["default (portfolio at ledger end)"] = drift_report(
        oot["default"].frame("development"), performing_scores(portfolio), policy.drift, ["pd_12m", *top["default"]]
    )
display(Markdown(f"Thresholds: warning {policy.drift.psi_warning}, severe {policy.drift.psi_severe}."))
display(styled_table(stack_tables(drift, key="comparison")))
figures.psi_figure(drift, policy.drift)

# %% [markdown]
# ## 5. Explanations
#
# SHAP contributions (TreeSHAP for a GBM, the linear WoE terms for a scorecard) to the
# raw score of out-of-time rows: the summary ranks the features, each dot a row coloured
# by the feature's value rank; the dependence plots show how the contribution moves with
# the value (black line: median by value decile). Monotone constraints of the GBM show as
# one-directional trends.

# %%
for name, c in contributions.items():
    display(Markdown(f"**{name}** ({oot[name].run.model.kind}, `{c.output}`)"))
    display(Image(figures.contribution_summary_png(c, oot[name])))
    display(figures.dependence_figure(c, top[name][:4]))

# %% [markdown]
# ## 6. Benchmark against the logistic scorecard
#
# Training fitted a transparent baseline — logistic regression on quantile-binned,
# WoE-encoded features — beside the GBM, compared both on rolling origins inside the
# development period and kept the GBM only when its gain was significant (`why`). The
# out-of-time AUC and Brier score of both, as the run logged them on the same rows:

# %%
display(styled_table(stack_tables({name: benchmark_table(d) for name, d in oot.items()})))

# %% [markdown]
# **Late payment on invoices open later.** The late-payment model is one payment-timing
# distribution; besides its AUC at issue against a scorecard and the customer's own past late
# rate (above), its validation model scored the invoices open at each month end after the
# validation cut as of that date: mean P(> k) against the observed share by days past due, the
# share of payments inside the 80 % interval, the error of the expected (median) date, and two
# counts that must be zero (P(> k) below 1 for an invoice already more than k days late, a date
# before the month end).

# %%
if "late_payment" in oot:
    late_run = oot["late_payment"].run
    opened = open_invoice_calibration(oot["late_payment"])
    measures = {k.removeprefix("oot."): v for k, v in late_run.metrics.items() if k.startswith("oot.open_")}
    display(pd.Series(measures, name="late payment, open invoices").to_frame())
    if len(opened):
        display(styled_table(opened))
        display(figures.open_invoice_figure(opened))

# %% [markdown]
# ## 7. Grades: distribution and migration
#
# Grades on the policy's master scale. The distribution compares the development sample,
# the out-of-time slice and the portfolio at the ledger's end; the migration matrix grades
# the customers with the champion at the start and at the end of the window
# (`new`: not graded at the start; `not scored`: no longer active at the end).

# %%
if portfolio is not None:
    default = oot["default"]
    distribution = grade_distribution(
        {
            "development": policy.grade(default.frame("development")["pd_12m"].to_numpy()),
            "out of time": policy.grade(default.frame("validation")["pd_12m"].to_numpy()),
            f"portfolio {as_of}": portfolio.scores["grade"].to_numpy(),
        }
    )
    display(distribution.T)
    display(figures.grade_distribution_figure(distribution, "default model: share of customers by grade"))
    coverage = grade_coverage(default)
    if len(coverage):
        display(
            Markdown(
                f"**Grade coverage** at the training table's latest date (registered model): "
                f"{int((coverage['customers'] > 0).sum())} of {len(coverage)} grades hold customers."
            )
        )
        display(coverage.set_index("grade").T)
    start = score_customers(bundle, ledger, add_months(as_of, -migration_months))
    matrix = migration_matrix(start.scores, portfolio.scores)
    display(
        Markdown(
            f"**Migration {start.as_of} → {as_of}**: stable, improved and worsened as shares of the customers "
            "graded at both dates, mean move in notches, not graded as a share of those graded at the start."
        )
    )
    display(styled_table(pd.DataFrame([migration_summary(matrix)])))
    display(figures.migration_figure(matrix, f"grade migration {start.as_of} to {as_of}"))

# %% [markdown]
# ## 8. Credit policy on the portfolio
#
# The portfolio scored at the ledger's end through the same path as the service and batch
# rescoring (`score_customers`), with last month's scores as the previous ones: the limits
# the policy recommends, the exposure by grade, and the early-warning alerts it raises.

# %%
if portfolio is not None:
    exposure = exposure_by_grade(portfolio)
    display(styled_table(exposure))
    display(figures.exposure_figure(exposure))
    display(Markdown("**Recommended limits by the rule that set them**"))
    display(styled_table(limit_actions(portfolio)))
    display(Markdown("**Alerts raised**"))
    display(styled_table(alert_summary(portfolio)))

# %% [markdown]
# ## 9. Cash-in forecast
#
# Expected collections by week from the open invoices' payment-timing distributions
# (`riskmodel forecast`, `POST /cash_forecast`), backtested out of time: the late-payment run's
# validation model, fitted on what was known at its cut, forecasts at each month end from the
# cut on whose weeks all lie within the ledger, and each week is compared with the cash actually
# collected on the invoices open that day (their payments). Two baselines forecast the same
# invoices: every invoice paid on its due date, and on its due date plus the customer's average
# delay so far (both: a date already past counts in week 1). MAPE is the mean over forecast
# dates and weeks of |forecast − collected| / collected for the portfolio totals; `total_mape`
# compares each date's sum over the weeks. The 80 % band assumes independent invoices
# (normal approximation); its coverage is the share of weeks whose collections fell inside it.

# %%
if "late_payment" in runs:
    timing_model = runs["late_payment"].validation_model
    cash_dates = backtest_dates(
        timing_model.trained_as_of, ledger.data_end, ledger.data_end, cash_forecast_weeks
    )
    if cash_dates:
        cash = backtest_cash_forecast(timing_model, ledger, cash_dates, cash_forecast_weeks)
        display(
            Markdown(
                f"{len(cash_dates)} forecast dates, {cash_dates[0]} to {cash_dates[-1]} (validation model cut "
                f"{timing_model.trained_as_of}); {cash_forecast_weeks} weeks each. 80 % band coverage: "
                f"{cash.band_coverage:.1%} of the weeks."
            )
        )
        display(styled_table(cash.mape()))
        display(figures.cash_forecast_figure(cash))
    else:
        display(
            Markdown(f"No month end after the cut has {cash_forecast_weeks} weeks of collections in the ledger.")
        )

# %% [markdown]
# ## 10. Decisions against outcomes (backtest)
#
# `riskmodel backtest`: a default model trained only on what the ledger knew at the start,
# every month end to the end rescored with the alert memory monthly `rescore` runs keep, and
# each decision judged by the six months that followed it (defaults, invoices crossing 60 days
# past due). Recall counts defaults warned by a severe alert 30 days to 6 months ahead;
# exposure at default replays each defaulter's invoices under the limits in force month by
# month (a new invoice ships only within the headroom its month's limit left), so what was
# shipped before the first decision (`ead_committed`) stays whatever the limits say;
# `ead_max_reduction` is the most any limits could save. Definitions: README, "Backtest".

# %%
window = (
    (pd.Timestamp(backtest_start).date(), pd.Timestamp(backtest_end).date())
    if backtest_start and backtest_end
    else report_window(ledger.data_end)
)
try:
    check_outcomes_known(ledger, window[1])
except BacktestError as error:
    backtest = None
    display(Markdown(f"No backtest: {error}"))
else:
    backtest = run_backtest(
        ledger,
        *window,
        policy=policy,
        config=load_train_config(backtest_config_file) if backtest_config_file else backtest_config(),
    )
    display(
        Markdown(
            f"Trained at {window[0]}, scored at {backtest.summary['months']} month ends to {window[1]}; "
            f"model {backtest.summary['model_version']} ({backtest.summary['basis']}), policy "
            f"{backtest.summary['policy_version']}."
        )
    )
    display(styled_table(headline_table(backtest.summary)))
    display(alerts_figure(backtest.monthly))
    display(limits_figure(backtest.monthly))
    display(lead_time_figure(backtest.defaults))
    display(Markdown("**Each default of the backtest**"))
    display(styled_table(backtest.defaults))

# %% [markdown]
# ## 11. Summary for sign-off
#
# One line per champion. A validator signs off when the out-of-time AUC interval clears
# the bar agreed for the model, the whole-slice calibration test is in line, no score or
# top feature drifts beyond the severe level, and the measures are not indicative only.

# %%
styled_table(signoff_summary(oot, discrimination, calibration, drift))
