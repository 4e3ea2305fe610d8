# The two commands a newcomer types: `make run` and `make test`.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3
# The port `make run` serves on (BASE_URL should name it too).
PORT   ?= 5000
# Debian packages the test suite drives: a real browser, the RELAX NG validator, a feed
# reader and nginx (the production recipe in deploy/ is tested behind it).
SYSTEM_TOOLS := /usr/bin/chromium /usr/bin/jing /usr/bin/newsboat /usr/sbin/nginx

# axe-core, the accessibility checker the browser tests run in every page: from npm,
# installed into a local cache once (the tests load it from there, never from a CDN).
AXE_VERSION := 4.11.0
AXE         := tests/.axe/node_modules/axe-core/axe.min.js

.PHONY: run test lint format bench bench-tools system-tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The whole instance: the web server and the mirror worker (Procfile, run by honcho),
# both stopped by Ctrl+C. Metrics of both processes meet in instance/metrics.
run: $(STAMP)
	$(BIN)/flask --app wsgi demo
	rm -rf instance/metrics && mkdir -p instance/metrics
	PATH="$(CURDIR)/$(BIN):$$PATH" PROMETHEUS_MULTIPROC_DIR="$(CURDIR)/instance/metrics" \
	  $(BIN)/honcho --procfile Procfile start --port $(PORT)

system-tools:
	@missing=""; for tool in $(SYSTEM_TOOLS); do test -x $$tool || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages for:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium jing newsboat nginx >/dev/null; \
	fi

$(AXE):
	npm install --prefix tests/.axe --no-save --no-package-lock --no-audit --no-fund \
	  axe-core@$(AXE_VERSION) >/dev/null \
	  || echo "axe-core not installed (npm missing?): the browser tests' axe checks are skipped"

test: $(STAMP) system-tools $(AXE)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check service feeds tests bench wsgi.py
	$(BIN)/ruff format --check service feeds tests bench wsgi.py
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format service feeds tests bench wsgi.py
	$(BIN)/ruff check --fix service feeds tests bench wsgi.py

# The load generator of the feeds benchmark (Debian's wrk); only `make bench` needs it.
bench-tools:
	@test -x /usr/bin/wrk || { SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

bench: $(STAMP) bench-tools
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache tests/screenshots tests/.axe
