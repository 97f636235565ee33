# holdem_lab — the commands a researcher runs. Every target sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= holdem_lab/configs/default_hu.yaml
RUN    ?= runs/default_hu
BUCKETS_CONFIG ?= holdem_lab/configs/buckets_default.yaml
BUCKETS_DIR    ?= data/buckets/default

.PHONY: setup test test-full lint bench chunks lab clean clean-cache

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check holdem_lab tests bench examples
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

# Slow checks in full (CI runs their reduced form through `make test`).
test-full: lint
	HOLDEM_LAB_FULL=1 $(BIN)/pytest -q

bench: setup
	$(BIN)/python -m bench.run --out bench/results.json

# The default job end to end: buckets (built once, then reused), chunks through papermill,
# the analysis notebook. `make chunks CONFIG=... RUN=...` for other runs.
chunks: setup
	@if grep -q '^game: *holdem' $(CONFIG); then \
		$(BIN)/holdem-build-buckets --config $(BUCKETS_CONFIG) --out $(BUCKETS_DIR); fi
	$(BIN)/holdem-lab chunks --config $(CONFIG) --run $(RUN)

lab: setup
	$(BIN)/jupyter lab notebooks

# numba's on-disk cache is keyed by each kernel's own source file: after editing a module that
# compiled kernels call into (holdem_lab/cards/*, holdem_lab/games/dealing.py, payoffs.py,
# numba_tools.py), drop the cache so callers are rebuilt.
clean-cache:
	find holdem_lab -name '*.nbi' -delete -o -name '*.nbc' -delete -o -name '*-tables-v*.npz' -delete

clean: clean-cache
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
