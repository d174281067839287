# Everything the project needs is installed from here into .venv, pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: install serve test test-embedded test-external bench docs check lint format lock clean schema browser

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## Start the server for development: embedded PostgreSQL unless DATABASE_URL is set,
## the demo tenant seeded, GraphiQL on.
serve: install
	OKRLEDGER_DEVELOPMENT=$${OKRLEDGER_DEVELOPMENT:-1} $(BIN)/okrledger serve --demo

## The whole test suite, on whatever DATABASE_URL says (embedded PostgreSQL when unset).
test: install
	$(BIN)/python -m pytest

test-embedded: install
	env -u DATABASE_URL $(BIN)/python -m pytest

test-external: install
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest

## Every benchmark in bench/, written to docs/benchmarks.md (BENCH_QUICK=1 for a smoke run).
bench: install
	$(BIN)/python -m bench.run

## Regenerate the documents made from code (docs/events.md).
docs: install
	$(BIN)/python -m okrledger.infra.event_docs

## Debian's Chromium for the browser test (tests/e2e/test_dev_console.py), installed with
## apt-get when missing and run as root; Playwright's own browser download is not used.
browser:
	@if [ -x $(CHROMIUM) ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "no $(CHROMIUM), and not root with apt-get: the browser test will skip"; \
	fi

## Lint, format check, types and layer contracts.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# mypy needs the package under its real name; the repository root *is* okrledger.
	@mkdir -p .typecheck && ln -sfn "$(CURDIR)" .typecheck/okrledger
	MYPYPATH=.typecheck $(BIN)/mypy -p okrledger
	@# Tests import shared helpers as tests.e2e.*; name modules from the repository root.
	MYPYPATH=.typecheck $(BIN)/mypy --explicit-package-bases tests
	MYPYPATH=.typecheck $(BIN)/mypy -p bench
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Rewrite graphql/schema.graphql from the code (a test fails when they differ).
schema: install
	$(BIN)/python -m okrledger.graphql.sdl

## Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet --upgrade pip
	.lockvenv/bin/pip install --quiet '.[dev]'
	.lockvenv/bin/pip freeze --exclude okrledger > constraints.txt
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) build *.egg-info
