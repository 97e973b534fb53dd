"""``riskmodel backtest`` on a small generated ledger: walk-forward training, the JSON contract, the files, bad dates."""

from __future__ import annotations

import contextlib
import io
import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel import policy as policy_package
from riskmodel.backtest import rescore_months, train_at_start
from riskmodel.cli import main
from riskmodel.features.asof import truncate_ledger
from riskmodel.ledger import load_ledger
from riskmodel.ledger.tables import Ledger
from riskmodel.ledger.write import write_tables
from riskmodel.models import load_train_config
from riskmodel.policy import load_policy
from riskmodel.sample import make_sample_tables
from riskmodel.store import ResultsStore

START, END = date(2024, 12, 31), date(2025, 3, 31)
FAST_BACKTEST_CONFIG = """
gbm: {n_estimators: 40, early_stopping_rounds: 10, min_child_samples: 20}
validation_share: 0.1
cv_folds: 2
min_positives: 1
min_train_positives: 1
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backtest") / "ledger"
    write_tables(make_sample_tables(n_customers=300, seed=11), path, fmt="csv")
    return path


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backtest_config") / "train.yaml"
    path.write_text(FAST_BACKTEST_CONFIG, encoding="utf-8")
    return path


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-q", "backtest", *args])
    return code, out.getvalue(), err.getvalue()


def window(folder: Path) -> tuple[str, ...]:
    """The ledger and the backtest's dates, as CLI arguments."""
    return str(folder), "--start", START.isoformat(), "--end", END.isoformat()


def test_backtest_prints_the_contract_and_writes_its_tables_and_figures(
    folder: Path, config_file: Path, tmp_path: Path
) -> None:
    code, out, err = run_cli(*window(folder), "--out", str(tmp_path / "bt"), "--config", str(config_file))
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    for key in (
        "months",
        "defaults",
        "default_recall_30d",
        "alert_precision",
        "base_rate",
        "lift",
        "new_alert_rate",
        "limits_raised_share",
        "limits_cut_share",
        "limits_unchanged_share",
        "ead_current_limits",
        "ead_recommended_limits",
        "good_limit_current",
        "good_limit_recommended",
    ):
        assert key in summary, key
    assert summary["months"] == 3 and summary["basis"] == "model"
    assert 0 <= summary["new_alert_rate"] <= 1 and 0 < summary["base_rate"] < 1
    shares = summary["limits_raised_share"] + summary["limits_cut_share"] + summary["limits_unchanged_share"]
    assert shares == pytest.approx(1.0, abs=1e-3)
    files = {path.name for path in (tmp_path / "bt").iterdir()}
    assert files >= {
        "summary.json",
        "monthly.csv",
        "defaults.csv",
        "alerts.png",
        "limits.png",
        "lead_time.png",
    }
    assert json.loads((tmp_path / "bt" / "summary.json").read_text()) == summary


def _scores_at_start(ledger: Ledger, trained_on: Ledger, folder: Path) -> np.ndarray:
    policy = load_policy()
    config = load_train_config(folder.parent / "train.yaml")
    bundle = train_at_start(trained_on, START, f"sqlite:///{folder / 'mlflow.db'}", config, policy)
    store = ResultsStore(f"sqlite:///{folder / 'results.db'}")
    try:
        scores, _ = rescore_months(ledger, bundle, [START], store)
    finally:
        store.close()
    return scores.sort_values("customer_id")["pd_12m"].to_numpy()


def test_the_model_sees_nothing_after_the_start(folder: Path, config_file: Path, tmp_path: Path) -> None:
    ledger = load_ledger(folder)
    (tmp_path / "train.yaml").write_text(config_file.read_text(), encoding="utf-8")
    (tmp_path / "full").mkdir()
    (tmp_path / "cut").mkdir()
    full = _scores_at_start(ledger, ledger, tmp_path / "full")
    cut = _scores_at_start(ledger, truncate_ledger(ledger, START), tmp_path / "cut")
    assert len(full) > 100
    np.testing.assert_array_equal(full, cut)


def test_a_ledger_too_short_for_the_outcomes_is_refused_before_training(folder: Path) -> None:
    code, _, err = run_cli(str(folder), "--start", "2025-03-31", "--end", "2025-09-30")
    assert code == 2
    assert "the ledger ends on 2025-12-31" in err and "read until 2026-03-30" in err
    assert "pass an --end of 2025-06-30 or earlier" in err


def test_a_challenger_policy_is_judged_on_the_same_scores_side_by_side(
    folder: Path, config_file: Path, tmp_path: Path
) -> None:
    shipped = (Path(policy_package.__file__).parent / "policy.yaml").read_text(encoding="utf-8")
    halved = re.sub(r"(?m)^version: .*$", 'version: "challenger-halved"', shipped)
    halved = re.sub(
        r"grade_multiplier: \[.*\]",
        "grade_multiplier: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.3, 0.1, 0.0]",
        halved,
    )
    (tmp_path / "halved.yaml").write_text(halved, encoding="utf-8")
    code, out, err = run_cli(
        *window(folder),
        "--config",
        str(config_file),
        "--challenger-policy",
        str(tmp_path / "halved.yaml"),
        "--out",
        str(tmp_path / "bt"),
    )
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    challenger = summary["challenger"]
    assert challenger["policy_version"] == "challenger-halved" != summary["policy_version"]
    for same in ("default_recall_30d", "alert_precision", "new_alert_rate", "ead_current_limits"):
        assert challenger[same] == summary[same], same  # same model, same alert rules
    assert challenger["limits_cut_share"] > summary["limits_cut_share"]
    table = pd.read_csv(tmp_path / "bt" / "comparison.csv").set_index("figure")
    assert table.loc["limits_cut_share", "change"] == pytest.approx(
        challenger["limits_cut_share"] - summary["limits_cut_share"], abs=1e-4
    )
    assert (tmp_path / "bt" / "challenger" / "summary.json").is_file()
    assert "current against challenger" in out


def test_an_unreadable_challenger_policy_fails_before_training(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("credit_limit: [\n", encoding="utf-8")
    code, _, err = run_cli(*window(folder), "--challenger-policy", str(tmp_path / "broken.yaml"))
    assert code == 2
    assert "broken.yaml" in err and "training the default model" not in err
