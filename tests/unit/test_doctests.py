"""The examples in the docstrings of ``src/riskmodel`` run and print what they show.

One test per module that has examples, so ``make test`` runs them with everything else.
Modules are found by file (no import at collection) and imported in the test: a module
that needs an optional extra which is not installed (``pyspark``) is skipped, not failed.
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

import riskmodel

PACKAGE = Path(riskmodel.__file__).resolve().parent
OPTIONAL_EXTRAS = {"pyspark"}


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("module_name", _modules_with_examples())
def test_docstring_examples_run(module_name):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in OPTIONAL_EXTRAS:
            pytest.skip(f"{module_name} needs the optional {error.name!r}")
        raise
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    output = io.StringIO()
    tests = finder.find(module, module_name)
    for test in tests:
        runner.run(test, out=output.write)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{module_name} has '>>>' but no docstring example doctest can find"
    assert result.failed == 0, output.getvalue()
