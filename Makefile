# make demo · make test · make bench · make deploy: thin wrappers; each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SETUP := $(VENV)/.setup-done
SHARED := ../shared
CASSETTES := $(SHARED)/sheets-cassettes
CONFORMANCE := $(SHARED)/tools/sheets_conformance.py
# The share of Google's recorded interactions the Sheets emulator must match (a ratchet: only raise it).
CONFORMANCE_MIN_RATE := 1.0

.PHONY: setup node-setup test lint typecheck pytest conformance node-test demo bench deploy clean

setup: $(SETUP)

$(SETUP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

node-setup: node_modules/.setup-done

node_modules/.setup-done: package.json package-lock.json
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: lint typecheck pytest conformance node-test

lint: $(SETUP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(SETUP)
	$(PY) -m mypy

pytest: $(SETUP)
	$(PY) -m pytest -q

conformance: $(SETUP)
	@if [ -f $(CONFORMANCE) ]; then \
	  $(PY) $(CONFORMANCE) --app tests.emulators.sheets:create_app --min-rate $(CONFORMANCE_MIN_RATE) --show 5 $(CASSETTES); \
	else echo "conformance: $(SHARED) not present, skipped"; fi

node-test: $(SETUP) node-setup
	npm test

demo: $(SETUP)
	$(PY) -m tests.demo

# BENCH passes options: make bench BENCH=--quick, BENCH="--cpu 1", BENCH="--case multi_step" (docs/benchmark.md).
bench: $(SETUP)
	$(PY) -m tests.bench $(BENCH)

# deploy/function.sh prints the function's URL last; the add-in is pushed with it: into the script bound
# to one spreadsheet, or with ADDON=1 as a new version of the domain-wide add-on (docs/deploy.md).
deploy:
	url="$$(deploy/function.sh)" || exit 1; \
	FUNCTION_URL="$$(printf '%s\n' "$$url" | tail -n 1)" \
	ID_TOKEN_AUDIENCE="$${ID_TOKEN_AUDIENCE:-$${ID_TOKEN_AUDIENCES%%,*}}" deploy/apps_script.sh $(if $(ADDON),--addon)

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis
