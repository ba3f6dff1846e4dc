# One virtual environment (.venv) with every pinned version from requirements/lock.txt.
# `make report` and `make test` set it up on first use and reuse it afterwards.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
# pip notes every local index a package is missing from ("Location ... is ignored"): noise.
QUIET_PIP = { grep -v "is ignored" || true; }
VENV   := .venv
# JAX compiles every primitive for every new shape (30-80 ms each); keep the compiled programs.
export JAX_COMPILATION_CACHE_DIR := $(CURDIR)/$(VENV)/jax-cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS := 0
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES := -1
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup report test bench lint clean compare-tf212 mutation spec-lists

setup: $(STAMP)

$(STAMP): requirements/lock.txt pyproject.toml examples/tapeconf-autograd/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/lock.txt 2>&1 | $(QUIET_PIP)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 | $(QUIET_PIP)
	# the out-of-tree adapter example (HIPS autograd), installed as any third-party adapter would be
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e examples/tapeconf-autograd 2>&1 | $(QUIET_PIP)
	$(BIN)/python -c "import reference_impl, conformance.cli, tensorflow, torch, jax"
	touch $(STAMP)

report: setup
	$(BIN)/tapeconf report

# TensorFlow 2.12 in its own environment (it needs numpy<2) against 2.21 in .venv:
# writes reports/tf-2.12/ and reports/tf-2.12-vs-2.21.md.
TF212 := envs/tf-2.12
compare-tf212: setup
	test -x $(TF212)/bin/python || $(PYTHON) -m venv $(TF212)
	$(TF212)/bin/pip install --quiet --disable-pip-version-check tensorflow-cpu==2.12.0 array-api-compat==1.16.0 2>&1 | $(QUIET_PIP)
	$(TF212)/bin/pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 | $(QUIET_PIP)
	# status 1: some cells of 2.12 do not match the 2.21 spec, which is what the diff is for
	$(BIN)/tapeconf report --adapter tensorflow@$(TF212)/bin/python --out reports/tf-2.12 || test $$? -eq 1
	$(BIN)/tapeconf report --adapter tensorflow --out $(TF212)/tf-2.21
	# status 1: the versions differ somewhere, which the file lists
	$(BIN)/tapeconf diff --adapter tensorflow reports/tf-2.12/results.json $(TF212)/tf-2.21/results.json \
	  > reports/tf-2.12-vs-2.21.md.tmp || test $$? -eq 1
	mv reports/tf-2.12-vs-2.21.md.tmp reports/tf-2.12-vs-2.21.md

# Three pytest-xdist workers: the tests are independent, and many of them wait on subprocesses
# (tapeconf's workers, real TensorFlow, Chromium), so even two cores keep three busy: 237 s
# serially, 165 s with two, 149 s with three on the two-core machine. TEST_JOBS=0 runs serially.
TEST_JOBS ?= 3
test: setup
	$(BIN)/pytest $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS))

# Mutation testing of reference_impl (docs/mutation.md): the full set, or e.g.
# `make mutation MUTATION_ARGS="--sample 60"` for a few minutes' check.
mutation: setup
	nice -n 10 $(BIN)/python -m conformance.mutation $(MUTATION_ARGS)

bench: setup
	$(BIN)/python benchmarks/bench_overhead.py

# docs/spec.md's "Scenarios:" lines, regenerated from the catalogue's spec= citations
spec-lists: setup
	$(BIN)/python tests/test_spec.py --write

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info build dist
