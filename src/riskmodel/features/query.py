"""Compile the feature registry into one SQL query over a table of snapshots.

A *snapshot* is a (customer, ``as_of``) pair, plus the invoice's own fields for the
invoice level. The query sees only what was known at the end of ``as_of``: invoices
issued, payments made, settlements, disputes, write-offs and events on or before it,
and the customer facts of the latest ``customer_history`` rows dated on or before it
(the customers row's values where no such row gives a fact).
The SQL is written once, in DuckDB's dialect, using only constructs that
:func:`to_dialect` can translate for Spark.
"""

from __future__ import annotations

import re

import sqlglot

from riskmodel.features.definitions import Feature, FeatureConfig, Level, features_for
from riskmodel.ledger.schema import DATED_FIELDS

SNAPSHOT_KEY = "snapshot_id"
PAID_BEFORE_DAYS = 90  # open_balance_prev_90d reads what was paid this many days before as_of
PAYMENTS_READ_DAYS = (
    365  # share_paid_in_instalments_365d counts the payments of invoices settled this recently
)
INVOICE_SNAPSHOT_COLUMNS = ("invoice_amount", "invoice_terms_days", "invoice_issue_month")
CUSTOMER_COLUMNS = (
    "credit_limit",
    "payment_terms_days",
    "annual_revenue",
    "years_in_business",
    "employees",
    "registered_capital",
    "bureau_score",
    "industry",
    "country",
)


def _days(start: str, end: str) -> str:
    return f"date_diff('day', {start}, {end})"


def _recent_sql(recent: list[Feature], last_n: int) -> str:
    """Each settled invoice's statistics over its customer's last ``last_n`` settlements up to and including it.

    A snapshot's ``recent`` features are those of the latest invoice settled by its
    ``as_of`` (``settlement_seq`` orders settlements by date, then invoice id), so they are
    computed once per invoice instead of once per snapshot and invoice.
    """
    window = (
        "OVER (PARTITION BY customer_id ORDER BY settled_date, invoice_id "
        f"ROWS BETWEEN {last_n - 1} PRECEDING AND CURRENT ROW)"
    )
    stats = "".join(f",\n           {f.sql} {window} AS {f.name}" for f in recent)
    return f"""
settled_runs AS (
    SELECT invoice_id,
           row_number() OVER (PARTITION BY customer_id ORDER BY settled_date, invoice_id) AS settlement_seq{stats}
    FROM (SELECT invoice_id, customer_id, settled_date, {_days("due_date", "settled_date")} AS days_beyond_terms, amount
          FROM invoices WHERE settled_date IS NOT NULL) settled
),"""


def _history_sql(level: Level) -> str:
    invoice_amount = ", s.invoice_amount" if level == "invoice" else ""
    return f"""
status AS (
    SELECT s.{SNAPSHOT_KEY}, s.as_of, i.invoice_id, i.amount{invoice_amount},
           CASE WHEN i.settled_date <= s.as_of THEN i.settled_date END AS settled_date,
           coalesce(i.settled_date <= s.as_of, false) AS is_settled,
           coalesce(i.written_off_date <= s.as_of, false) AS is_written_off,
           coalesce(i.dispute_date <= s.as_of, false) AS is_disputed,
           {_days("i.due_date", "s.as_of")} AS days_past_due,
           {_days("i.issue_date", "s.as_of")} AS days_since_issue,
           CASE WHEN i.settled_date <= s.as_of THEN {_days("i.settled_date", "s.as_of")} END AS days_since_settled,
           CASE WHEN i.settled_date <= s.as_of THEN {_days("i.due_date", "i.settled_date")} END AS days_beyond_terms,
           CASE WHEN i.written_off_date <= s.as_of THEN {_days("i.written_off_date", "s.as_of")} END AS days_since_written_off,
           CASE WHEN i.dispute_date <= s.as_of THEN {_days("i.dispute_date", "s.as_of")} END AS days_since_dispute,
           CASE WHEN i.settled_date <= s.as_of THEN r.settlement_seq END AS settlement_seq
    FROM snapshots s
    JOIN invoices i ON i.customer_id = s.customer_id AND i.issue_date <= s.as_of
    LEFT JOIN settled_runs r ON r.invoice_id = i.invoice_id
),
-- Payments per (snapshot, invoice) only where a feature reads them: invoices open at as_of or
-- {PAID_BEFORE_DAYS} days before, and invoices settled within the last {PAYMENTS_READ_DAYS} days (elsewhere 0).
paid AS (
    SELECT k.{SNAPSHOT_KEY}, k.invoice_id,
           sum(p.amount) AS paid,
           count(*) AS n_payments,
           sum(CASE WHEN {_days("p.payment_date", "k.as_of")} >= {PAID_BEFORE_DAYS} THEN p.amount ELSE 0 END) AS paid_prev_90d
    FROM status k
    JOIN payments p ON p.invoice_id = k.invoice_id AND p.payment_date <= k.as_of
    WHERE (NOT k.is_settled AND NOT k.is_written_off)
       OR (k.days_since_issue >= {PAID_BEFORE_DAYS} AND NOT coalesce(k.days_since_settled >= {PAID_BEFORE_DAYS}, false)
           AND NOT coalesce(k.days_since_written_off >= {PAID_BEFORE_DAYS}, false))
       OR (k.is_settled AND k.days_since_settled < {PAYMENTS_READ_DAYS})
    GROUP BY k.{SNAPSHOT_KEY}, k.invoice_id
),
last_payment AS (
    SELECT s.{SNAPSHOT_KEY}, min({_days("p.payment_date", "s.as_of")}) AS days_since_last_payment
    FROM snapshots s
    JOIN payments p ON p.customer_id = s.customer_id AND p.payment_date <= s.as_of
    GROUP BY s.{SNAPSHOT_KEY}
),
known AS (
    SELECT k.*,
           coalesce(pd.paid, 0) AS paid,
           coalesce(pd.n_payments, 0) AS n_payments,
           lp.days_since_last_payment,
           coalesce(pd.paid_prev_90d, 0) AS paid_prev_90d
    FROM status k
    LEFT JOIN paid pd ON pd.{SNAPSHOT_KEY} = k.{SNAPSHOT_KEY} AND pd.invoice_id = k.invoice_id
    LEFT JOIN last_payment lp ON lp.{SNAPSHOT_KEY} = k.{SNAPSHOT_KEY}
),
history AS (
    SELECT *,
           NOT is_settled AND NOT is_written_off AS is_open,
           CASE WHEN NOT is_settled AND NOT is_written_off THEN GREATEST(amount - paid, 0) ELSE 0 END AS open_amount
    FROM known
)"""


def _facts_sql() -> str:
    """Each dated customer fact as of the snapshot: the last value given on or before ``as_of``.

    A ``customer_history`` row holds the values valid from its ``date`` on; a field left
    empty in a row is not given there, so the last row that gives it still holds.
    Duplicate ``(customer_id, date)`` rows never reach here (the ledger rejects them).
    """
    latest = ",\n           ".join(
        f"arg_max(h.{c}, h.date) FILTER (WHERE h.{c} IS NOT NULL) AS {c}" for c in DATED_FIELDS
    )
    return f"""
facts AS (
    SELECT s.{SNAPSHOT_KEY},
           {latest}
    FROM snapshots s
    JOIN customer_history h ON h.customer_id = s.customer_id AND h.date <= s.as_of
    GROUP BY s.{SNAPSHOT_KEY}
)"""


def _customer_column(column: str) -> str:
    """A customer column; a dated fact falls back to the customers row (its value at onboarding)."""
    if column in DATED_FIELDS:
        return f"coalesce(f.{column}, c.{column}) AS {column}"
    return f"c.{column}"


def _carry(feature: Feature, alias: str) -> str:
    """A stage's feature brought into the joined row; sums and counts over no history are 0."""
    column = f"{alias}.{feature.name}"
    if feature.sql.startswith(("sum(", "count(")):
        column = f"coalesce({column}, 0)"
    return f"{column} AS {feature.name}"


def _output(feature: Feature, expression: str) -> str:
    """The final column: counts as BIGINT, categories as text, everything else DOUBLE."""
    if feature.categorical:
        return f"CAST({expression} AS VARCHAR) AS {feature.name}"
    kind = "BIGINT" if feature.unit == "count" else "DOUBLE"
    return f"CAST({expression} AS {kind}) AS {feature.name}"


def _inline_derived(features: tuple[Feature, ...]) -> dict[str, str]:
    """Derived expressions with references to earlier derived features inlined (Spark has no lateral aliases)."""
    resolved: dict[str, str] = {}
    for feature in features:
        if feature.stage != "derived":
            continue
        expression = feature.sql
        for name, earlier in resolved.items():
            if name != expression:
                expression = re.sub(rf"\b{name}\b", f"({earlier})", expression)
        resolved[feature.name] = expression
    return resolved


def build_feature_sql(
    level: Level, config: FeatureConfig | None = None, snapshots_sql: str | None = None
) -> str:
    """The feature query for ``level`` over tables customers, invoices, payments, events,
    customer_history and snapshots.

    ``snapshots`` has ``snapshot_id, customer_id, as_of`` (and, for the invoice level,
    ``invoice_amount, invoice_terms_days, invoice_issue_month``). The result has one row
    per snapshot: ``snapshot_id, customer_id, as_of`` and the level's features.
    ``snapshots_sql``, when given, defines ``snapshots`` inline (e.g. one parameterised
    row for the online path) instead of reading a table of that name.
    """
    config = config or FeatureConfig()
    features = features_for(level, config)
    by_stage = {
        stage: [f for f in features if f.stage == stage]
        for stage in ("history", "recent", "events", "derived")
    }
    history_aggs = ",\n           ".join(f"{f.sql} AS {f.name}" for f in by_stage["history"])
    recent_aggs = ",\n           ".join(f"r.{f.name}" for f in by_stage["recent"])
    event_aggs = ",\n           ".join(f"{f.sql} AS {f.name}" for f in by_stage["events"])
    derived = _inline_derived(features)
    snapshot_extras = "".join(f", s.{c}" for c in INVOICE_SNAPSHOT_COLUMNS) if level == "invoice" else ""
    carried = [_carry(f, "a") for f in by_stage["history"]] + [_carry(f, "r") for f in by_stage["recent"]]
    carried += [_carry(f, "e") for f in by_stage["events"]]
    customer = ", ".join(_customer_column(c) for c in CUSTOMER_COLUMNS)
    outputs = [_output(f, derived.get(f.name, f.name)) for f in features]
    output_sql = ",\n       ".join(outputs)
    inline = f"snapshots AS ({snapshots_sql})," if snapshots_sql else ""
    return f"""
WITH {inline}{_recent_sql(by_stage["recent"], config.last_n)}{_history_sql(level)},
aggregated AS (
    SELECT {SNAPSHOT_KEY},
           {history_aggs}
    FROM history GROUP BY {SNAPSHOT_KEY}
),
recent AS (
    SELECT h.{SNAPSHOT_KEY},
           {recent_aggs}
    FROM (SELECT {SNAPSHOT_KEY}, arg_max(invoice_id, settlement_seq) AS invoice_id
          FROM history WHERE is_settled GROUP BY {SNAPSHOT_KEY}) h
    JOIN settled_runs r ON r.invoice_id = h.invoice_id
),
credit_events AS (
    SELECT s.{SNAPSHOT_KEY},
           {event_aggs}
    FROM snapshots s JOIN events ev ON ev.customer_id = s.customer_id AND ev.date <= s.as_of
    GROUP BY s.{SNAPSHOT_KEY}
),{_facts_sql()},
joined AS (
    SELECT s.{SNAPSHOT_KEY}, s.customer_id, s.as_of{snapshot_extras},
           {", ".join(carried)},
           {customer}, {_days("c.onboarding_date", "s.as_of")} AS tenure_days
    FROM snapshots s
    LEFT JOIN aggregated a ON a.{SNAPSHOT_KEY} = s.{SNAPSHOT_KEY}
    LEFT JOIN recent r ON r.{SNAPSHOT_KEY} = s.{SNAPSHOT_KEY}
    LEFT JOIN credit_events e ON e.{SNAPSHOT_KEY} = s.{SNAPSHOT_KEY}
    LEFT JOIN facts f ON f.{SNAPSHOT_KEY} = s.{SNAPSHOT_KEY}
    LEFT JOIN customers c ON c.customer_id = s.customer_id
)
SELECT {SNAPSHOT_KEY}, customer_id, as_of,
       {output_sql}
FROM joined
ORDER BY {SNAPSHOT_KEY}
"""


def to_dialect(sql: str, dialect: str) -> str:
    """Translate the DuckDB feature SQL for another engine (e.g. ``"spark"``)."""
    return sqlglot.transpile(sql, read="duckdb", write=dialect, pretty=True)[0]
