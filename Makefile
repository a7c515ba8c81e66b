# Two commands: `make run` (the series, main job) and `make test` (the tests). Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= study
.DEFAULT_GOAL := help

.PHONY: help run lab test test-fast publish predict webcam data faces lock bench clean-venv

help:  ## list the targets (this list)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else "fkp needs Python 3.11 or newer: set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)  ## run the notebook series (PROFILE=study|quick|smoke|full); resumes an interrupted run (FRESH=1: start anew)
	$(PY) -m fkp_helpers run --profile $(PROFILE) $(if $(FRESH),--fresh)

lab: $(STAMP)  ## open JupyterLab on the notebooks with the project's kernel
	$(VENV)/bin/jupyter lab notebooks/

test: $(STAMP)  ## every test: unit tests, the notebooks on the smoke profile (papermill, nbval), JupyterLab in Chromium
	$(PY) -m pytest

test-fast: $(STAMP)  ## the unit tests alone (pytest -m "not slow"; 3.5 min on 2 cores)
	$(PY) -m pytest -m "not slow"

publish: $(STAMP)  ## copy a finished run's notebooks and figures into the repo: make publish RUN=runs/study-...
	$(PY) -m fkp_helpers publish $(RUN)

data: $(STAMP)  ## download the real Kaggle files into data/raw (needs Kaggle API credentials)
	$(PY) -m fkp_helpers download

predict: $(STAMP)  ## keypoints on your photos and videos: make predict PHOTOS="a.jpg b.mp4" [MODEL=...] (default: newest run's chosen model)
	$(PY) -m fkp_helpers predict $(PHOTOS) $(if $(MODEL),--model $(MODEL)) --out $(or $(OUT),predictions)

webcam: $(STAMP)  ## keypoints live on a camera's stream (needs a display): make webcam [CAMERA=0] [MODEL=...]; q quits
	$(PY) -m fkp_helpers predict --webcam $(or $(CAMERA),0) $(if $(MODEL),--model $(MODEL))

faces: $(STAMP)  ## convert Udacity's real faces (../shared copy, data/downloads zip, or downloaded) into data/real-faces
	$(PY) -m fkp_helpers faces

bench: $(STAMP)  ## the CPU benchmarks in turn (parsing, conversion, augmentation, training, detectors, predict): benchmarks/README.md
	$(PY) benchmarks/bench_parsing.py
	$(PY) benchmarks/bench_convert.py
	$(PY) benchmarks/bench_augment.py
	$(PY) benchmarks/bench_training.py --only batch bf16
	$(PY) benchmarks/bench_detectors.py
	$(PY) benchmarks/bench_predict.py

lock: $(STAMP)  ## re-pin requirements.lock and environment.yml from the current environment
	$(PY) -m pip freeze --exclude-editable --disable-pip-version-check > requirements.lock
	$(PY) scripts/sync_environment.py

clean-venv:  ## remove .venv (the next command reinstalls it)
	rm -rf $(VENV)
