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
# # Exploring a ledger
#
# A guided look at an accounts-receivable ledger before any model is trained: how much is
# invoiced and paid, how the open balance ages, how late invoices are paid, how DSO moves,
# which segments default or pay late more often, and what the validation rejected. Every
# figure comes from the same feature, label and training-table code the models use.
#
# Set `ledger_dir` below to look at another ledger (a folder of CSV or Parquet files, or
# an SQLAlchemy URL).

# %% tags=["parameters"]
ledger_dir = "../data/sample"
horizon_months = 12  # default horizon of the 12-month default rate

# %%
# %matplotlib inline
from IPython.display import Markdown, display

from riskmodel.ledger import load_ledger
from riskmodel.validation import ledger_figures as figures
from riskmodel.validation.ledger_profile import (
    aging_profile,
    data_quality,
    days_beyond_terms,
    monthly_volumes,
    portfolio_trend,
    segment_rates,
)
from riskmodel.validation.report import styled_table

ledger = load_ledger(ledger_dir)
display(
    Markdown(
        f"Ledger `{ledger.source}`: data end {ledger.data_end}; settlement from "
        f"{'its payments table' if ledger.has_payments else 'invoices.settled_date'}."
    )
)

# %% [markdown]
# ## 1. Data quality
#
# Rows read, accepted and rejected per file (read = accepted + rejected always holds), and
# the rejected rows grouped by file and column with the first reason. Rejected rows are
# left out of everything below; `riskmodel validate` writes them to quarantine files.

# %%
counts, issues = data_quality(ledger.report)
display(styled_table(counts))
display(styled_table(issues) if len(issues) else Markdown("All rows accepted: nothing to quarantine."))

# %% [markdown]
# ## 2. Volumes over time
#
# Amount invoiced (by issue month) and paid (by payment month), and how many customers
# were invoiced each month; the table shows the last six months.

# %%
volumes = monthly_volumes(ledger)
display(styled_table(volumes.tail(6)))
figures.volumes_figure(volumes)

# %% [markdown]
# ## 3. Aging
#
# The open balance at the ledger's end in the collection buckets (current, 1-30, 31-60,
# 61-90, 90+ days past due) with the disputed part, and the overdue buckets' share of the
# open balance at every month end.

# %%
aging = aging_profile(ledger, ledger.data_end)
trend = portfolio_trend(ledger)
display(styled_table(aging))
figures.aging_figure(aging, trend)

# %% [markdown]
# ## 4. Days beyond terms
#
# Settlement date minus due date of every settled invoice: below zero paid early, above
# zero late. The dashed lines mark the late-payment model's thresholds (0, 30, 60, 90 days).

# %%
days = days_beyond_terms(ledger)
display(styled_table(days.describe(percentiles=[0.1, 0.25, 0.5, 0.75, 0.9, 0.99]).to_frame().T))
figures.days_beyond_terms_figure(days)

# %% [markdown]
# ## 5. DSO trend
#
# Days sales outstanding of the whole portfolio at each month end: open balance over the
# last 90 days' invoicing, times 90 (from the first month end with 90 days of invoicing).

# %%
display(styled_table(trend[["as_of", "customers", "open_balance", "dso"]].tail(6)))
figures.dso_figure(trend)

# %% [markdown]
# ## 6. Default and late payment by segment
#
# The 12-month default rate over the default model's customer-month snapshots, and the
# share of invoices paid late and 30+ days late, by industry, country and size band (EU
# SME bands of annual revenue: micro up to 2M, small up to 10M, medium up to 50M).
# Segments with few customers give noisy rates.

# %%
rates = segment_rates(ledger, horizon_months)
display(styled_table(rates))
figures.segment_figure(rates)
