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

.PHONY: install test serve sample lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests training serving benchmarks
	$(BIN)/ruff format --check src tests training serving benchmarks

serve: install
	@test -f $(SAMPLE)/customers.csv || $(BIN)/riskmodel sample --out $(SAMPLE) --customers 1000 --seed 0
	$(BIN)/riskmodel validate $(SAMPLE) --quarantine quarantine
	@echo "riskmodel: the scoring service is not built yet, so nothing is being served." >&2
	@echo "riskmodel: the sample ledger above is valid; see README.md, section 'Status'." >&2
	@exit 1

sample: install
	$(BIN)/riskmodel sample --out $(SAMPLE) --customers 1000 --seed 0 --format csv

bench: install
	$(BIN)/python benchmarks/bench_generate.py

clean:
	rm -rf $(VENV) .pytest_cache
