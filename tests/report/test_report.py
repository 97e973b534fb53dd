"""The notebooks run headless on the sample, and `riskmodel report` writes a complete HTML report logged to MLflow."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from riskmodel.cli import main
from riskmodel.exceptions import ReportError
from riskmodel.validation.report import (
    REPORT_ARTIFACT_PATH,
    count_figures,
    execute_notebook,
    export_html,
    inject_parameters,
    read_notebook,
)
from tests.conftest import REPO, SAMPLE

NOTEBOOKS = REPO / "notebooks"

VALIDATION_SECTIONS = [
    "1. Scope and data",
    "2. Out-of-time discrimination",
    "3. Calibration",
    "4. Stability",
    "5. Explanations",
    "6. Benchmark against the logistic scorecard",
    "7. Grades: distribution and migration",
    "8. Credit policy on the portfolio",
    "9. Cash-in forecast",
    "10. Decisions against outcomes (backtest)",
    "11. Summary for sign-off",
]
EXPLORATION_SECTIONS = [
    "1. Data quality",
    "2. Volumes over time",
    "3. Aging",
    "4. Days beyond terms",
    "5. DSO trend",
    "6. Default and late payment by segment",
]
# ROC, grade calibration, reliability, PSI, 3 SHAP summaries, 3 dependence, grade distribution, migration, exposure,
# cash-in forecast, backtest alerts, limits and lead time
VALIDATION_FIGURES = 17
EXPLORATION_FIGURES = 5


def _headings(html: str, level: int) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", h).strip("¶ ") for h in re.findall(rf"<h{level}[^>]*>(.*?)</h{level}>", html)
    ]


@pytest.fixture(scope="module")
def validation_report(sample_models: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(stdout, HTML) of `riskmodel report` on the sample models."""
    out = tmp_path_factory.mktemp("report") / "validation.html"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(
            ["-q", "report", "--tracking-uri", sample_models, "--ledger", str(SAMPLE), "--out", str(out)]
        )
    assert code == 0
    return stdout.getvalue(), out.read_text(encoding="utf-8")


@pytest.mark.slow
def test_report_has_every_section_in_order(validation_report):
    _, html = validation_report
    assert _headings(html, 1) == ["Model validation report"]
    assert _headings(html, 2) == VALIDATION_SECTIONS


@pytest.mark.slow
def test_report_embeds_every_figure_and_loads_nothing_from_the_web(validation_report):
    stdout, html = validation_report
    assert count_figures(html) >= VALIDATION_FIGURES
    assert f"({count_figures(html)} figures" in stdout
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", html)


@pytest.mark.slow
def test_report_hides_the_code_and_shows_no_error(validation_report):
    _, html = validation_report
    assert "from riskmodel" not in html and "import " not in html
    assert "Traceback" not in html


@pytest.mark.slow
def test_report_reproduces_the_runs_own_out_of_time_validation(validation_report):
    _, html = validation_report
    matched = re.search(r"(\d+) of (\d+) checks match", html)
    assert matched and matched.group(1) == matched.group(2) and int(matched.group(2)) == 3 * 14


@pytest.mark.slow
def test_report_is_logged_to_the_default_champions_run(validation_report, sample_models):
    stdout, _ = validation_report
    client = MlflowClient(tracking_uri=sample_models, registry_uri=sample_models)
    run_id = client.get_model_version_by_alias("riskmodel-default", "champion").run_id
    assert f"logged to MLflow run {run_id}" in stdout
    logged = [a.path for a in client.list_artifacts(run_id, REPORT_ARTIFACT_PATH)]
    assert logged == [f"{REPORT_ARTIFACT_PATH}/validation.html"]


@pytest.mark.slow
def test_exploration_notebook_runs_on_the_sample_with_every_section(tmp_path):
    notebook = inject_parameters(
        read_notebook(NOTEBOOKS / "01_explore_ledger.py"), {"ledger_dir": str(SAMPLE)}
    )
    html = export_html(execute_notebook(notebook, tmp_path))
    assert _headings(html, 2) == EXPLORATION_SECTIONS
    assert count_figures(html) >= EXPLORATION_FIGURES
    assert "All rows accepted" in html


def test_parameters_are_injected_right_after_the_parameters_cell():
    notebook = read_notebook(NOTEBOOKS / "02_model_validation.py")
    injected = inject_parameters(notebook, {"ledger_dir": "/data/ledger", "n_bootstrap": 10})
    position = next(i for i, c in enumerate(injected.cells) if "parameters" in c.metadata.get("tags", []))
    assert injected.cells[position + 1].source == "ledger_dir = '/data/ledger'\nn_bootstrap = 10"
    assert len(injected.cells) == len(notebook.cells) + 1


def test_a_notebook_without_a_parameters_cell_is_refused(tmp_path: Path):
    script = tmp_path / "plain.py"
    script.write_text("# %%\nx = 1\n", encoding="utf-8")
    with pytest.raises(ReportError, match="no cell tagged 'parameters'"):
        inject_parameters(read_notebook(script), {"x": 2})


def test_a_missing_notebook_is_named():
    with pytest.raises(ReportError, match="missing.py does not exist"):
        read_notebook(NOTEBOOKS / "missing.py")


@pytest.mark.slow
def test_report_without_a_default_champion_names_the_fix(tmp_path, capsys):
    uri = f"sqlite:///{tmp_path / 'empty.db'}"
    code = main(["-q", "report", "--tracking-uri", uri, "--out", str(tmp_path / "report.html")])
    assert code == 2
    assert "no version of 'riskmodel-default' is 'champion'" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_report_without_the_notebooks_folder_names_it_and_the_fix(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    code = main(["-q", "report", "--notebooks", str(missing), "--out", str(tmp_path / "report.html")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--notebooks {missing}: no 02_model_validation.py" in err and "pass --notebooks DIR" in err
    assert not (tmp_path / "report.html").exists()
