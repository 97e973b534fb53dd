"""Payment timing as one distribution: a discrete-time hazard model of days beyond terms.

Days beyond terms ``D`` (settlement date minus due date) is cut into bands at
:data:`BAND_EDGES`; band ``b`` holds ``edges[b-1] < D <= edges[b]``. A LightGBM model
learns the hazard ``P(paid in band b | unpaid at its start)`` from invoice x band rows
(the invoice's features at issue, the band, and whether the invoice was disputed and how
much of it was paid when the band began). The survival ``S(x) = P(D > x)`` is the product
of ``1 - hazard`` over the bands up to ``x``, linear within a band, so

* ``P(D > k)`` for every threshold ``k`` comes from one curve and never rises with ``k``;
* as of a later date, an invoice unpaid and ``d`` days past due has
  ``P(D > k | D > d) = S(k) / S(d)`` (1 for ``k <= d``), with the hazards taken at the
  invoice's status on that date (disputed, share paid);
* payment-date quantiles come from the same conditional curve, after ``as_of``.

Invoices still open at the end of the data are censored observations: they add the bands
they have been seen unpaid through, with no payment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from riskmodel.models.config import GBMParams
from riskmodel.models.gbm import MonotoneGBM

BAND_EDGES = np.array(
    [-30, -14, -7, -3, 0, 3, 7, 14, 21, 30, 45, 60, 75, 90, 120, 150, 180, 270, 365, 730], dtype=float
)
"""Upper edges of the bands of days beyond terms; the last band ends at :data:`HORIZON_DAYS`."""
HORIZON_DAYS = int(BAND_EDGES[-1])  # an invoice not paid this long after its due date counts as never paid
N_BANDS = len(BAND_EDGES)
STATUS_COLUMNS = (
    "band",
    "disputed",
    "paid_share",
    "status_age",
)  # hazard inputs added to the invoice's features


@dataclass(frozen=True)
class InvoiceTimeline:
    """What is known about each invoice's payment up to an observation end, in days beyond terms.

    All arrays have one entry per invoice. ``earliest`` is ``-terms`` (the issue day),
    ``paid_day`` the settlement day (NaN while unpaid at the observation end, and for
    written-off invoices), ``observed_until`` the last day seen (observation end minus due
    date), ``dispute_day`` the day a dispute was raised (NaN if none), and ``payment_days``
    / ``payment_shares`` the partial payments before settlement (cumulative share of the
    amount) as one array per invoice.
    """

    earliest: np.ndarray
    paid_day: np.ndarray
    observed_until: np.ndarray
    dispute_day: np.ndarray
    payment_days: np.ndarray  # object array of float arrays
    payment_shares: np.ndarray

    def paid_share_at(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Share of each row's amount paid by the end of ``days`` (days beyond terms) before settlement."""
        rows, days = np.asarray(rows, dtype=int), np.asarray(days, dtype=float)
        lengths = np.fromiter(map(len, self.payment_days), dtype=int, count=len(self.payment_days))
        out = np.zeros(len(rows))
        if not lengths.sum():
            return out
        paid_days = np.concatenate([np.asarray(d, dtype=float) for d in self.payment_days])
        shares = np.concatenate([np.asarray(v, dtype=float) for v in self.payment_shares])
        start = np.cumsum(lengths) - lengths
        # one sorted key per payment, invoice by invoice: a search counts each row's payments by its day
        low = paid_days.min() - 1.0
        width = paid_days.max() - low + 2.0
        keys = np.repeat(np.arange(len(lengths)), lengths) * width + (paid_days - low)
        query = rows * width + (np.clip(days, low, low + width - 1.0) - low)
        n = np.minimum(np.searchsorted(keys, query, side="right") - start[rows], lengths[rows])
        some = n > 0
        out[some] = shares[start[rows[some]] + n[some] - 1]
        return out

    def disputed_at(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        dispute = self.dispute_day[rows]
        return (~np.isnan(dispute) & (dispute <= days)).astype(float)

    def seen_earlier(self, days: float) -> InvoiceTimeline:
        """The same invoices as seen ``days`` calendar days before the observation end: later events not yet happened."""
        until = self.observed_until - days

        def before(day: np.ndarray) -> np.ndarray:
            return np.where(day <= until, day, np.nan)

        seen = [d <= u for d, u in zip(self.payment_days, until, strict=True)]
        return InvoiceTimeline(
            earliest=self.earliest,
            paid_day=before(self.paid_day),
            observed_until=until,
            dispute_day=before(self.dispute_day),
            payment_days=_objects([d[k] for d, k in zip(self.payment_days, seen, strict=True)]),
            payment_shares=_objects([v[k] for v, k in zip(self.payment_shares, seen, strict=True)]),
        )


def timeline_from_table(table: pd.DataFrame, observation_end: pd.Timestamp) -> InvoiceTimeline:
    """The :class:`InvoiceTimeline` of a late-payment training table's rows as seen at ``observation_end``.

    The table carries ``due_date``, ``invoice_terms_days``, ``settled_date``,
    ``dispute_date`` and the partial payments (``partial_payment_dates``,
    ``partial_payment_shares``) from :func:`riskmodel.labels.make_payment_timeline`;
    anything dated after ``observation_end`` is treated as not yet happened.
    """
    due = pd.to_datetime(table["due_date"])
    end = pd.Timestamp(observation_end)

    def day_of(column: str) -> np.ndarray:
        dates = pd.to_datetime(table[column])
        days = (dates - due).dt.days.astype(float)
        return days.where(dates <= end).to_numpy(dtype=float)

    observed_until = (end - due).dt.days.to_numpy(dtype=float)
    counts = table["partial_payment_dates"].map(len).to_numpy()
    dates = pd.to_datetime(
        pd.Series(
            np.concatenate(
                [np.asarray(d, dtype="datetime64[ns]") for d in table["partial_payment_dates"]]
                or [np.array([], dtype="datetime64[ns]")]
            )
        )
    )
    shares = np.concatenate(
        [np.asarray(v, dtype=float) for v in table["partial_payment_shares"]] or [np.array([])]
    )
    owner = np.repeat(np.arange(len(table)), counts)
    days = (dates.to_numpy() - due.to_numpy()[owner]) / np.timedelta64(1, "D")
    seen = dates.to_numpy() <= end.to_datetime64()
    bounds = np.cumsum(counts)[:-1]
    payment_days = [d[k] for d, k in zip(np.split(days, bounds), np.split(seen, bounds), strict=True)]
    payment_shares = [v[k] for v, k in zip(np.split(shares, bounds), np.split(seen, bounds), strict=True)]
    return InvoiceTimeline(
        earliest=-table["invoice_terms_days"].to_numpy(dtype=float),
        paid_day=day_of("settled_date"),
        observed_until=observed_until,
        dispute_day=day_of("dispute_date"),
        payment_days=_objects(payment_days),
        payment_shares=_objects(payment_shares),
    )


def _objects(arrays: list[np.ndarray]) -> np.ndarray:
    out = np.empty(len(arrays), dtype=object)
    out[:] = arrays
    return out


def band_of(days: np.ndarray) -> np.ndarray:
    """Band index of each number of days beyond terms (values above the horizon fall in the last band)."""
    return np.minimum(np.searchsorted(BAND_EDGES, np.asarray(days, dtype=float), side="left"), N_BANDS - 1)


def band_start(band: np.ndarray, earliest: np.ndarray) -> np.ndarray:
    """Last day before each band (the previous edge; the day before issue for an invoice's first band)."""
    previous = np.where(band > 0, BAND_EDGES[np.maximum(band - 1, 0)], -np.inf)
    return np.maximum(previous, earliest - 1)


def person_periods(timeline: InvoiceTimeline) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Invoice x band rows a hazard model is fitted on: (invoice row, band, paid in that band).

    An invoice contributes each band from the one holding its issue day to the one it was
    paid in, as far as the band is fully observed; a band cut by the observation end is
    left out whatever happened in it, so censoring does not bias the hazard.
    """
    first = band_of(timeline.earliest)
    paid = ~np.isnan(timeline.paid_day)
    paid_band = np.where(paid, band_of(np.nan_to_num(timeline.paid_day)), N_BANDS)
    last_full = np.searchsorted(BAND_EDGES, timeline.observed_until, side="right") - 1
    last = np.minimum(paid_band, last_full)
    counts = np.maximum(last - first + 1, 0)
    rows = np.repeat(np.arange(len(first)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    band = first[rows] + offsets
    event = (band == paid_band[rows]).astype(float)
    return rows, band, event


def status_rows(
    timeline: InvoiceTimeline, rows: np.ndarray, band: np.ndarray, event: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each invoice x band row twice: with the status read when the band began, and as read at issue.

    Returns (invoice row, status columns :data:`STATUS_COLUMNS`, event). ``status_age`` is
    the days between reading the status and the band's start: 0 for the first copy; for the
    second (not disputed, nothing paid, read the day before issue) the time since issue.
    The second copy is what an invoice scored at issue (or at any earlier date) looks like,
    so probabilities far ahead allow for disputes and part payments not yet known; the
    invoice's first band has only one copy, both being the same.
    """
    earliest = timeline.earliest[rows]
    start = band_start(band, earliest)
    current = np.column_stack(
        [
            band.astype(float),
            timeline.disputed_at(rows, start),
            timeline.paid_share_at(rows, start),
            np.zeros(len(rows)),
        ]
    )
    later = start > earliest - 1
    at_issue = np.column_stack(
        [
            band[later].astype(float),
            np.zeros(later.sum()),
            np.zeros(later.sum()),
            (start - earliest + 1)[later],
        ]
    )
    return (
        np.concatenate([rows, rows[later]]),
        np.vstack([current, at_issue]),
        np.concatenate([event, event[later]]),
    )


STAGE_ENDS = (0, 30, 60, 90)  # the collection tiers: one hazard model per stage between them
MONOTONE_STAGES = (1, 2, 3, 4)  # stages whose hazards keep the features' risk directions: after the due date
MIN_STAGE_EVENTS = 30  # fewer payments than this in a stage: its bands use their observed rates


def band_column(X: np.ndarray) -> np.ndarray:
    """The band of each hazard row (its first :data:`STATUS_COLUMNS` column)."""
    return X[:, -len(STATUS_COLUMNS)].astype(int)


def stage_of(band: np.ndarray) -> np.ndarray:
    """Stage of each band: 0 up to the due date, 1 up to 30 days beyond terms, ..., 4 beyond 90."""
    return np.searchsorted(np.asarray(STAGE_ENDS, dtype=float), BAND_EDGES[np.asarray(band)], side="left")


class BandRates:
    """Observed hazard of each band (payments over invoices entering it), for a stage too thin to model."""

    def __init__(self, band: np.ndarray, event: np.ndarray) -> None:
        paid = np.bincount(band, weights=event, minlength=N_BANDS)
        at_risk = np.bincount(band, minlength=N_BANDS)
        self.rate = (paid + 0.5) / (at_risk + 1.0)

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        rate = self.rate[band_column(X)]
        return np.log(rate / (1 - rate))

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(X.shape), self.raw_score(X)

    def importance(self) -> np.ndarray:
        return np.zeros(0)


CALIBRATION_SHARE = 0.2  # latest share of the invoices each stage's calibration is fitted on


def _cloglog(raw: np.ndarray) -> np.ndarray:
    """``log(-log(1 - h))`` of the hazard ``h`` with log-odds ``raw``."""
    return np.log(np.logaddexp(0.0, raw))


def _log_odds_of_cumulative(q: np.ndarray) -> np.ndarray:
    """Log-odds of the hazard whose ``log(-log(1 - h))`` is ``q`` (inverse of :func:`_cloglog`)."""
    cumulative = np.exp(np.minimum(q, 700.0))
    return np.where(cumulative > 30.0, cumulative, np.log(np.expm1(np.minimum(cumulative, 30.0)) + 1e-300))


@dataclass(frozen=True)
class StageCalibration:
    """Level of a stage's band hazards: each band's cumulative hazard ``-log(1 - h)`` times ``exp(intercept)``.

    On the complementary log-log scale, ``q' = q + intercept``: invoices keep their order
    within the stage and P(paid within the stage) at issue moves to the level the latest
    invoices showed. Fitted on whole invoices (paid within the stage or not), not on invoice
    x band rows: rows can each be right while an invoice's hazards err together across its
    bands.
    """

    intercept: float = 0.0

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Rescaled log-odds of the hazards with log-odds ``raw``."""
        if self.intercept == 0.0:
            return raw
        return _log_odds_of_cumulative(_cloglog(raw) + self.intercept)

    @classmethod
    def fit(cls, raw: np.ndarray, invoice: np.ndarray, paid: np.ndarray) -> StageCalibration:
        """Maximum-likelihood intercept from the stage's band rows of the calibration invoices.

        ``raw`` are the hazards' log-odds as scored at issue, ``invoice`` each row's position
        in ``paid`` (1 when that invoice was paid within the stage, 0 when it was still
        unpaid at the stage's end).
        """
        cumulative = np.bincount(invoice, weights=np.exp(_cloglog(raw)), minlength=len(paid))

        def loss(intercept: float) -> float:
            scaled = np.maximum(cumulative * np.exp(intercept), 1e-12)
            return float(-np.sum(np.where(paid == 1, np.log(-np.expm1(-scaled)), -scaled)))

        return cls(float(minimize_scalar(loss, bounds=(-5.0, 5.0), method="bounded").x))


class CalibratedStage:
    """A stage's GBM with its hazards' level set by a :class:`StageCalibration` fitted on later invoices, out of time."""

    def __init__(self, gbm: MonotoneGBM, calibration: StageCalibration) -> None:
        self.gbm, self.calibration = gbm, calibration

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        return self.calibration.apply(self.gbm.raw_score(X))

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The GBM's contributions, the base taking up the rest of the rescaled log-odds."""
        values, _ = self.gbm.contributions(X)
        return values, self.raw_score(X) - values.sum(axis=1)

    def importance(self) -> np.ndarray:
        return self.gbm.importance()


class PaymentTiming:
    """Hazard model of days beyond terms over :data:`BAND_EDGES`: LightGBM on invoice x band rows, per stage.

    Each stage between the thresholds in :data:`STAGE_ENDS` has its own model (band a
    feature within it), so what drives payment by the due date need not be what drives
    payment of an invoice already 60 days late; a stage with fewer than
    :data:`MIN_STAGE_EVENTS` payments uses each band's observed rate.

    Parameters
    ----------
    params : GBMParams
        Tree and boosting parameters.
    monotone : tuple of int
        Risk direction of each invoice feature (+1: the value raises the risk of late
        payment); in the stages after the due date (:data:`MONOTONE_STAGES`) the hazard of
        payment gets the opposite constraint. Before the due date it is left free: how
        early a customer pays is not a risk direction (on the last rolling origin inside
        development, freeing it raised the AUC of P(late) by 0.005 and changed the others
        by less than 0.002). A dispute may only lower the hazard.
    categorical : tuple of int
        Indices of integer-coded categorical feature columns.
    typical_delay : tuple of int
        Indices of feature columns holding a customer's usual days beyond terms (say the
        mean of its last invoices); each band row also gets the band's end minus that
        value, so a tree can place an invoice's payment near its customer's habit
        whatever that habit is, and the payment-date interval is no wider than it needs be.
    """

    def __init__(
        self,
        params: GBMParams | None = None,
        monotone: tuple[int, ...] = (),
        categorical: tuple[int, ...] = (),
        random_state: int = 0,
        n_threads: int = 1,
        typical_delay: tuple[int, ...] = (),
    ) -> None:
        self.params = params
        self.monotone = monotone
        self.categorical = categorical
        self.random_state = random_state
        self.n_threads = n_threads
        self.typical_delay = typical_delay

    def fit(self, matrix: np.ndarray, timeline: InvoiceTimeline) -> PaymentTiming:
        """Fit on invoice features ``matrix`` (rows in time order) and what ``timeline`` saw of their payment."""
        rows, band, event = person_periods(timeline)
        if len(np.unique(event)) < 2:
            raise ValueError(
                "the payment-timing model needs invoices both paid and still unpaid in some band"
            )
        rows, status, event = status_rows(timeline, rows, band, event)
        order = np.argsort(rows, kind="stable")  # time order of the invoices, for early stopping
        rows, status, event = rows[order], status[order], event[order]
        band = status[:, 0].astype(int)
        self.n_features_ = matrix.shape[1]
        X = self._with_status(matrix[rows], status)
        hazard_direction = tuple(-d for d in self.monotone) or (0,) * matrix.shape[1]
        free, relative = (0,) * matrix.shape[1], (0,) * len(self.typical_delay)
        stage = stage_of(band)
        earlier_X, earlier_event = self._rows_before_calibration(matrix, timeline)
        self.stages_: list[CalibratedStage | BandRates] = []
        for s in range(len(STAGE_ENDS) + 1):
            mask = stage == s
            paid = int(event[mask].sum())
            if paid < MIN_STAGE_EVENTS or mask.sum() - paid < MIN_STAGE_EVENTS:
                self.stages_.append(BandRates(band[mask], event[mask]))
                continue

            directions = (*(hazard_direction if s in MONOTONE_STAGES else free), *relative, 0, -1, 0, 0)

            def make(directions: tuple[int, ...] = directions) -> MonotoneGBM:
                return MonotoneGBM(
                    self.params, directions, self.categorical, self.random_state, self.n_threads
                )

            in_stage = stage_of(band_column(earlier_X)) == s
            calibration = self._calibration(
                make, matrix, timeline, s, (earlier_X[in_stage], earlier_event[in_stage])
            )
            self.stages_.append(CalibratedStage(make().fit(X[mask], event[mask]), calibration))
        self.n_rows_, self.n_events_ = len(event), int(event.sum())
        return self

    def _calibration(
        self,
        make: Callable[[], MonotoneGBM],
        matrix: np.ndarray,
        timeline: InvoiceTimeline,
        stage: int,
        earlier: tuple[np.ndarray, np.ndarray],
    ) -> StageCalibration:
        """Stage ``stage``'s :class:`StageCalibration`: a model of what was known before the latest invoices, scoring them at issue.

        The latest :data:`CALIBRATION_SHARE` of the invoices that entered the stage unpaid
        and were seen through its end are the calibration invoices. ``earlier`` are the
        stage's hazard rows and events of the other invoices as seen the day before the first
        calibration invoice's issue (:meth:`_rows_before_calibration`), so the calibration
        model, like the model it calibrates, scores a period it never saw. No rescaling when
        either outcome has fewer than :data:`MIN_STAGE_EVENTS` invoices or rows.
        """
        X, event = earlier
        split = int(len(matrix) * (1.0 - CALIBRATION_SHARE))
        start = STAGE_ENDS[stage - 1] if stage else -np.inf
        end = STAGE_ENDS[stage] if stage < len(STAGE_ENDS) else HORIZON_DAYS
        late = np.arange(split, len(matrix))
        paid_day = timeline.paid_day[late]
        entered = np.isnan(paid_day) | (paid_day > start)
        invoices = late[entered & (timeline.observed_until[late] >= end)]
        paid = (timeline.paid_day[invoices] <= end).astype(float)
        if min(paid.sum(), len(paid) - paid.sum(), event.sum(), (1 - event).sum()) < MIN_STAGE_EVENTS:
            return StageCalibration()
        bands = np.nonzero(stage_of(np.arange(N_BANDS)) == stage)[0]
        earliest = timeline.earliest[invoices]
        position, column = np.nonzero(bands[None, :] >= band_of(earliest)[:, None])
        band = bands[column]
        none = np.zeros(len(position))
        at_issue = self._band_rows(
            matrix[invoices[position]], band, earliest[position] - 1, earliest[position], none, none
        )
        return StageCalibration.fit(make().fit(X, event).raw_score(at_issue), position, paid)

    def _rows_before_calibration(
        self, matrix: np.ndarray, timeline: InvoiceTimeline
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hazard rows and events of the invoices before the calibration share, as seen the day before it begins."""
        split = int(len(matrix) * (1.0 - CALIBRATION_SHARE))
        if split >= len(matrix):
            return self._with_status(matrix[:0], np.zeros((0, len(STATUS_COLUMNS)))), np.zeros(0)
        # calendar days from the day before the first calibration invoice's issue to the observation end
        days = timeline.observed_until[split] - timeline.earliest[split] + 1.0
        seen = timeline.seen_earlier(days)
        rows, band, event = person_periods(seen)
        before = rows < split
        rows, status, event = status_rows(seen, rows[before], band[before], event[before])
        order = np.argsort(rows, kind="stable")  # time order, for early stopping
        return self._with_status(matrix[rows[order]], status[order]), event[order]

    def _band_rows(
        self,
        matrix: np.ndarray,
        band: int | np.ndarray,
        read_on: np.ndarray,
        earliest: np.ndarray,
        disputed: np.ndarray,
        paid_share: np.ndarray,
    ) -> np.ndarray:
        band = np.broadcast_to(np.asarray(band, dtype=int), (len(matrix),))
        age = np.maximum(band_start(band, earliest) - read_on, 0.0)
        return self._with_status(matrix, np.column_stack([band.astype(float), disputed, paid_share, age]))

    def _with_status(self, matrix: np.ndarray, status: np.ndarray) -> np.ndarray:
        """Hazard rows: the invoice features, the band's end minus each typical delay, then :data:`STATUS_COLUMNS`."""
        end = BAND_EDGES[status[:, 0].astype(int)]
        relative = [end - matrix[:, j] for j in self.typical_delay]
        return np.column_stack([matrix, *relative, status])

    def hazards(
        self,
        matrix: np.ndarray,
        earliest: np.ndarray,
        read_on: np.ndarray | None = None,
        disputed: np.ndarray | None = None,
        paid_share: np.ndarray | None = None,
    ) -> np.ndarray:
        """P(paid in band b | unpaid at its start), shape (n_rows, N_BANDS).

        ``earliest`` is each invoice's first possible payment day (``-terms``); the status
        (``disputed``, ``paid_share``; default none) is as read on day ``read_on`` (days
        beyond terms; default the day before issue). Bands that end on or before
        ``read_on`` are not scored and get 0: the invoice is known unpaid through them, and
        nothing conditioned on that day depends on them.
        """
        n = len(matrix)
        earliest = np.asarray(earliest, dtype=float)
        read_on = earliest - 1 if read_on is None else np.asarray(read_on, dtype=float)
        disputed = np.zeros(n) if disputed is None else np.asarray(disputed, dtype=float)
        paid_share = np.zeros(n) if paid_share is None else np.asarray(paid_share, dtype=float)
        first = np.maximum(band_of(earliest), band_of(np.maximum(read_on, earliest - 1) + 1e-9))
        row, band = np.nonzero(np.arange(N_BANDS)[None, :] >= first[:, None])
        stage = stage_of(band)
        hazards = np.zeros((n, N_BANDS))
        for s, scorer in enumerate(self.stages_):
            pick = stage == s
            if not pick.any():
                continue
            r, b = row[pick], band[pick]
            X = self._band_rows(matrix[r], b, read_on[r], earliest[r], disputed[r], paid_share[r])
            hazards[r, b] = 1.0 / (1.0 + np.exp(-scorer.raw_score(X)))
        return hazards

    def band_contributions(
        self, matrix: np.ndarray, band: int, earliest: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Contributions of each invoice feature to the log-odds of *not* being paid in ``band`` at issue, and the base.

        TreeSHAP of that band's stage model; a band-relative column's part goes to the
        typical-delay feature it is made of, the status columns' parts are folded into the
        base, so the features' contributions and the base add up to that log-odds.
        """
        n = len(matrix)
        earliest = np.asarray(earliest, dtype=float)
        scorer = self.stages_[stage_of(np.array([band]))[0]]
        rows = self._band_rows(matrix, band, earliest - 1, earliest, np.zeros(n), np.zeros(n))
        values, base = scorer.contributions(rows)
        status = values[:, self.n_features_ + len(self.typical_delay) :]
        return -self._per_feature(values), -(base + status.sum(axis=1))

    def importance(self) -> np.ndarray:
        """Split gain of each invoice feature summed over the stage models (the status columns left out)."""
        total = np.zeros(self.n_features_)
        for scorer in self.stages_:
            gain = scorer.importance()
            if len(gain):
                total += self._per_feature(gain)
        return total

    def _per_feature(self, values: np.ndarray) -> np.ndarray:
        """Per hazard-row column values (last axis) as per invoice feature: each habit column's added to its feature's."""
        features = values[..., : self.n_features_].copy()
        for k, j in enumerate(self.typical_delay):
            features[..., j] += values[..., self.n_features_ + k]
        return features


@dataclass(frozen=True)
class TimingDistribution:
    """Survival curves of days beyond terms, one per invoice, at the knots ``x`` (n_rows, N_BANDS + 1)."""

    x: np.ndarray
    survival: np.ndarray

    def at(self, days: np.ndarray) -> np.ndarray:
        """S(days) of each row, linear between knots (1 before the first knot, the last value after the last)."""
        days = np.asarray(days, dtype=float)
        rows = np.arange(len(days))
        n_below = (self.x <= days[:, None]).sum(axis=1)
        hi = np.minimum(n_below, self.x.shape[1] - 1)
        lo = np.maximum(hi - 1, 0)
        x0, x1 = self.x[rows, lo], self.x[rows, hi]
        s0, s1 = self.survival[rows, lo], self.survival[rows, hi]
        inside = (n_below > 0) & (n_below < self.x.shape[1])
        width = np.where(inside, x1 - x0, 1.0)
        between = s0 + (s1 - s0) * (days - x0) / width
        return np.where(n_below == 0, 1.0, np.where(inside, between, self.survival[:, -1]))

    def quantile_days(self, q: float, after: np.ndarray) -> np.ndarray:
        """Whole days beyond terms by which each invoice is paid with probability ``q``, given unpaid through ``after``.

        Capped at :data:`HORIZON_DAYS` unless ``after`` is already past it; always later than ``after``.
        """
        after = np.asarray(after, dtype=float)
        return self._whole_day(self._crossing(q, after, self.at(after)), after)

    def interval_days(self, after: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The 80 % payment interval and its median as whole days beyond terms, all later than ``after``.

        A day ``d`` holds the payments in ``(d - 1, d]``. The median is the day the curve
        passes 50 % in (:meth:`quantile_days`); the interval's days are those whose mass
        lies mostly between the curve's 10 % and 90 % points: payment before the first day
        and after the last each has about 10 % probability, to the nearest day (taking the
        whole days the two points fall in would add about half a day's mass at each end).
        """
        after = np.asarray(after, dtype=float)
        start = self.at(after)
        median = self._whole_day(self._crossing(0.5, after, start), after)
        low = np.clip(np.floor(self._crossing(0.1, after, start) + 0.5) + 1, np.floor(after) + 1, median)
        high = np.maximum(np.floor(self._crossing(0.9, after, start) + 0.5), median)
        return low, median, high

    @staticmethod
    def _whole_day(point: np.ndarray, after: np.ndarray) -> np.ndarray:
        """The whole day holding each ``point``, and never before the day after ``after``."""
        return np.maximum(np.ceil(point - 1e-9), np.floor(after) + 1)

    def _crossing(self, q: float, after: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Fractional days where each curve, unpaid through ``after`` (``start = S(after)``), reaches ``q``; capped at the horizon."""
        rows = np.arange(len(after))
        target = (1.0 - q) * start
        reached = (self.x > after[:, None]) & (self.survival <= target[:, None])
        found = reached.any(axis=1)
        j = np.argmax(reached, axis=1)
        previous = np.maximum(j - 1, 0)
        x_prev, s_prev = self.x[rows, previous], self.survival[rows, previous]
        from_after = (j == 0) | (x_prev <= after)
        x0, s0 = np.where(from_after, after, x_prev), np.where(from_after, start, s_prev)
        x1, s1 = self.x[rows, j], self.survival[rows, j]
        drop = np.where(s0 > s1, s0 - s1, 1.0)
        day = np.where(s0 > s1, x0 + (s0 - target) * (x1 - x0) / drop, x1)
        return np.minimum(np.where(found, day, float(HORIZON_DAYS)), HORIZON_DAYS)


def distribution(hazards: np.ndarray, earliest: np.ndarray) -> TimingDistribution:
    """Survival knots of each invoice from its band hazards; no payment before its issue day (``earliest``)."""
    earliest = np.asarray(earliest, dtype=float)
    first = band_of(earliest)
    possible = np.arange(N_BANDS)[None, :] >= first[:, None]
    survival = np.cumprod(np.where(possible, 1.0 - hazards, 1.0), axis=1)
    start = earliest - 1  # S is 1 the day before issue
    edges = np.broadcast_to(BAND_EDGES, hazards.shape)
    x = np.column_stack([start, np.maximum(edges, start[:, None] + 1e-6)])
    x = np.maximum.accumulate(x, axis=1)
    return TimingDistribution(x=x, survival=np.column_stack([np.ones(len(hazards)), survival]))
