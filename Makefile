PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
BIN    := $(VENV)/bin

.PHONY: serve test lint bench-verify bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make serve`: install the project and serve every vendor on $(HOST):$(PORT).
serve: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/tryon-mock serve --host $(HOST) --port $(PORT) $(ARGS)

# ruff, mypy --strict, and the layering (import-linter, see README "Architecture").
define lint-steps
	$(BIN)/ruff check mock_server contracts scenarios tests bench
	$(BIN)/ruff format --check mock_server contracts scenarios tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo
endef

# `make test`: install with the test extra, lint, then run the whole suite.
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(lint-steps)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# `make lint`: the same checks alone (the test extra installed).
lint: $(BIN)/python
	$(lint-steps)

# `make bench-verify`: examples per second of the client-verification suite (a benchmark, not a test),
# per vendor: in-process, command (a process per example) and persistent. EXAMPLES="200 30" (command).
bench-verify: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m bench.verify_speed $(EXAMPLES)

# `make bench`: our mock against Stoplight Prism under wrk: req/s, p50/p99, errors, RSS, start-up
# times, RSS after 1M requests, and the targets (see bench/README.md). BENCH_ARGS="--million 100000".
# Installs wrk when missing (Debian's package, as root with apt-get); elsewhere says how to install it.
bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
