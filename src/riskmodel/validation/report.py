"""The validation report: run the validation notebook headless, export it as one HTML file, log it to MLflow.

The notebook (a jupytext percent script) runs on an IPython kernel of the running
interpreter, so the report works wherever ``riskmodel`` is installed, without a Jupyter
installation, a registered kernelspec or network access. The HTML hides the code and
embeds every figure as a base64 PNG. The notebook's path comes in as an argument (the
``riskmodel report`` command finds it under ``--notebooks``).
"""

from __future__ import annotations

import copy
import logging
import re
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipykernel
import jupytext
import nbformat
import pandas as pd
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_float_dtype, is_integer_dtype
from pandas.io.formats.style import Styler

from riskmodel.exceptions import ReportError

logger = logging.getLogger(__name__)

VALIDATION_NOTEBOOK = "02_model_validation.py"  # file name in the notebooks folder
REPORT_ARTIFACT_PATH = "validation_report"
REPORT_MODEL = "riskmodel-default"  # the report is logged to this model's champion run
TITLE = "riskmodel model validation report"
EMBEDDED_PNG = re.compile(r"<img[^>]+src=\"data:image/png;base64,")


class _InterpreterKernelSpecs(KernelSpecManager):
    """Resolves every kernel name to an IPython kernel on this interpreter (``sys.executable``).

    A ``python3`` kernelspec installed elsewhere on the machine (another Python, without
    riskmodel) is never picked.
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python {sys.version_info.major}.{sys.version_info.minor} (riskmodel)",
            language="python",
            resource_dir=str(Path(ipykernel.__file__).parent / "resources"),
        )


@dataclass(frozen=True)
class ReportResult:
    """Where the report went, how many figures it embeds, how long it took, and the run it was logged to."""

    path: Path
    figures: int
    seconds: float
    run_id: str | None


def styled_table(frame: pd.DataFrame, decimals: int = 4) -> Styler:
    """``frame`` for display: no index, dates as dates, large numbers with thousands separators, others to ``decimals`` places."""
    formats = {}
    for name in frame.columns:
        column = frame[name]
        if is_float_dtype(column):
            large = column.abs().max() >= 1000 if column.notna().any() else False
            formats[name] = "{:,.0f}" if large else f"{{:.{decimals}f}}"
        elif is_integer_dtype(column) and not is_bool_dtype(column):
            formats[name] = "{:,}"
        elif is_datetime64_any_dtype(column):
            formats[name] = "{:%Y-%m-%d}"
    return frame.style.format(formats, na_rep="").hide(axis="index")


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """A notebook from a jupytext script (``.py``) or an ``.ipynb`` file."""
    if not path.is_file():
        raise ReportError(
            f"notebook {path} does not exist; pass the folder that holds the riskmodel notebooks "
            "(riskmodel report --notebooks DIR)"
        )
    return jupytext.read(path)


def inject_parameters(
    notebook: nbformat.NotebookNode, parameters: Mapping[str, Any]
) -> nbformat.NotebookNode:
    """A copy of ``notebook`` with a cell assigning ``parameters`` right after the cell tagged ``parameters``.

    Raises
    ------
    ReportError
        When no cell carries the ``parameters`` tag.
    """
    notebook = copy.deepcopy(notebook)
    tagged = [
        i for i, cell in enumerate(notebook.cells) if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if not tagged:
        raise ReportError("the notebook has no cell tagged 'parameters'; tag the cell that sets the defaults")
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(tagged[0] + 1, cell)
    return notebook


def execute_notebook(notebook: nbformat.NotebookNode, cwd: Path, timeout: int = 900) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` in a fresh kernel started in ``cwd``; returns it with outputs.

    Raises
    ------
    ReportError
        When a cell raises; the message carries the cell's error.
    """
    with tempfile.TemporaryDirectory() as sockets:  # local sockets, not TCP ports, removed afterwards
        kernel = AsyncKernelManager(
            kernel_spec_manager=_InterpreterKernelSpecs(),
            kernel_name="python3",
            transport="ipc",
            ip=str(Path(sockets) / "kernel"),
        )
        client = NotebookClient(
            notebook,
            km=kernel,
            timeout=timeout,
            resources={"metadata": {"path": str(cwd)}},
            allow_errors=False,
        )
        try:
            client.execute()
        except CellExecutionError as err:
            raise ReportError(f"a notebook cell failed: {err}") from err
    return notebook


def _without_stderr(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without stderr streams (warnings, log lines, progress bars): they are not part of the report."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    return notebook


def export_html(notebook: nbformat.NotebookNode, title: str = TITLE) -> str:
    """Self-contained HTML of an executed notebook: code hidden, figures embedded, no script loaded from the web."""
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        mathjax_url="",
        require_js_url="",
    )
    body, _ = exporter.from_notebook_node(_without_stderr(notebook), resources={"metadata": {"name": title}})
    return body


def count_figures(html: str) -> int:
    """Number of embedded PNG images in an HTML report."""
    return len(EMBEDDED_PNG.findall(html))


def _require_champion(tracking_uri: str, registered_name: str = REPORT_MODEL) -> str:
    """The run id of ``registered_name``'s champion; a :class:`ReportError` naming the fix when there is none."""
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        return client.get_model_version_by_alias(registered_name, "champion").run_id
    except MlflowException as err:
        raise ReportError(
            f"no version of '{registered_name}' is 'champion' in {tracking_uri}; "
            "run 'riskmodel train data/sample' (or pass --tracking-uri) first"
        ) from err


def log_report(path: Path, tracking_uri: str, registered_name: str = REPORT_MODEL) -> str:
    """Log ``path`` under ``validation_report/`` of the run that trained ``registered_name``'s champion; its run id."""
    from mlflow.tracking import MlflowClient

    run_id = _require_champion(tracking_uri, registered_name)
    MlflowClient(tracking_uri=tracking_uri).log_artifact(run_id, str(path), REPORT_ARTIFACT_PATH)
    logger.info("logged %s to run %s (%s champion)", path.name, run_id, registered_name)
    return run_id


def build_report(
    tracking_uri: str,
    ledger: str | Path,
    out: Path,
    notebook: Path,
    parameters: Mapping[str, Any] | None = None,
    log_to_mlflow: bool = True,
) -> ReportResult:
    """Execute the validation notebook ``notebook`` against ``tracking_uri`` and ``ledger``, write ``out`` (HTML), log it.

    ``parameters`` override further notebook parameters (``n_bootstrap``, ``policy_file``, ...).
    The kernel runs in the current folder, so relative paths mean what they mean here.
    """
    started = time.perf_counter()
    _require_champion(tracking_uri)
    values = {"tracking_uri": tracking_uri, "ledger_dir": str(ledger), **(parameters or {})}
    executed = execute_notebook(inject_parameters(read_notebook(notebook), values), Path.cwd())
    html = export_html(executed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    run_id = log_report(out, tracking_uri) if log_to_mlflow else None
    return ReportResult(out, count_figures(html), time.perf_counter() - started, run_id)
