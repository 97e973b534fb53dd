# riskmodel — the two commands: `make serve` and `make test`.
# Both build .venv/ from the pinned requirements.lock on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

export BENTOML_DO_NOT_TRACK := True
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

SAMPLE := data/sample
# The committed sample: 1,000 customers, seed 0, CSV; the generator's default period (2021–2025) and customer_history.
SAMPLE_ARGS := --customers 1000 --seed 0 --format csv
HOST ?= 127.0.0.1
PORT ?= 3000

.PHONY: install test serve sample lint bench clean report browser bento

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

test: install browser
	$(BIN)/python -m pytest

# Headless Chromium for the console tests (CI runs as root on a fresh Debian machine); never a browser download.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver) || \
		echo "riskmodel: chromium could not be installed; the console tests will be skipped" >&2

lint: install
	$(BIN)/ruff check src tests training serving benchmarks
	$(BIN)/ruff format --check src tests training serving benchmarks

# Sample ledger if missing, training if riskmodel-default has no champion, a local API key if none, then the service.
serve: install
	@test -f $(SAMPLE)/customers.csv || $(BIN)/riskmodel sample --out $(SAMPLE) $(SAMPLE_ARGS)
	$(BIN)/riskmodel serve --host $(HOST) --port $(PORT) --ledger $(SAMPLE) --train-if-missing --create-key

# A Bento of the service (code, console, pinned requirements; models come from the MLflow registry at start).
bento: install serving/requirements.txt
	$(BIN)/bentoml build -f serving/bentofile.yaml .

serving/requirements.txt: pyproject.toml requirements.lock
	$(BIN)/uv pip compile pyproject.toml -c requirements.lock --python-version 3.11 --no-annotate -o $@

sample: install
	$(BIN)/riskmodel sample --out $(SAMPLE) $(SAMPLE_ARGS)

bench: install
	$(BIN)/python benchmarks/bench_generate.py

report: install
	@test -f mlflow.db || test -n "$$MLFLOW_TRACKING_URI" || $(BIN)/riskmodel train $(SAMPLE)
	$(BIN)/riskmodel report --ledger $(SAMPLE) --out reports/validation.html

clean:
	rm -rf $(VENV) .pytest_cache
