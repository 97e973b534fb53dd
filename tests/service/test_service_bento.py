"""serving/bentofile.yaml builds a Bento holding the service, the console and the library, without network access."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def bento(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bentoml_home")
    env = os.environ | {"BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"}
    command = [sys.executable, "-m", "bentoml", "build", "-f", "serving/bentofile.yaml", "."]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (built,) = (home / "bentos" / "riskmodel").glob("*/bento.yaml")
    return built.parent


def test_bento_holds_service_console_and_library(bento):
    src = bento / "src"
    assert (src / "serving" / "service.py").is_file()
    assert (src / "serving" / "console" / "index.html").is_file()
    assert (src / "riskmodel" / "service" / "api.py").is_file()
    assert (src / "riskmodel" / "policy" / "policy.yaml").is_file()
    assert not list(src.rglob("__pycache__"))


def test_bento_pins_the_runtime_requirements(bento):
    pins = (bento / "env" / "python" / "requirements.txt").read_text(encoding="utf-8")
    assert "bentoml==" in pins and "mlflow==" in pins and "pytest" not in pins


def test_bento_names_the_service(bento):
    info = yaml.safe_load((bento / "bento.yaml").read_text(encoding="utf-8"))
    assert info["service"] == "serving.service:RiskService" and info["name"] == "riskmodel"
