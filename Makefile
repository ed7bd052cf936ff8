PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
# pytest workers of `make test` (pytest-xdist; a file's tests stay on one worker). 1 for one process.
TEST_WORKERS ?= 2
BIN    := $(VENV)/bin

.PHONY: serve verify test lint bench-verify bench clean venv-again

# The oldest Python the project runs on, as pyproject.toml's requires-python says (">=3.11"), and
# a check of an interpreter against it.
comma      := ,
MIN_PYTHON := $(shell sed -n 's/^requires-python *= *">=\([0-9.]*\)".*/\1/p' pyproject.toml)
PYTHON_OK  := import sys; sys.exit(sys.version_info < ($(subst .,$(comma),$(MIN_PYTHON)),))

# A .venv whose Python is too old (made by another python3), or gone, is made again.
ifneq ($(shell $(BIN)/python -I -S -c '$(PYTHON_OK)' 2>/dev/null && echo ok),ok)
$(BIN)/python: venv-again
endif
venv-again:

$(BIN)/python:
	@$(PYTHON) -c '$(PYTHON_OK)' 2>/dev/null || { echo "make: tryon-mock needs Python $(MIN_PYTHON) or later;" \
	  "$(PYTHON) is $$($(PYTHON) -V 2>&1). Name another: make PYTHON=python3.12 ..." >&2; exit 1; }
	@if [ -d $(VENV) ]; then echo "$(VENV) runs $$($(BIN)/python -V 2>&1 || echo no Python);" \
	  "tryon-mock needs $(MIN_PYTHON) or later: making $(VENV) again with $(PYTHON)"; fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The install is editable, so pip runs only when pyproject.toml (or the version) changed since the
# last install, or .venv is new: a stamp file per extra. The first install needs the package index.
$(VENV)/installed.stamp: pyproject.toml mock_server/version.py $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/installed-test.stamp: pyproject.toml mock_server/version.py $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/installed.stamp

# `make serve`: serve every vendor on $(HOST):$(PORT) until Ctrl-C. The server replaces the
# recipe's shell (exec): on Ctrl-C or SIGTERM it stops, prints one line and exits 0, so make prints
# no error (make itself then ends by the signal, as it does on any).
serve: $(VENV)/installed.stamp
	exec $(BIN)/tryon-mock serve --host $(HOST) --port $(PORT) $(ARGS)

# `make verify ARGS="--vendor dashscope --client-cmd 'node my_client.js'"`: `tryon-mock verify`.
verify: $(VENV)/installed.stamp
	exec $(BIN)/tryon-mock verify $(ARGS)

# ruff, mypy --strict, and the layering (import-linter, see README "Architecture").
define lint-steps
	$(BIN)/ruff check mock_server contracts scenarios tests bench
	$(BIN)/ruff format --check mock_server contracts scenarios tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache --no-logo
endef

# `make test`: install with the test extra, lint, then run the whole suite.
test: $(VENV)/installed-test.stamp
	$(lint-steps)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# `make lint`: the same checks alone.
lint: $(VENV)/installed-test.stamp
	$(lint-steps)

# `make bench-verify`: examples per second of the client-verification suite (a benchmark, not a test),
# per vendor: in-process, command (a process per example) and persistent. EXAMPLES="200 30" (command).
bench-verify: $(VENV)/installed-test.stamp
	$(BIN)/python -m bench.verify_speed $(EXAMPLES)

# `make bench`: our mock against Stoplight Prism under wrk: req/s, p50/p99, errors, RSS, start-up
# times, RSS after 1M requests, and the targets (see bench/README.md). BENCH_ARGS="--million 100000".
# Installs wrk when missing (Debian's package, as root with apt-get); elsewhere says how to install it.
bench: $(VENV)/installed-test.stamp
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
