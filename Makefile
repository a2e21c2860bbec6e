# mini-timesformer: `make demo` runs the main job, `make test` runs every test.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# torch/torchvision are pinned here (not in pyproject) so that practitioners can keep theirs.
TORCH   ?= torch==2.14.1 torchvision==0.29.1

.PHONY: demo gpu-check test lab lint clean

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/mini-timesformer demo --out runs/demo

# one GPU, offline, <= 8 min: demo (gpu budget), Kinetics-layout recipe, ours vs HF (docs/performance.md)
gpu-check: $(VENV)/.installed
	$(BIN)/mini-timesformer gpu-check --out runs/gpu-check $(GPU_CHECK_FLAGS)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q tests
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
	  MINI_TIMESFORMER_SMOKE=1 $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env \
	    -p no:cacheprovider notebooks; fi

lab: $(VENV)/.installed
	$(BIN)/jupyter lab notebooks/

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) runs .pytest_cache
