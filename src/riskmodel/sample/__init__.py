"""Synthetic B2B accounts-receivable ledger: customers, invoices, payments, credit events and history.

The generator simulates a trade-credit book month by month, vectorised over customers with
numpy: customers arrive and churn, a latent financial health per customer drifts (with
industry downturns), invoices are issued in proportion to size and season, and each invoice is
paid according to the customer's habit and current health, disputed, paid in parts, or left
unpaid when the customer defaults (then written off or recovered, with credit events). See
``docs/sample-data.md`` for the model and the rates it produces.

:func:`make_sample_tables` returns the raw tables; write them with
:func:`riskmodel.ledger.write_tables` and read them back with :func:`riskmodel.ledger.load_ledger`
like any other ledger. :func:`measure_sample_rates` gives the headline rates of a ledger.
"""

from riskmodel.sample.generate import SAMPLE_MONTHS, SAMPLE_START, make_sample_tables
from riskmodel.sample.stats import measure_sample_rates, observed_default_dates

__all__ = [
    "SAMPLE_MONTHS",
    "SAMPLE_START",
    "make_sample_tables",
    "measure_sample_rates",
    "observed_default_dates",
]
