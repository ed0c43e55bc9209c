# Two commands set everything up: `make book` and `make test`.
# Both create .venv with Python 3.11, install requirements.txt into it, then build or test.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := webdemo/node_modules/.package-lock.json
PYTEST := $(BIN)/python -m pytest

# Trained models and downloads are cached inside the checkout, so a fresh clone starts clean.
export MNIST_BOOK_CACHE ?= $(CURDIR)/.cache
# Silence TensorFlow's C++ start-up banner (oneDNN, CUDA probing) in logs.
export TF_CPP_MIN_LOG_LEVEL ?= 2

# `make lab` opens this folder in JupyterLab, with these extra options (the JupyterLab test
# sets both, to serve a copy of a chapter on 127.0.0.1 without opening a browser).
LAB_DIR  ?= chapters
LAB_ARGS ?=
# Jupyter refuses to run as root unless told to; containers and CI machines often are root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: help install node web book pdf test test-notebooks test-unit-and-book unit lab colab-test colab-refresh binder-test sync-repository bench ablation memory notebooks lock clean

help:
	@echo "make book             set up .venv and webdemo/node_modules, export the models, build the HTML and the PDF into _build/html"
	@echo "make pdf              the whole book as one PDF, _build/html/mnist-keras-book.pdf (make book runs it)"
	@echo "make test             unit tests and nbval on every chapter, then the book, then the browser tests"
	@echo "make test-notebooks   strict nbval on every chapter and the Performance appendix, in order"
	@echo "make unit             the unit tests alone (under 3 minutes): the quick loop while working on mnist_utils"
	@echo "make lab              open the chapters in JupyterLab"
	@echo "make colab-test       chapters 1, 3, 5 and 9 on Colab's Python and packages (tests/colab/), set up by their Colab cell"
	@echo "make colab-refresh    FREEZE=pip-freeze.txt OS_INFO=os-info.txt: Colab's packages from Google's published list"
	@echo "make binder-test      binder/ in a fresh environment (installs, finds or trains both models), then chapters 1, 3 and 8"
	@echo "make sync-repository  write the repository address from _config.yml into the chapters and README.md"
	@echo "make bench            measure the training recipes, the CNN from 3 seeds and its frontier, the ensemble, inference, oneDNN, the book build, the ablation, the MLP's regularisation, the CNN's batch normalisation and what augmentation buys it on other writers (about 215 min)"
	@echo "make ablation         only the MLP's ablation: its recipe changed one setting at a time (about 35 min)"
	@echo "make memory           peak memory of each chapter alone in a fresh kernel (about 35 min)"
	@echo "make notebooks        (maintainers) re-execute the chapters in place and store their outputs"
	@echo "make lock             (maintainers) regenerate constraints.txt and binder/requirements.txt from .venv"
	@echo "make clean            remove the build, the cache and .venv"

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required; run make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node: $(NODE_STAMP)

$(NODE_STAMP): webdemo/package.json webdemo/package-lock.json
	npm ci --prefix webdemo --no-audit --no-fund

# The web assets: MathJax and ONNX Runtime Web from npm, and the models exported to ONNX
# (the trained models are loaded from .cache, or trained there first).
web: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m tools.build_web_assets

# The book renders the outputs stored in the notebooks, which `make test` validates with
# strict nbval (every chapter re-executed in a fresh kernel and compared); it executes
# nothing itself. `make notebooks` re-executes and stores them.
book: web
	$(BIN)/jupyter-book build --warningiserror --nitpick --keep-going .
	$(BIN)/python -m tools.build_pdf
	@echo "Open _build/html/index.html"

# The whole book as one PDF, linked from the introduction: Jupyter Book's single-page HTML,
# printed by the system's Chromium (tools/build_pdf.py). `make book` runs it.
pdf: web
	$(BIN)/python -m tools.build_pdf

# Each notebook is executed once and each model trained once, on both cores: strict nbval
# runs the chapters in order (chapter 4 trains the MLP, chapter 6 the CNN, both saved in
# .cache, where later chapters load them) while the other core runs the unit tests, then waits
# for the two models and builds the book (which exports them to ONNX and renders the outputs
# the notebooks store), then runs the browser tests and the parity tests of the exported models
# on the built site. Each of the two streams prints its output when it ends (-O).
test: $(STAMP) $(NODE_STAMP)
	@rm -f artifacts/notebooks.done
	$(MAKE) --no-print-directory -j2 -O test-notebooks test-unit-and-book

test-notebooks: $(STAMP)
	$(PYTEST) chapters appendix; status=$$?; mkdir -p artifacts; echo $$status > artifacts/notebooks.done; exit $$status

test-unit-and-book: $(STAMP) $(NODE_STAMP)
	$(PYTEST) tests -m "not book"
	$(BIN)/python -m tools.wait_for_models
	$(MAKE) --no-print-directory book
	$(PYTEST) -m book

unit: $(STAMP) $(NODE_STAMP)
	$(PYTEST) tests -m "not book and not slow"

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_ROOT) $(LAB_ARGS) $(LAB_DIR)

# Colab's runtime stood in for by Colab's Python (found by tools/stand_in.py in the PATH or
# pyenv; COLAB_PYTHON overrides) and the packages Colab preinstalls, never this book's pins:
# tests/colab/, written from Google's published list by `make colab-refresh`.
COLAB_PYTHON ?=

colab-test: $(STAMP)
	$(BIN)/python -m tools.stand_in colab $(if $(COLAB_PYTHON),--python "$(COLAB_PYTHON)")

# FREEZE and OS_INFO: pip-freeze.txt and os-info.txt from googlecolab/backend-info.
colab-refresh: $(STAMP)
	$(BIN)/python -m tools.colab_runtime "$(FREEZE)" "$(OS_INFO)" $(if $(SOURCE),--source "$(SOURCE)")

binder-test: $(STAMP)
	$(BIN)/python -m tools.stand_in binder --python "$(PYTHON)"

sync-repository: $(STAMP)
	$(BIN)/python -m tools.sync_repository

bench: web
	$(BIN)/python -m benchmarks --output benchmarks/results.json

# The ablation alone, updated in place in benchmarks/results.json (chapter 5 renders it).
ablation: $(STAMP)
	$(BIN)/python -m benchmarks --sections ablation --output benchmarks/results.json

memory: $(STAMP)
	$(BIN)/python -m benchmarks.memory --output benchmarks/memory.json

notebooks: $(STAMP)
	$(BIN)/python -m tools.execute_notebooks chapters/*.ipynb appendix/performance.ipynb

lock: $(STAMP)
	{ echo "# Locked versions of every package the book installs (pip freeze on Python 3.11)."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^mnist-utils'; } > constraints.txt
	$(BIN)/python -m tools.binder_requirements

clean:
	rm -rf _build _web .cache artifacts $(VENV) webdemo/node_modules
