"""The scoring calls of the service over the models, the ledger and the results database it holds.

Every customer score goes through :func:`riskmodel.scoring.score_prepared` — one customer's
rows of the ledger (``OnlineFeatureStore.customer_ledger``), the last stored score and
open alerts for alert memory, and the portfolio medians as of the same date for the
reasons — so a service answer equals the batch row for that customer and date.
The default ``as_of`` is the ledger's data end (the last date anything is known).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pandas as pd

from riskmodel.exceptions import LedgerError
from riskmodel.explain import comparison_points
from riskmodel.features.customer import customer_features, is_active
from riskmodel.features.invoice import MAX_KEPT_ROWS, carry_kept_features, invoice_features
from riskmodel.features.online import MAX_KEPT_FRAMES, OnlineFeatureStore
from riskmodel.forecast import cash_forecast
from riskmodel.improve import to_improve
from riskmodel.jsonable import to_jsonable
from riskmodel.ledger import Ledger, load_ledger
from riskmodel.ledger.load import apply_pushed, push_rows
from riskmodel.ledger.pushes import PushRefused, journal_stamp, journal_version, push_lock, read_journal
from riskmodel.locks import KeyedLock
from riskmodel.policy.texts import render
from riskmodel.scoring import (
    CustomerScores,
    ModelBundle,
    PreparedCustomers,
    customer_response,
    customer_responses,
    missing_model_notes,
    onboard,
    open_invoices,
    prepare_scored_customers,
    score_customers,
    score_prepared,
)
from riskmodel.service.errors import ApiError, EncodedBody, field_path
from riskmodel.service.history import history_ledger
from riskmodel.service.invoices import customer_invoices, invoice_risk
from riskmodel.service.portfolio import portfolio_summary
from riskmodel.service.prepared import PreparedPortfolio
from riskmodel.service.schemas import History
from riskmodel.service.settings import ServiceSettings
from riskmodel.store import (
    ALERT_IDENTITY,
    MEMORY_ALERT_COLUMNS,
    MEMORY_SCORE_COLUMNS,
    ResultsStore,
    alert_identity,
    remembered_alert,
)

T = TypeVar("T")
JOURNAL_POLL_SECONDS = 0.2  # how often a service worker looks for rows pushed through another
FEW_TO_RENEW_ALONE = 4  # pushed customers renewed one by one (as requests would); more: in one batch
logger = logging.getLogger(__name__)


class ComputedCache:
    """A small least-recently-used cache of computed values.

    A missing value is computed once, outside the cache's lock, so a slow computation holds
    up no other key; a second caller missing the same key meanwhile waits for it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing = KeyedLock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        with self._computing.holding(key):
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
                if len(self._values) > self.size:
                    self._values.popitem(last=False)
                return value

    def peek(self, key: Hashable) -> Any | None:
        """The value held for ``key``, or None (nothing is computed)."""
        with self._lock:
            return self._values.get(key)

    def take_from(self, other: ComputedCache, keep: Callable[[Any], bool]) -> None:
        """Hold the values of ``other`` whose key ``keep`` accepts."""
        with other._lock:
            values = [(key, value) for key, value in other._values.items() if keep(key)]
        with self._lock:
            self._values.update(values[-self.size :])


Changes = tuple[list[dict[str, Any]], list[dict[str, Any]]]  # alerts opened and resolved
ALERT_CUSTOMER = MEMORY_ALERT_COLUMNS.index("customer_id")
ALERT_IDENTITY_AT = tuple(MEMORY_ALERT_COLUMNS.index(name) for name in ALERT_IDENTITY)


@dataclass(frozen=True)
class Memory:
    """What the alert rules remember of some customers, as stored rows; hashable, so answers are kept under it.

    ``scores`` holds each customer's last stored score before the date (``MEMORY_SCORE_COLUMNS``),
    ``alerts`` the open alerts (``MEMORY_ALERT_COLUMNS``, in the order opened).
    """

    scores: tuple[tuple[Any, ...], ...] = ()
    alerts: tuple[tuple[Any, ...], ...] = ()

    def by_customer(self) -> dict[str, Memory]:
        """Each remembered customer's own memory, as :meth:`RiskScorer.memory` gives it for that customer alone."""
        scores, held = defaultdict(list), defaultdict(list)
        for row in self.scores:
            scores[row[0]].append(row)
        for row in self.alerts:
            held[row[ALERT_CUSTOMER]].append(row)
        return {c: Memory(tuple(scores[c]), tuple(held[c])) for c in {*scores, *held}}

    def after(self, changes: Changes) -> Memory:
        """This memory once the alert ``changes`` of an answer at its date are stored (the store's rules:
        an alert already open is not opened again; a resolved one leaves). Scores stay: the memory
        holds scores dated before the answers' date only."""
        opened, closed = changes
        if not opened and not closed:
            return self
        gone = {alert_identity(alert) for alert in closed}
        kept = [row for row in self.alerts if _identity(row) not in gone]
        held = {_identity(row) for row in kept}
        new = [row for row in map(remembered_alert, opened) if _identity(row) not in held]
        return Memory(self.scores, tuple(kept + new))

    def frames(self) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
        """The last scores and the open alerts as the alert rules take them (None when there are none)."""
        previous = (
            pd.DataFrame(list(self.scores), columns=list(MEMORY_SCORE_COLUMNS)) if self.scores else None
        )
        held = pd.DataFrame(list(self.alerts), columns=list(MEMORY_ALERT_COLUMNS)) if self.alerts else None
        return previous, held


def _identity(row: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(row[at]) for at in ALERT_IDENTITY_AT)


def _column(ledger: Ledger, table: str, name: str) -> list[Any]:
    return getattr(ledger, table)[name].to_pylist()


def _onboarding_dates(ledger: Ledger) -> dict[str, date]:
    return dict(
        zip(
            _column(ledger, "customers", "customer_id"),
            _column(ledger, "customers", "onboarding_date"),
            strict=True,
        )
    )


class RiskScorer:
    """Champion models, the served ledger and the results database, with one method per kind of answer.

    Parameters
    ----------
    bundle
        Champion models and policy. Without a default model customers are graded by the
        policy's payment-behaviour rules (``"basis": "rules"``); without a late-payment model
        invoice answers carry no probabilities and say so.
    ledger
        The validated ledger the service scores from.
    results
        Results database: stored scores and open alerts (alert memory) and the audit trail.
    """

    def __init__(
        self, bundle: ModelBundle, ledger: Ledger, results: ResultsStore, prepare_today: bool = False
    ) -> None:
        self.bundle = bundle
        self.results = results
        self.started_at = datetime.now(UTC)
        self.lock = ReadWriteLock()
        self.today: PreparedPortfolio | None = None
        self._touched: list[frozenset[str] | None] = []  # customers each new ledger changed (None: any)
        self._today_wanted: threading.Event | None = None
        self.ready = threading.Event()  # set once the data end's work ahead is done (or failed)
        self._asked_again: set[str] = set()  # customers whose answer to work out again (their memory changed)
        self._asked_lock = threading.Lock()
        self._closed = False
        self._serve(ledger)
        self._preparer: threading.Thread | None = None
        if not prepare_today:
            self.ready.set()
        else:
            self._today_wanted = threading.Event()
            self._today_wanted.set()
            self._preparer = threading.Thread(
                target=self._prepare_today_loop, name="prepare-today", daemon=True
            )
            self._preparer.start()

    def close(self) -> None:
        """Stop working out the data end's inputs in the background (the results database stays open)."""
        self._closed = True
        if self._today_wanted is not None and self._preparer is not None:
            self._today_wanted.set()
            self._preparer.join(timeout=60)
            gc.unfreeze()  # what it froze can be collected again

    def _serve(self, ledger: Ledger) -> None:
        """Serve ``ledger``: everything derived from it is built again (call under the write lock)."""
        self.ledger = ledger
        self.data_end = ledger.require_data_end("score")
        self.store = OnlineFeatureStore(ledger, self.bundle.feature_config)
        self._touched.append(None)
        self.today = None
        self.onboarded = _onboarding_dates(ledger)
        self.invoice_owner: dict[str, str] = {}
        self.invoice_issued: dict[str, date] = {}
        self._index_invoices(ledger)
        self._new_caches()
        self._keep_open_invoice_features()
        if self._today_wanted is not None:
            self._today_wanted.set()

    def _serve_pushed(self, ledger: Ledger, seen_from: Mapping[str, date]) -> None:
        """Serve ``ledger``, the served one with rows of some customers added or updated (under the write lock).

        ``seen_from`` gives those customers, each with the first day a change can be seen.

        Only what those customers' rows give is derived again. On the same data end, their
        scoring inputs are worked out again in the background (here, without a background
        worker) and spliced into the data end's; until then their requests work them out,
        and the portfolio medians stay those of before the push. When the renewed inputs move
        the medians, the answers worked out ahead are worked out again.
        """
        changed = frozenset(seen_from)
        carry_kept_features(self.ledger, ledger, seen_from)
        data_end = self.data_end
        self.ledger = ledger
        self.data_end = ledger.require_data_end("score")
        self.store = self.store.with_rows_of(ledger, changed)
        self._touched.append(changed)
        part = self.store.ledger_of(changed)
        self.onboarded.update(_onboarding_dates(part))
        self._index_invoices(part)
        answers, medians = self._answers, self._comparisons.peek(data_end)
        self._new_caches()
        today, self.today = self.today, None
        if today is None or today.as_of != self.data_end:  # a new data end: worked out in the background
            if self._today_wanted is not None:
                self._today_wanted.set()
            return
        self.today = today.without(changed)
        if medians is not None:  # the other customers' answers read nothing that changed yet
            self._comparisons.get(data_end, lambda: medians)
            self._answers.take_from(answers, lambda key: key[0] == data_end and key[1] not in changed)
        if self._today_wanted is not None:
            self._today_wanted.set()
        else:
            self._apply_renewal(self._renewal(self.today, self._missing(self.today)))

    def _index_invoices(self, ledger: Ledger) -> None:
        """Add the owner and issue date of the ledger's invoices to the served ones."""
        invoice_ids = _column(ledger, "invoices", "invoice_id")
        self.invoice_owner.update(zip(invoice_ids, _column(ledger, "invoices", "customer_id"), strict=True))
        self.invoice_issued.update(zip(invoice_ids, _column(ledger, "invoices", "issue_date"), strict=True))

    def _new_caches(self) -> None:
        """Start the caches of what reads the whole ledger, and the journal position, afresh."""
        self.pushed_rows = journal_version(self.ledger.source) or 0
        self.journal_stamp = journal_stamp(self.ledger.source)
        self._comparisons = ComputedCache(16)
        self._features = ComputedCache(
            1
        )  # (ledger, as_of) -> every customer's features, until the inputs hold them
        self._portfolios = ComputedCache(4)
        self._forecasts = ComputedCache(8)
        self._answers = ComputedCache(MAX_KEPT_FRAMES)  # (as_of, customer, lang, memory) -> /score answer

    def _missing(self, today: PreparedPortfolio) -> list[str]:
        """Customers onboarded by ``today``'s date whose inputs it lacks (pushed since; call under a lock)."""
        return sorted(c for c, day in self.onboarded.items() if day <= today.as_of and c not in today.rows)

    def _renewal(self, today: PreparedPortfolio, missing: list[str]) -> tuple[PreparedPortfolio, pd.Series]:
        """``today`` with the ``missing`` customers' inputs worked out on the served ledger, and the medians it gives."""
        if len(missing) > FEW_TO_RENEW_ALONE:
            part = PreparedPortfolio.build(self.bundle, self.store.ledger_of(missing), today.as_of, missing)
        elif missing:  # each as its next request works it out (whichever comes first, the other reads it)
            alone = [self._kept_prepared(self.store, c, today.as_of) for c in missing]
            part = PreparedPortfolio.of(PreparedCustomers.joined(alone))
        if missing:
            today = today.replaced(frozenset(missing), part)
        return today, self._medians(today.active_features(self.bundle.feature_config))

    def _apply_renewal(self, renewal: tuple[PreparedPortfolio, pd.Series]) -> None:
        """Serve the renewed inputs of the data end; when its medians moved, answers are worked out again (under the write lock)."""
        today, medians = renewal
        held = self._comparisons.peek(today.as_of)
        if held is None or not held.equals(medians):
            self._comparisons = ComputedCache(16)
            self._answers = ComputedCache(MAX_KEPT_FRAMES)
        self._comparisons.get(today.as_of, lambda: medians)
        self.today = today

    def _renew_pushed(self) -> None:
        """Work out the data end's inputs of the customers pushed since, in the background, then their answers."""
        with self.lock.reading():
            today, missing = self.today, self._missing(self.today) if self.today is not None else []
        if today is None or not missing:
            return
        renewal = self._renewal(today, missing)
        with self.lock.writing():
            if self.today is not today:  # pushed again meanwhile: asked again
                return
            self._apply_renewal(renewal)
            answers = self._answers
        self._prepare_answers(renewal[0], answers)

    def _prepare_today_loop(self) -> None:
        """Run :meth:`prepare_today` whenever asked (after start, after the data end moves), until closed.

        In between, apply rows pushed through another worker as soon as they are journalled,
        so that this worker's next request need not.
        """
        assert self._today_wanted is not None
        while True:
            asked = self._today_wanted.wait(timeout=JOURNAL_POLL_SECONDS)
            if self._closed:
                return
            if not asked:
                try:
                    self.catch_up()  # asks for the work ahead it needs
                except Exception:  # the next request reads the journal itself
                    logger.exception("rows pushed through another worker could not be applied ahead")
                continue
            self._today_wanted.clear()
            with self.lock.reading():
                current = self.today is not None and self.today.as_of == self.data_end
            if current:  # pushed customers' inputs, or answers, to work out again
                try:
                    self._renew_pushed()
                except Exception:  # their requests go on working out their own inputs
                    logger.exception("the pushed customers' scoring inputs could not be worked out ahead")
                self._answer_again()
                continue
            gc.unfreeze()  # what the last run kept may be garbage now
            try:
                self.prepare_today()
            except Exception:  # requests go on working out their own inputs
                logger.exception("the data end's scoring inputs could not be worked out ahead")
            # The garbage collector's full passes would walk every object the service holds now
            # (models, ledger, inputs, answers: ~200 ms on the sample, a pause in some request);
            # frozen, they skip them. Collected before ready: that pass is a pause too.
            gc.collect()
            gc.freeze()
            self.ready.set()

    def prepare_today(self) -> None:
        """Work out every customer's scoring inputs at the data end in one batch, then their ``/score`` answers.

        Then, on ledgers of at most ``MAX_KEPT_ROWS`` invoices, the features at issue of every
        invoice, which requests for past dates read back for the invoices open then.

        A ledger served meanwhile with the same data end has its pushed customers' rows
        worked out again; one with another data end asks for a new run. Answers are worked
        out for portfolios of at most ``MAX_KEPT_FRAMES`` customers (``"en"``).
        """
        with self.lock.reading():
            ledger, as_of, seen, today = self.ledger, self.data_end, len(self._touched), self.today
        if today is None or today.as_of != as_of:
            started = time.perf_counter()
            features = self._portfolio_features(ledger, as_of)  # shared with the first answer's medians
            built = PreparedPortfolio.build(self.bundle, ledger, as_of, features=features)
            with self.lock.writing():
                self._features = ComputedCache(1)  # held by the inputs from now on
                touched = self._touched[seen:]
                if self.data_end != as_of or None in touched:
                    return  # a newer ledger has asked again
                self.today = built.without(frozenset().union(*touched))  # renewed by the next run
            logger.info(
                "scoring inputs of %s customers at %s ready in %.1fs",
                f"{len(built.rows):,}",
                as_of,
                time.perf_counter() - started,
            )
        with self.lock.reading():
            today, answers = self.today, self._answers
        if today is not None and len(today.rows) <= MAX_KEPT_FRAMES:
            self._prepare_answers(today, answers)
        model = self.bundle.late_payment
        if model is not None and ledger.invoices.num_rows <= MAX_KEPT_ROWS:  # for answers at past dates
            invoice_features(
                ledger, config=model.feature_config, invoice_ids=_column(ledger, "invoices", "invoice_id")
            )

    def _answer_again(self) -> None:
        """Work out again, in one batch, the answers of the customers whose memory their last answer changed."""
        with self._asked_lock:
            ids, self._asked_again = sorted(self._asked_again), set()
        with self.lock.reading():
            today, answers = self.today, self._answers
        if today is not None and today.as_of == self.data_end:
            self._prepare_answers(today, answers, [c for c in ids if c in today.rows])

    def _prepare_answers(
        self, today: PreparedPortfolio, answers: ComputedCache, ids: list[str] | None = None, lang: str = "en"
    ) -> None:
        """Work out every customer's (or these ``ids``') ``/score`` answer at ``today``'s date in batches, with the memory stored now.

        Each answer is kept under the memory it was worked out with, so a request reads it
        only while the customer's stored score and open alerts are still those (and until a
        push, which starts a new ``answers``). An answer that opens or resolves alerts leaves
        another memory: the next answer under that one is worked out too, so whichever worker
        takes the customer's next request finds it. Answers kept already are not worked out again.
        """
        started = time.perf_counter()
        as_of = today.as_of
        ids = list(today.rows) if ids is None else ids
        remembered = self.memory(ids, as_of).by_customer()
        memories = {customer_id: remembered.get(customer_id, Memory()) for customer_id in ids}
        worked = 0
        for _ in range(2):  # the answers under the memory now, then under the memory they leave
            todo = [c for c in memories if answers.peek((as_of, c, lang, memories[c])) is None]
            if not todo:
                break
            changes = self._keep_answers(today, answers, {c: memories[c] for c in todo}, lang)
            worked += len(todo)
            memories = {c: memories[c].after(changes[c]) for c in todo if changes[c] != ([], [])}
        if worked:
            logger.info(
                "/score answers of %s customers at %s ready in %.1fs",
                f"{worked:,}",
                as_of,
                time.perf_counter() - started,
            )

    def _keep_answers(
        self, today: PreparedPortfolio, answers: ComputedCache, memories: dict[str, Memory], lang: str
    ) -> dict[str, Changes]:
        """Work out these customers' answers at ``today``'s date, each under its memory, in one batch; keep them; their alert changes."""
        as_of, ids = today.as_of, list(memories)
        prepared = today.prepared if len(ids) == len(today.prepared.features) else today.customers(ids)
        memory = Memory(
            tuple(row for c in ids for row in memories[c].scores),
            tuple(row for c in ids for row in memories[c].alerts),
        )
        result = self._decide(prepared, lang, memory)
        changed: dict[str, Changes] = {customer_id: ([], []) for customer_id in ids}
        for side, alerts in enumerate(result.alerts.changes(as_of)):
            for alert in alerts:
                changed[alert["customer_id"]][side].append(alert)
        bodies = customer_responses(result, ids, self.bundle, lang)
        for customer_id in ids:
            body, changes = EncodedBody(bodies[customer_id]), changed[customer_id]
            key = (as_of, customer_id, lang, memories[customer_id])
            answers.get(key, lambda body=body, changes=changes: (body, changes))
        return changed

    def push(self, batch: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
        """The ``POST /ledger`` body: apply pushed rows (all or none), kept durably before the answer."""
        with push_lock(self.ledger.source), self.lock.writing():
            self._catch_up_locked()
            try:
                ledger, outcome = push_rows(self.ledger, batch, date.today())
            except PushRefused as err:
                raise ApiError(
                    err.status,
                    str(err),
                    [
                        {
                            "field": field_path(
                                k for k in (p["table"], p["row"], p["column"]) if k is not None
                            ),
                            "message": str(p["reason"]),
                        }
                        for p in err.problems
                    ],
                ) from err
            if outcome.changed:
                started = time.perf_counter()
                self._serve_pushed(ledger, outcome.seen_from)
                logger.info(
                    "ledger: %d row(s) added, %d updated; data end %s (%.3fs)",
                    sum(outcome.added.values()),
                    sum(outcome.updated.values()),
                    self.data_end,
                    time.perf_counter() - started,
                )
            return {
                "added": outcome.added,
                "updated": outcome.updated,
                "unchanged": outcome.unchanged,
                "data_end": self.data_end.isoformat(),
                "ledger": self._ledger_info(),
            }

    def catch_up(self) -> None:
        """Load rows another worker pushed into the ledger since this one last read it (a file check when none)."""
        if journal_stamp(self.ledger.source) == self.journal_stamp:
            return
        with self.lock.writing():
            self._catch_up_locked()

    def _catch_up_locked(self) -> None:
        """Apply the journal's entries after the served ones (the whole ledger read again when they do not fit)."""
        if journal_stamp(self.ledger.source) == self.journal_stamp:
            return
        changes = read_journal(self.ledger.source, after=self.pushed_rows)
        try:
            ledger, seen_from = apply_pushed(self.ledger, changes)
        except LedgerError as err:
            logger.info("ledger: rows pushed through another worker (%s); reading the ledger again", err)
            self._serve(load_ledger(self.ledger.source))
            return
        self._serve_pushed(ledger, seen_from)
        logger.info("ledger: %d row(s) pushed through another worker applied", len(changes))

    def refresh(self) -> dict[str, Any]:
        """The ``POST /ledger/refresh`` body: read the ledger again from its source (rows written there by others)."""
        ledger = load_ledger(self.ledger.source)
        with self.lock.writing():
            self._serve(ledger)
            self.comparison(self.data_end)
            return {"data_end": self.data_end.isoformat(), "ledger": self._ledger_info()}

    def _keep_open_invoice_features(self) -> None:
        """Compute the features at issue of the invoices open at the data end once, at start: requests read them back."""
        model = self.bundle.late_payment
        if model is None:
            return
        invoice_ids = open_invoices(self.ledger, self.data_end)["invoice_id"]
        if len(invoice_ids) > MAX_KEPT_ROWS:
            logger.info(
                "%s open invoices: more than are kept; their features are computed per request",
                f"{len(invoice_ids):,}",
            )
            return
        started = time.perf_counter()
        invoice_features(self.ledger, config=model.feature_config, invoice_ids=invoice_ids)
        logger.info(
            "features at issue of %s open invoices computed in %.1fs",
            f"{len(invoice_ids):,}",
            time.perf_counter() - started,
        )

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> RiskScorer:
        """Load the champions from the registry, the ledger and the results database named in ``settings``."""
        return cls(
            ModelBundle.from_registry(settings.tracking_uri),
            load_ledger(settings.ledger),
            ResultsStore(settings.db_url),
            prepare_today=True,
        )

    # -- checks --------------------------------------------------------------------------
    def as_of(self, as_of: date | None) -> date:
        """``as_of`` or, when not given, the ledger's data end; later dates are refused (nothing is known yet)."""
        if as_of is None:
            return self.data_end
        if as_of > self.data_end:
            message = (
                f"as_of {as_of} is after the ledger's data end {self.data_end}; pick a date on or before it"
            )
            raise ApiError(422, message, [{"field": "as_of", "message": message}])
        return as_of

    def check_customer(self, customer_id: str, as_of: date) -> None:
        """404 for a customer the ledger does not know, 422 for one onboarded after ``as_of``."""
        onboarded = self.onboarded.get(customer_id)
        if onboarded is None:
            raise ApiError(
                404,
                f"customer_id {customer_id!r} is not in the served ledger; check the id",
                [{"field": "customer_id", "message": "unknown customer"}],
            )
        if onboarded > as_of:
            message = f"customer {customer_id!r} was onboarded on {onboarded}, after as_of {as_of}; score it from {onboarded} on"
            raise ApiError(422, message, [{"field": "as_of", "message": message}])

    # -- inputs of a customer score --------------------------------------------------------
    def comparison(self, as_of: date) -> pd.Series:
        """Portfolio medians of the default model's features as of ``as_of`` (active customers), cached per date.

        Empty when customers are graded by the policy's rules: their reasons compare with nothing.
        """

        def compute() -> pd.Series:
            if not self.bundle.comparison_features:
                return pd.Series(dtype=float)
            today, config = self.today, self.bundle.feature_config
            if today is not None and today.as_of == as_of:
                return self._medians(today.active_features(config))
            if as_of == self.data_end:  # the data end's inputs are being worked out: share their features
                features = self._portfolio_features(self.ledger, as_of)
                return self._medians(features[is_active(features, config)])
            return self._medians(customer_features(self.ledger, as_of, config))

        return self._comparisons.get(as_of, compute)

    def _portfolio_features(self, ledger: Ledger, as_of: date) -> pd.DataFrame:
        """Every onboarded customer's features at ``as_of`` on ``ledger``, computed once for the data end's medians and inputs."""
        return self._features.get(
            (id(ledger), as_of),
            lambda: customer_features(ledger, as_of, self.bundle.feature_config, active_only=False),
        )

    def _medians(self, features: pd.DataFrame) -> pd.Series:
        """Portfolio medians of the default model's features among these (active customers') rows."""
        names = self.bundle.comparison_features
        return comparison_points(features[names]) if names else pd.Series(dtype=float)

    def memory(self, customer_ids: Sequence[str], as_of: date) -> Memory:
        """The last stored score before ``as_of`` and the open alerts of these customers."""
        last, held = self.results.alert_memory(customer_ids, before=as_of)
        return Memory(tuple(last), tuple(held))

    def _score(
        self,
        ledger: Ledger,
        customer_ids: list[str],
        as_of: date,
        lang: str,
        memory: bool = True,
        features: pd.DataFrame | None = None,
    ) -> CustomerScores:
        if features is None:
            features = customer_features(
                ledger, as_of, self.bundle.feature_config, active_only=False, customer_ids=customer_ids
            )
        prepared = prepare_scored_customers(self.bundle, ledger, as_of, features)
        remembered = self.memory(customer_ids, as_of) if memory else Memory()
        result = self._decide(prepared, lang, remembered)
        if memory:
            self._record(as_of, result.alerts.changes(as_of))
        return result

    def _decide(self, prepared: PreparedCustomers, lang: str, remembered: Memory) -> CustomerScores:
        """:func:`score_prepared` with the ``remembered`` memory and the medians of the date (nothing recorded)."""
        comparison = self.comparison(min(prepared.as_of, self.data_end))
        return score_prepared(self.bundle, prepared, *remembered.frames(), comparison, lang)

    def _record(self, as_of: date, changes: Changes) -> None:
        """Store alert changes of the data end (today's alerts: new once, then open; a look back changes nothing)."""
        if as_of == self.data_end:
            self.results.record_alert_changes(*changes)

    # -- answers ---------------------------------------------------------------------------
    def score(self, customer_id: str, as_of: date | None, lang: str, improve: bool = False) -> dict[str, Any]:
        """The ``POST /score`` body of one customer of the served ledger (with ``to_improve[]`` when asked).

        What depends only on the customer's own rows and the date (features, default state,
        scored open invoices) is kept in the store until a push touches the customer; the
        answer, which also reads today's portfolio medians and the stored memory, until any
        push or until the memory differs.
        """
        as_of = self.as_of(as_of)
        self.check_customer(customer_id, as_of)
        remembered = self.memory([customer_id], as_of)

        def decide() -> tuple[CustomerScores, dict[str, Any], Changes]:  # kept: (body, changes)
            kept = self._kept_prepared(self.store, customer_id, as_of)
            prepared = PreparedCustomers(
                as_of, kept.features.copy(), kept.default_state.copy(), kept.invoices.copy()
            )  # the policy's steps must not change what is kept
            result = self._decide(prepared, lang, remembered)
            body = EncodedBody(customer_response(result, customer_id, self.bundle, lang))
            return result, body, result.alerts.changes(as_of)

        if improve:
            result, body, changes = decide()
            grade = (
                1 if body["in_default"] else int(body["grade"])
            )  # in default: the cure, not a payment, lifts it
            ledger = self.store.customer_ledger(customer_id)
            found = to_improve(self.bundle, ledger, customer_id, as_of, grade, result.open_invoices)
            body = {**body, "to_improve": to_jsonable([item.record(lang) for item in found])}
        else:  # the same inputs give the same answer: kept until a push, or until the memory differs
            key = (as_of, customer_id, lang, remembered)
            body, changes = self._answers.get(key, lambda: decide()[1:])
        self._record(as_of, changes)
        if (changes[0] or changes[1]) and self._today_wanted is not None and as_of == self.data_end:
            with self._asked_lock:  # its next answer reads the memory this one changed: work it out ahead
                self._asked_again.add(customer_id)
            self._today_wanted.set()
        return body

    def _kept_prepared(self, store: OnlineFeatureStore, customer_id: str, as_of: date) -> PreparedCustomers:
        """The customer's scoring inputs at ``as_of``: the data end's when held, else worked out on its own rows; kept in ``store``."""

        def prepare() -> PreparedCustomers:
            today = self.today
            found = today.customer(customer_id) if today is not None and today.as_of == as_of else None
            if found is not None:
                return found
            ledger = store.customer_ledger(customer_id)
            return prepare_scored_customers(self.bundle, ledger, as_of, store.frame(customer_id, as_of))

        return store.kept(customer_id, as_of, "prepared", prepare)

    def score_history(
        self, customer_id: str, history: History, as_of: date | None, lang: str
    ) -> dict[str, Any]:
        """Score one customer of an inline history (what-if); stored scores and alerts are not consulted."""
        ledger = history_ledger(history)
        onboarded = _onboarding_dates(ledger)
        if customer_id not in onboarded:
            message = f"customer_id {customer_id!r} is not among history.customers; add its row or fix the id"
            raise ApiError(422, message, [{"field": "customer_id", "message": message}])
        as_of = as_of or ledger.data_end or onboarded[customer_id]
        if onboarded[customer_id] > as_of:
            message = (
                f"customer {customer_id!r} was onboarded on {onboarded[customer_id]}, after as_of {as_of}"
            )
            raise ApiError(422, message, [{"field": "as_of", "message": message}])
        result = self._score(ledger, [customer_id], as_of, lang, memory=False)
        return to_jsonable(customer_response(result, customer_id, self.bundle, lang))

    def score_batch(self, customer_ids: Sequence[str], as_of: date | None, lang: str) -> dict[str, Any]:
        """Scores of many customers as of one date; unknown or not yet onboarded ones are listed apart."""
        as_of = self.as_of(as_of)
        wanted, not_scored = [], []
        for customer_id in dict.fromkeys(customer_ids):
            try:
                self.check_customer(customer_id, as_of)
                wanted.append(customer_id)
            except ApiError as err:
                not_scored.append({"customer_id": customer_id, "error": err.error})
        results = []
        if wanted:
            result = self._score(self.ledger, wanted, as_of, lang)
            bodies = customer_responses(result, wanted, self.bundle, lang)
            results = [to_jsonable(bodies[c]) for c in wanted]
        return {"as_of": as_of.isoformat(), "results": results, "not_scored": not_scored, **self.versions()}

    def invoice_risk(
        self, customer_id: str | None, invoice_ids: Sequence[str] | None, as_of: date | None, lang: str
    ) -> dict[str, Any]:
        """Late-payment risk of a customer's open invoices at ``as_of``, or of the invoices named.

        Without a late-payment model the invoices are listed with empty probabilities, and
        ``notes`` says why.
        """
        as_of = self.as_of(as_of)
        if invoice_ids is None:
            assert customer_id is not None  # the request schema asks for one of the two
            self.check_customer(customer_id, as_of)
            groups: dict[str, list[str] | None] = {customer_id: None}
        else:
            groups = self._invoice_groups(list(dict.fromkeys(invoice_ids)), customer_id, as_of)
        invoices = []
        for owner, ids in groups.items():
            ledger = self.store.customer_ledger(owner)
            invoices += invoice_risk(self.bundle, ledger, customer_invoices(ledger, as_of, ids), lang)
        if invoice_ids is not None:
            order = {invoice_id: i for i, invoice_id in enumerate(invoice_ids)}
            invoices.sort(key=lambda record: order[record["invoice_id"]])
        return {
            "as_of": as_of.isoformat(),
            "invoices": invoices,
            "model_version": f"late_payment:{self.bundle.versions.get('late_payment', '')}",
            "policy_version": self.bundle.policy.version,
            "notes": missing_model_notes(self.bundle, lang, scores=False),
        }

    def _invoice_groups(
        self, invoice_ids: list[str], customer_id: str | None, as_of: date
    ) -> dict[str, list[str] | None]:
        """Named invoices grouped by customer, after checking they exist, belong and were issued by ``as_of``."""
        problems: list[tuple[int, str, str]] = []  # (status, invoice_id, message)
        for invoice_id in invoice_ids:
            owner = self.invoice_owner.get(invoice_id)
            if owner is None:
                problems.append((404, invoice_id, "unknown invoice"))
            elif customer_id is not None and owner != customer_id:
                problems.append((422, invoice_id, f"belongs to another customer than {customer_id!r}"))
            elif self.invoice_issued[invoice_id] > as_of:
                problems.append(
                    (422, invoice_id, f"issued on {self.invoice_issued[invoice_id]}, after as_of {as_of}")
                )
        if problems:
            status = 404 if all(p[0] == 404 for p in problems) else 422
            detail = [
                {"field": f"invoice_ids[{invoice_ids.index(i)}]", "message": f"{i}: {m}"}
                for _, i, m in problems
            ]
            raise ApiError(
                status,
                f"{len(problems)} invoice id(s) cannot be scored; first: {detail[0]['message']}",
                detail,
            )
        groups: dict[str, list[str] | None] = {}
        for invoice_id in invoice_ids:
            groups.setdefault(self.invoice_owner[invoice_id], []).append(invoice_id)  # type: ignore[union-attr]
        return groups

    def onboard(
        self, application: Mapping[str, Any], requested_limit: float | None, lang: str
    ) -> dict[str, Any]:
        """The ``POST /onboard`` body: decision on an application from its firmographic data."""
        return to_jsonable(onboard(self.bundle, application, requested_limit, lang))

    def portfolio(self, as_of: date | None, lang: str, top_alerts: int) -> dict[str, Any]:
        """Grade distribution and top alerts of the customers active at ``as_of`` (scored once per date and language)."""
        as_of = self.as_of(as_of)
        result = self._portfolios.get(
            (as_of, lang), lambda: score_customers(self.bundle, self.ledger, as_of, lang=lang)
        )
        return {
            **portfolio_summary(result, top_alerts),
            "basis": self.bundle.basis,
            **self.versions(),
            "notes": missing_model_notes(self.bundle, lang, invoices=False),
        }

    def cash_forecast(
        self, customer_id: str | None, as_of: date | None, weeks: int, lang: str
    ) -> dict[str, Any]:
        """Expected cash-in by week of the open invoices at ``as_of``: the portfolio's (computed once per date and length) or one customer's.

        Without a late-payment model the open book is given, ``weeks`` is empty and ``notes`` says why.
        """
        as_of = self.as_of(as_of)
        if customer_id is not None:
            self.check_customer(customer_id, as_of)
        model = self.bundle.late_payment
        ledger = self.ledger if customer_id is None else self.store.customer_ledger(customer_id)
        head = {"as_of": as_of.isoformat(), "customer_id": customer_id}
        version = {"model_version": f"late_payment:{self.bundle.versions.get('late_payment', '')}"}
        if model is None:
            invoices = open_invoices(ledger, as_of)
            return {
                **head,
                "open_amount": float(invoices["open_amount"].sum()),
                "n_invoices": len(invoices),
                "expected_in_weeks": None,
                "remaining": None,
                "weeks": [],
                **version,
                "notes": [render("note.no_cash_forecast", lang)],
            }
        if customer_id is None:
            forecast = self._forecasts.get(
                (as_of, weeks), lambda: cash_forecast(model, self.ledger, as_of, weeks)
            )
        else:
            forecast = cash_forecast(model, ledger, as_of, weeks)
        return to_jsonable({**head, **forecast.to_dict(), **version, "notes": []})

    def versions(self) -> dict[str, str]:
        return {"model_version": self.bundle.model_version, "policy_version": self.bundle.policy.version}

    def status(self) -> dict[str, Any]:
        """Champion versions, policy version, what grades customers and applications, and the ledger served."""
        return {
            "status": "ready",
            **self.versions(),
            "models": dict(self.bundle.versions),
            "basis": {
                "score": self.bundle.basis,
                "onboard": "rules" if self.bundle.onboarding is None else "model",
            },
            "ledger": self._ledger_info(),
            "started_at": self.started_at.isoformat(timespec="seconds"),
        }

    def _ledger_info(self) -> dict[str, Any]:
        return {
            "source": _safe_source(self.ledger.source),
            "customers": self.ledger.customers.num_rows,
            "invoices": self.ledger.invoices.num_rows,
            "payments": self.ledger.payments.num_rows,
            "data_end": self.data_end.isoformat(),
            "pushed_rows": self.pushed_rows,
        }


class ReadWriteLock:
    """Many readers at once, or one writer; a waiting writer goes before readers that come after it.

    Requests read the served ledger; a push writes a new one. Once a push is answered,
    every later request reads the ledger with it.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._condition:
            while self._writing or self._writers_waiting:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                self._condition.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._condition.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()


def _safe_source(source: str) -> str:
    """A ledger source fit to show: database URLs lose their password."""
    if "://" not in source:
        return source
    from sqlalchemy.engine import make_url

    return make_url(source).render_as_string(hide_password=True)
