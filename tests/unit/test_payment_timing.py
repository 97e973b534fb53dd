"""The payment-timing distribution: one curve per invoice, conditional on what is known at a date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.models.config import GBMParams
from riskmodel.models.specs import LATE_PAYMENT
from riskmodel.models.timing import (
    BAND_EDGES,
    HORIZON_DAYS,
    N_BANDS,
    InvoiceTimeline,
    PaymentTiming,
    band_of,
    distribution,
    person_periods,
    timeline_from_table,
)

THRESHOLDS = (0, 30, 60, 90)


def _timeline(paid_day, observed_until, earliest=-30.0, dispute_day=np.nan) -> InvoiceTimeline:
    n = len(paid_day)
    empty = np.empty(n, dtype=object)
    empty[:] = [np.array([])] * n
    return InvoiceTimeline(
        earliest=np.full(n, earliest),
        paid_day=np.asarray(paid_day, dtype=float),
        observed_until=np.asarray(observed_until, dtype=float),
        dispute_day=np.full(n, dispute_day),
        payment_days=empty,
        payment_shares=empty.copy(),
    )


def test_a_paid_invoice_adds_every_band_up_to_its_payment_and_a_payment_there():
    rows, band, event = person_periods(_timeline([10.0], [400.0]))
    assert band.tolist() == list(range(band_of(np.array([-30.0]))[0], band_of(np.array([10.0]))[0] + 1))
    assert event.tolist() == [0.0] * (len(band) - 1) + [1.0]


def test_a_censored_invoice_is_used_unpaid_through_its_last_fully_seen_band():
    """Open at the observation end 50 days past due: unpaid through (30, 45], the band cut at 50 left out."""
    rows, band, event = person_periods(_timeline([np.nan], [50.0]))
    assert len(rows) > 0 and event.sum() == 0
    assert BAND_EDGES[band.max()] == 45


def test_a_payment_in_a_band_cut_by_the_observation_end_is_left_out_with_the_band():
    _, band, event = person_periods(_timeline([47.0], [50.0]))
    assert event.sum() == 0 and BAND_EDGES[band.max()] == 45


@settings(max_examples=60, deadline=None)
@given(
    hazards=st.lists(st.floats(0.0, 1.0), min_size=N_BANDS, max_size=N_BANDS),
    terms=st.integers(0, 120),
    after=st.integers(-120, 800),
)
def test_probabilities_never_rise_with_the_threshold_and_dates_follow_as_of(hazards, terms, after):
    dist = distribution(np.array([hazards]), np.array([-float(terms)]))
    after = max(after, -terms - 1)
    p = np.array([dist.at(np.array([float(k)]))[0] for k in range(-terms, 800)])
    assert np.all(np.diff(p) <= 1e-12) and p.min() >= 0 and p.max() <= 1
    for q in (0.1, 0.5, 0.9):
        assert dist.quantile_days(q, np.array([float(after)]))[0] > after
    p10, p50, p90 = (dist.quantile_days(q, np.array([float(after)]))[0] for q in (0.1, 0.5, 0.9))
    assert p10 <= p50 <= p90
    low, median, high = (d[0] for d in dist.interval_days(np.array([float(after)])))
    assert after < low <= median <= high and median == p50


def test_the_interval_days_leave_about_ten_percent_on_each_side():
    """Payment before the interval's first day and after its last each has about 10 % probability.

    Payments spread evenly over the seven days of one band: each end is off by at most
    half a day's mass (1/14), the coverage by at most a day's; taking the whole days the
    10 % and 90 % points fall in would give all seven days, 100 %.
    """
    hazards = np.zeros((1, N_BANDS))
    band = int(band_of(np.array([14.0]))[0])  # days 8..14
    hazards[0, band] = 1.0
    dist = distribution(hazards, np.array([-30.0]))
    low, _, high = (d[0] for d in dist.interval_days(np.array([-31.0])))
    before = 1 - dist.at(np.array([low - 1]))[0]
    after = dist.at(np.array([high]))[0]
    assert before == pytest.approx(0.1, abs=0.5 / 7) and after == pytest.approx(0.1, abs=0.5 / 7)
    assert 1 - before - after == pytest.approx(0.8, abs=1 / 7)
    whole = dist.quantile_days(0.1, np.array([-31.0]))[0], dist.quantile_days(0.9, np.array([-31.0]))[0]
    assert dist.at(np.array([whole[0] - 1]))[0] - dist.at(np.array([whole[1]]))[0] == pytest.approx(1.0)


@pytest.fixture(scope="module")
def fitted() -> tuple[PaymentTiming, np.ndarray]:
    """Invoices whose first feature delays payment; some still open at the observation end."""
    rng = np.random.default_rng(0)
    n = 3000
    x = rng.normal(size=(n, 2))
    delay = rng.exponential(8 + 20 * (x[:, 0] > 0), n) - 10
    observed = rng.uniform(0, 200, n)
    paid = np.where(delay <= observed, np.round(delay), np.nan)
    timing = PaymentTiming(GBMParams(n_estimators=40, min_child_samples=20), (1, 0)).fit(
        x, _timeline(paid, observed)
    )
    return timing, x


class _Columns:
    """A preparer that passes the two test features through."""

    feature_names_ = ["a", "b"]

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[["a", "b"]].to_numpy()


@pytest.fixture(scope="module")
def late_model(fitted):
    """The fitted timing model as a :class:`LatePaymentModel` reading columns ``a`` and ``b``."""
    from riskmodel.models.pipeline import LatePaymentModel

    timing, x = fitted
    return LatePaymentModel("late_payment", _Columns(), timing, LATE_PAYMENT.targets, None, None), x


def test_the_fitted_model_orders_invoices_by_their_delay_driver(fitted):
    timing, x = fitted
    dist = distribution(timing.hazards(x[:500], np.full(500, -30.0)), np.full(500, -30.0))
    p_late = dist.at(np.zeros(500))
    assert p_late[x[:500, 0] > 0].mean() > p_late[x[:500, 0] <= 0].mean() + 0.1


def test_a_customers_habit_narrows_the_interval_and_its_band_columns_explain_as_the_habit():
    """Customers paying on their own habitual day: placing each band against the habit gives narrower intervals.

    The band-relative column's contributions go to the habit feature, so the features'
    contributions and the base still add up to the band's log-odds.
    """
    rng = np.random.default_rng(1)
    n = 4000
    habit = rng.choice([-10.0, 0.0, 10.0, 25.0], n)
    x = np.column_stack([habit + rng.normal(0, 1, n), rng.normal(size=n)])
    paid = np.round(habit + rng.normal(0, 2, n))
    timeline = _timeline(paid, np.full(n, 400.0))
    params = GBMParams(n_estimators=60, min_child_samples=20)
    plain = PaymentTiming(params).fit(x, timeline)
    placed = PaymentTiming(params, typical_delay=(0,)).fit(x, timeline)
    earliest = np.full(n, -30.0)

    def width(model: PaymentTiming) -> float:
        low, _, high = distribution(model.hazards(x, earliest), earliest).interval_days(earliest - 1)
        return float(np.median(high - low))

    assert width(placed) < width(plain)
    band = int(band_of(np.array([0.0]))[0])
    values, base = placed.band_contributions(x[:200], band, earliest[:200])
    hazard = placed.hazards(x[:200], earliest[:200])[:, band]
    np.testing.assert_allclose(values.sum(axis=1) + base, np.log((1 - hazard) / hazard), atol=1e-8)
    assert values.shape == (200, 2) and np.abs(values[:, 0]).mean() > np.abs(values[:, 1]).mean()
    assert placed.importance().shape == (2,)


def test_an_invoice_already_d_days_late_has_p_one_below_d_and_dates_after_as_of(late_model):
    model, x = late_model
    frame = pd.DataFrame({"a": x[:200, 0], "b": x[:200, 1], "invoice_terms_days": 30})
    days = np.tile([-5.0, 0.0, 31.0, 65.0, 100.0], 40)
    out = model.predict_timing(frame, days, np.zeros(200), np.zeros(200))
    for t in LATE_PAYMENT.targets:
        late = days >= t.threshold_days  # unpaid at the end of day d: paid after d
        assert (out.loc[late, t.output] == 1.0).all()
        assert ((out.loc[~late, t.output] > 0) & (out.loc[~late, t.output] < 1)).all()
    columns = [t.output for t in LATE_PAYMENT.targets]
    assert (np.diff(out[columns].to_numpy(), axis=1) <= 1e-12).all()
    for column in ("days_beyond_terms_p10", "expected_days_beyond_terms", "days_beyond_terms_p90"):
        assert (out[column] > days).all()
    at_issue = model.predict_proba(frame)
    assert (at_issue["p_late_90"] < out["p_late_90"]).all()  # surviving unpaid raises the odds of the tail


def test_the_timeline_counts_only_what_happened_by_the_observation_end():
    table = pd.DataFrame(
        {
            "due_date": pd.to_datetime(["2024-01-31", "2024-01-31"]),
            "invoice_terms_days": [30, 30],
            "settled_date": pd.to_datetime(["2024-03-01", None]),
            "dispute_date": pd.to_datetime([None, "2024-02-20"]),
            "partial_payment_dates": [[pd.Timestamp("2024-02-10")], []],
            "partial_payment_shares": [[0.4], []],
        }
    )
    early = timeline_from_table(table, pd.Timestamp("2024-02-15"))
    assert np.isnan(early.paid_day).all() and np.isnan(early.dispute_day).all()
    assert early.paid_share_at(np.array([0]), np.array([15.0]))[0] == pytest.approx(0.4)
    assert early.paid_share_at(np.array([0]), np.array([5.0]))[0] == 0.0
    late = timeline_from_table(table, pd.Timestamp("2024-12-31"))
    assert late.paid_day[0] == 30 and late.dispute_day[1] == 20
    assert HORIZON_DAYS == BAND_EDGES[-1]


@settings(max_examples=50, deadline=None)
@given(
    payments=st.lists(
        st.lists(st.tuples(st.integers(-60, 400), st.floats(0.01, 0.99)), max_size=4), min_size=1, max_size=8
    ),
    queries=st.lists(st.tuples(st.integers(0, 7), st.integers(-100, 500)), min_size=1, max_size=20),
)
def test_the_share_paid_by_a_day_is_the_last_part_payment_on_or_before_it(payments, queries):
    """Each invoice's cumulative share of its latest part payment on or before the day, 0 before the first."""
    days = [np.array(sorted(d for d, _ in p), dtype=float) for p in payments]
    shares = [np.sort(np.array([v for _, v in p], dtype=float)) for p in payments]
    timeline = _timeline(np.full(len(payments), np.nan), np.full(len(payments), 500.0))
    for i, (d, v) in enumerate(zip(days, shares, strict=True)):
        timeline.payment_days[i], timeline.payment_shares[i] = d, v
    rows = np.array([r % len(payments) for r, _ in queries])
    on = np.array([float(d) for _, d in queries])
    expected = [
        shares[r][days[r] <= d][-1] if (days[r] <= d).any() else 0.0 for r, d in zip(rows, on, strict=True)
    ]
    np.testing.assert_array_equal(timeline.paid_share_at(rows, on), expected)


def test_unpaid_after_matches_the_threshold_probabilities_and_sums_to_the_open_amount(late_model):
    model, x = late_model
    frame = pd.DataFrame({"a": x[:50, 0], "b": x[:50, 1], "invoice_terms_days": 30})
    days = np.tile([-10.0, 5.0, 40.0, 70.0, 95.0], 10)
    status = (days, np.zeros(50), np.zeros(50))
    unpaid = model.unpaid_after(frame, np.array([0.0, 30.0, 60.0, 90.0, HORIZON_DAYS]), *status)
    expected = model.predict_timing(frame, *status)[["p_late", "p_late_30", "p_late_60", "p_late_90"]]
    np.testing.assert_allclose(unpaid[:, :4], expected.to_numpy(), atol=1e-12)
    weekly = -np.diff(model.unpaid_after(frame, np.arange(-30.0, HORIZON_DAYS + 7, 7.0), *status), axis=1)
    assert (weekly >= -1e-12).all() and np.allclose(weekly.sum(axis=1) + unpaid[:, -1], 1.0)


def _stage_invoices(level_error: float, n: int = 4000, seed: int = 3):
    """Invoices of one five-band stage whose true cumulative hazards are ``exp(level_error)`` times the model's."""
    rng = np.random.default_rng(seed)
    bands = np.arange(5)
    reference = np.log(np.array([0.05, 0.08, 0.1, 0.08, 0.05]))
    spread = rng.normal(scale=1.0, size=n)  # the invoice's own risk, shared by its bands
    invoice = np.repeat(np.arange(n), len(bands))
    band = np.tile(bands, n)
    q_model = reference[band] + spread[invoice]
    stage_hazard = np.bincount(invoice, weights=np.exp(q_model + level_error))
    paid = (rng.uniform(size=n) < -np.expm1(-stage_hazard)).astype(float)
    raw = np.log(np.expm1(np.exp(q_model)))  # log-odds of the band hazard with that log cumulative hazard
    return raw, invoice, paid


@pytest.mark.parametrize("level_error", [-0.5, 0.0, 0.4])
def test_a_stage_calibration_recovers_the_level_of_an_invoices_hazards_and_keeps_their_order(level_error):
    """Fitted on whole invoices' outcomes in the stage, the intercept moves P(paid within it) to what was observed."""
    from riskmodel.models.timing import StageCalibration

    raw, invoice, paid = _stage_invoices(level_error)
    calibration = StageCalibration.fit(raw, invoice, paid)
    assert calibration.intercept == pytest.approx(level_error, abs=0.1)
    rescaled = calibration.apply(raw)
    stage_hazard = np.bincount(invoice, weights=np.log1p(np.exp(rescaled)))
    assert np.mean(-np.expm1(-stage_hazard)) == pytest.approx(paid.mean(), abs=0.01)
    assert (np.diff(rescaled[np.argsort(raw)]) >= -1e-9).all()  # the order within the stage is kept
    np.testing.assert_allclose(StageCalibration().apply(raw), raw)  # no calibration: unchanged


def test_a_timeline_seen_earlier_holds_nothing_that_happened_after_that_day():
    """The calibration model learns from the earlier invoices as they were known before the calibration invoices."""
    from riskmodel.models.timing import InvoiceTimeline, person_periods

    timeline = InvoiceTimeline(
        earliest=np.array([-30.0, -30.0, -30.0]),
        paid_day=np.array([5.0, 50.0, np.nan]),
        observed_until=np.array([100.0, 100.0, 100.0]),
        dispute_day=np.array([np.nan, 20.0, 45.0]),
        payment_days=np.array([np.array([]), np.array([10.0, 35.0]), np.array([])], dtype=object),
        payment_shares=np.array([np.array([]), np.array([0.2, 0.5]), np.array([])], dtype=object),
    )
    seen = timeline.seen_earlier(70.0)  # 30 days beyond terms
    np.testing.assert_array_equal(seen.observed_until, [30.0, 30.0, 30.0])
    np.testing.assert_array_equal(seen.paid_day, [5.0, np.nan, np.nan])
    np.testing.assert_array_equal(seen.dispute_day, [np.nan, 20.0, np.nan])
    np.testing.assert_array_equal(seen.payment_days[1], [10.0])
    rows, band, event = person_periods(seen)
    assert event[rows == 1].sum() == 0  # paid on day 50: not seen yet
    assert (BAND_EDGES[band] <= 30.0).all()  # no band ends after the day it was seen
