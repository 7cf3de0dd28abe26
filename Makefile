# Legatus: two commands do everything on a fresh machine.
#   make demo   set up, index the bundled reports, start the assistant
#   make test   set up, run lint, type checks and the test suite (what CI runs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Built artefacts (converted embedding model, llama.cpp wheel, ...) are cached inside the checkout.
LEGATUS_CACHE ?= $(CURDIR)/.cache
export LEGATUS_CACHE
export LEGATUS_EMBEDDING__CACHE_DIR ?= $(LEGATUS_CACHE)/models
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test venv lint clean local-llm browser eval-gate eval-report

venv: $(VENV)/.installed

# torch first, by pip from the CPU wheel on this machine (otherwise a multi-GB CUDA build is
# resolved); the rest by uv, which installs the same versions from the registry in seconds
# instead of pip's two minutes, and keeps its download cache with the other built artefacts.
# --no-compile: torch's 2,300 modules are byte-compiled when first imported, not all at install
# (30 s → 14 s here).
export UV_CACHE_DIR ?= $(LEGATUS_CACHE)/uv
UV := $(BIN)/uv pip install --quiet --python $(BIN)/python

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile torch==2.13.0 uv
	$(UV) -e '.[dev]'
	touch $@

demo: venv
	$(BIN)/legatus ingest
	$(BIN)/legatus serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --cache-dir $(LEGATUS_CACHE)/mypy

test: lint local-llm browser
	$(BIN)/pytest
	$(MAKE) eval-gate

# The dev-set evaluation with the default answerer, gated on the committed eval/baseline.json:
# on the files backend, then on the PostgreSQL backend (the local server on a temporary folder,
# the same index imported: ~2 s), which must also stay within 0.03 of the files run on every
# gated metric.
EVAL_DIR := $(LEGATUS_CACHE)/eval
eval-gate: venv
	LEGATUS_INDEX__PATH=$(EVAL_DIR)/index $(BIN)/legatus ingest
	LEGATUS_INDEX__PATH=$(EVAL_DIR)/index $(BIN)/legatus eval --output $(EVAL_DIR)/legatus.jsonl
	$(BIN)/legatus eval gate $(EVAL_DIR)/legatus.jsonl
	db=$$(mktemp -d /tmp/legatus-eval-db.XXXXXX) \
	&& dsn=$$($(BIN)/legatus db start --data $$db/data | tail -n 1) \
	&& export LEGATUS_INDEX__PATH=$(EVAL_DIR)/index LEGATUS_INDEX__DSN=$$dsn \
		LEGATUS_INDEX__BACKEND=postgres \
	&& $(BIN)/legatus db import \
	&& $(BIN)/legatus eval --output $(EVAL_DIR)/legatus-postgres.jsonl \
	&& $(BIN)/legatus eval gate $(EVAL_DIR)/legatus-postgres.jsonl \
		--against $(EVAL_DIR)/legatus.jsonl --tolerance 0.03; \
	status=$$?; $(BIN)/legatus db stop --data $$db/data; rm -rf $$db; exit $$status

# The committed report: Legatus beside dense-only, BM25-only and a plain LangChain pipeline.
eval-report: venv
	LEGATUS_INDEX__PATH=$(EVAL_DIR)/index $(BIN)/legatus ingest
	for system in legatus dense bm25 langchain; do \
		LEGATUS_INDEX__PATH=$(EVAL_DIR)/index $(BIN)/legatus eval --system $$system \
			--output $(EVAL_DIR)/$$system.jsonl || exit 1; \
	done
	$(BIN)/legatus eval report $(EVAL_DIR)/legatus.jsonl $(EVAL_DIR)/dense.jsonl \
		$(EVAL_DIR)/bm25.jsonl $(EVAL_DIR)/langchain.jsonl $(wildcard $(EVAL_DIR)/llm.jsonl) \
		--out eval/report

# The LLM answerer (packaged SmolLM2 on a local llama.cpp server) on the dev set; slow on a CPU.
eval-llm: local-llm
	LEGATUS_INDEX__PATH=$(EVAL_DIR)/index LEGATUS_ASSISTANT__LLM__MAX_PASSAGES=3 \
		LEGATUS_ASSISTANT__LLM__TIMEOUT_S=120 \
		$(BIN)/legatus eval --answerer llm --start-llm --output $(EVAL_DIR)/llm.jsonl

# Local LLM (llama.cpp server + packaged SmolLM2). PyPI has no llama-cpp-python wheel for this
# platform, so it is built once from source into the wheel cache. GGML_NATIVE=OFF with explicit
# AVX2/FMA: the default native build segfaults in llama_decode on these CPUs.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS  := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
WHEELS := $(LEGATUS_CACHE)/wheels

local-llm: $(VENV)/.local-llm

$(VENV)/.local-llm: $(VENV)/.installed pyproject.toml
	@mkdir -p $(WHEELS)
	@if ls $(WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "llama-cpp-python $(LLAMA_CPP_VERSION): using the cached wheel in $(WHEELS)"; \
	else \
		echo "building llama-cpp-python $(LLAMA_CPP_VERSION) (several minutes, once)"; \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-deps \
			-w $(WHEELS) 'llama-cpp-python==$(LLAMA_CPP_VERSION)'; \
	fi
	$(UV) --find-links $(WHEELS) -e '.[dev,local-llm]'
	touch $@

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache

# Headless Chromium and its driver for the browser tests of the chat page (tests/test_web.py,
# tests/test_accessibility.py); the emoji font only makes the screenshots show 👍/👎.
# axe-core (pinned; it has no dependencies) is installed once into the cache, outside the
# checkout's tracked files; the accessibility test reads the path from LEGATUS_AXE_JS, or
# finds it at the same default place when pytest is run by hand.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
AXE_CORE_VERSION := 4.14.1
AXE_DIR := $(LEGATUS_CACHE)/npm
export LEGATUS_AXE_JS ?= $(AXE_DIR)/node_modules/axe-core/axe.min.js

browser:
	@if [ ! -x /usr/bin/chromedriver ]; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends \
			chromium chromium-driver fonts-noto-color-emoji; \
	fi
	@if ! command -v npm >/dev/null; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends nodejs npm; \
	fi
	@installed=$$(node -p "require('$(AXE_DIR)/node_modules/axe-core/package.json').version" \
		2>/dev/null); \
	if [ "$$installed" = "$(AXE_CORE_VERSION)" ]; then \
		echo "axe-core $(AXE_CORE_VERSION): using the copy in $(AXE_DIR)"; \
	else \
		echo "installing axe-core $(AXE_CORE_VERSION) into $(AXE_DIR)"; \
		mkdir -p $(AXE_DIR) && npm install --prefix $(AXE_DIR) --no-save --ignore-scripts \
			--no-audit --no-fund --loglevel=error axe-core@$(AXE_CORE_VERSION); \
	fi
