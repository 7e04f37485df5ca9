# 人才直达车助手 — every command a newcomer needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6.21 supports only Python < 3.11; every machine of ours has 3.10.13 under pyenv.
PYTHON_VERSION := 3.10.13
PYTHON_BASE ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/$(PYTHON_VERSION)/bin/python
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODELS_DIR ?= models
MODEL := $(MODELS_DIR)/assistant.tar.gz
TOOLS_DIR := var/tools

# A government service calls no outside host: Rasa's telemetry is off in every process we start.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export MODELS_DIR

.PHONY: help venv system-deps domain train run shell test test-unit test-e2e eval bench bench-gateway lint format validate clean \
	run-cluster test-cluster bench-cluster validate-deploy

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt constraints.txt bot/requirements.txt
	@test -x "$(PYTHON_BASE)" || { echo "CPython $(PYTHON_VERSION) not found at $(PYTHON_BASE) (Rasa 3.6 needs Python < 3.11); install it with: pyenv install $(PYTHON_VERSION)" >&2; exit 1; }
	@test -d $(VENV) || "$(PYTHON_BASE)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip 'setuptools<70' wheel
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	@touch $@

venv: $(VENV)/.installed ## set up .venv (Python 3.10.13, pinned packages)

system-deps: ## install the Debian packages: Chromium + CJK font (browser tests), Redis + HAProxy (cluster)
	@bash scripts/install_system_deps.sh

# Not a prerequisite of train: CI must not regenerate silently (tests/scripts/test_make_domain.py fails when
# domain/profile.yml is stale).
domain: venv ## regenerate domain/profile.yml (the domain's profile part) from policies/profile.yml
	$(PY) scripts/make_domain.py

train: venv ## train the Rasa model if its inputs changed (cached in $(MODELS_DIR)/)
	$(PY) scripts/train_if_changed.py --out $(MODELS_DIR)

run: train ## start action server, Rasa server and gateway in the foreground (Ctrl-C stops all)
	@bash scripts/run_services.sh

shell: venv ## chat in the terminal with the running assistant (start `make run` first)
	@$(PY) scripts/chat.py

validate: venv ## check policy data and Rasa training data
	$(PY) -m policies validate
	$(RASA) data validate --domain domain --fail-on-warnings

lint: venv ## ruff lint
	$(PY) -m ruff check .

format: venv ## ruff format + autofix
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test-unit: venv ## fast tests: policies, nlu components, actions, gateway (no trained model)
	$(PY) -m pytest -m "not e2e" -q

# The NLU quality bar (both languages) first; then the test stories with --e2e: they carry the person's
# words, so every message goes through the trained NLU (intent and entities must match) before the
# dialogue's actions are checked; then the end-to-end tests against the running assistant.
test-e2e: train system-deps ## with the trained model: NLU bar (zh + en), test stories through NLU, end-to-end tests (services started by the tests)
	$(PY) scripts/nlu_eval.py --model $(MODEL) --check
	$(RASA) test core --e2e --stories tests/stories --model $(MODEL) --fail-on-prediction-errors --out var/results/core
	$(PY) -m pytest -m e2e -q

test: lint validate validate-deploy test-unit test-e2e test-cluster ## everything CI runs (test-cluster adds 4–7 min on 2 shared cores: 259–386 s measured)

.PHONY: export-reviewed
export-reviewed: venv ## reviewed messages of the console's review queue -> data/nlu/reviewed_<date>.yml (every 5th: tests/nlu_eval/)
	$(PY) scripts/export_reviewed.py

eval: train ## NLU quality on the held-out splits (intent accuracy, entity F1), Chinese and English
	$(PY) scripts/nlu_eval.py --model $(MODEL)

bench: train ## benchmarks: policy engine, questions until settled, per-turn latency (written to docs/FIGURES.md)
	$(PY) benchmarks/bench_policies.py
	$(PY) benchmarks/bench_questions.py
	$(PY) benchmarks/bench_turns.py --model $(MODEL)

bench-gateway: train ## gateway benchmark: 20 WeChat users (think time + stress); starts the assistant (RASA_NODES, default 1) unless RASA_URL is set
	$(PY) benchmarks/bench_gateway.py $${RASA_URL:+--rasa-url $$RASA_URL} --nodes $${RASA_NODES:-1} --users 20 --turns 6

run-cluster: train system-deps ## the scaled topology on this machine: HAProxy :8080 -> 2 gateways -> 2 Rasa -> 2 action servers, PostgreSQL + Redis under var/cluster
	$(PY) -m scripts.cluster run --port $${BOT_PORT:-8080}

$(TOOLS_DIR)/.installed: deploy/validators.txt
	@test -d $(TOOLS_DIR) || "$(PYTHON_BASE)" -m venv $(TOOLS_DIR)
	$(TOOLS_DIR)/bin/pip install --quiet -r deploy/validators.txt
	@touch $@

validate-deploy: venv $(TOOLS_DIR)/.installed ## schema-check deploy/ (Kubernetes manifests, compose file, HAProxy configs); nothing is deployed
	$(PY) -m pytest tests/cluster/test_deploy_files.py -q

# Cluster tests start the whole topology (Rasa: the trained model) once, prove that nothing is tied to
# one gateway, then run the fault test (kills one gateway, one Rasa node, one action server).
test-cluster: train system-deps validate-deploy ## cluster tests: cross-gateway events/dedupe/limits/claims and the fault test, counts printed
	CLUSTER_RECORD_FIGURES=1 $(PY) -m pytest tests/cluster -m cluster -q -s

bench-cluster: train system-deps ## gateway benchmark through the load balancer: 1 vs 2 Rasa nodes, same load, same run
	$(PY) benchmarks/bench_cluster.py --users 20 --turns 6 --record

clean: ## remove runtime artefacts (models, databases, logs) — keeps .venv
	rm -rf $(MODELS_DIR) var results .rasa
