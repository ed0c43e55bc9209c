# Two commands set everything up: `make book` and `make test`.
# Both create .venv with Python 3.11, install requirements.txt into it, then build or test.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Trained models and downloads are cached inside the checkout, so a fresh clone starts clean.
export MNIST_BOOK_CACHE ?= $(CURDIR)/.cache
# Silence TensorFlow's C++ start-up banner (oneDNN, CUDA probing) in logs.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: help install web book test lab bench notebooks lock clean

help:
	@echo "make book       set up .venv and webdemo/node_modules, export the models, build the HTML into _build/html"
	@echo "make test       build the book, then run the unit tests, nbval on every chapter and the browser tests"
	@echo "make lab        open the chapters in JupyterLab"
	@echo "make bench      measure the training recipes, inference and the book build (about 45 min)"
	@echo "make notebooks  (maintainers) re-execute the chapters in place and store their outputs"
	@echo "make lock       (maintainers) regenerate constraints.txt from .venv"
	@echo "make clean      remove the build, the cache and .venv"

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required; run make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# The web assets: MathJax and ONNX Runtime Web from npm, and the models exported to ONNX.
web: $(STAMP) webdemo/node_modules/.package-lock.json
	$(BIN)/python tools/build_web_assets.py

webdemo/node_modules/.package-lock.json: webdemo/package.json webdemo/package-lock.json
	npm ci --prefix webdemo --no-audit --no-fund

book: web
	$(BIN)/jupyter-book build --warningiserror --nitpick --keep-going .
	@echo "Open _build/html/index.html"

# The browser tests check the built site, so the book is built first.
test: book
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab chapters/

bench: web
	$(BIN)/python benchmarks/bench.py --output benchmarks/results.json

notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py chapters/*.ipynb

lock: $(STAMP)
	{ echo "# Locked versions of every package the book installs (pip freeze on Python 3.11)."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^mnist-utils'; } > constraints.txt

clean:
	rm -rf _build _web .cache artifacts $(VENV) webdemo/node_modules
