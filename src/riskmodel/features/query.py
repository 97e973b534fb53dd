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


def _history_sql(level: Level) -> str:
    invoice_amount = ", s.invoice_amount" if level == "invoice" else ""
    return f"""
paid AS (
    SELECT s.{SNAPSHOT_KEY}, p.invoice_id,
           sum(p.amount) AS paid,
           count(*) AS n_payments,
           min({_days("p.payment_date", "s.as_of")}) AS days_since_last_payment,
           sum(CASE WHEN {_days("p.payment_date", "s.as_of")} >= 90 THEN p.amount ELSE 0 END) AS paid_prev_90d
    FROM snapshots s
    JOIN payments p ON p.customer_id = s.customer_id AND p.payment_date <= s.as_of
    GROUP BY s.{SNAPSHOT_KEY}, p.invoice_id
),
known AS (
    SELECT s.{SNAPSHOT_KEY}, i.invoice_id, i.amount{invoice_amount},
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
           coalesce(pd.paid, 0) AS paid,
           coalesce(pd.n_payments, 0) AS n_payments,
           pd.days_since_last_payment,
           coalesce(pd.paid_prev_90d, 0) AS paid_prev_90d
    FROM snapshots s
    JOIN invoices i ON i.customer_id = s.customer_id AND i.issue_date <= s.as_of
    LEFT JOIN paid pd ON pd.{SNAPSHOT_KEY} = s.{SNAPSHOT_KEY} AND pd.invoice_id = i.invoice_id
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
    recent_aggs = ",\n           ".join(f"{f.sql} AS {f.name}" for f in by_stage["recent"])
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
WITH {inline}{_history_sql(level)},
aggregated AS (
    SELECT {SNAPSHOT_KEY},
           {history_aggs}
    FROM history GROUP BY {SNAPSHOT_KEY}
),
recent AS (
    SELECT {SNAPSHOT_KEY},
           {recent_aggs}
    FROM (SELECT {SNAPSHOT_KEY}, days_beyond_terms,
                 row_number() OVER (PARTITION BY {SNAPSHOT_KEY} ORDER BY settled_date DESC, invoice_id DESC) AS recency_rank
          FROM history WHERE is_settled) ranked
    WHERE recency_rank <= {config.last_n}
    GROUP BY {SNAPSHOT_KEY}
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
