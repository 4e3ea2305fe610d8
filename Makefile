# The two commands a newcomer types: `make run` and `make test`.
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3
# Debian packages the test suite drives: a real browser, the RELAX NG validator and a feed reader.
SYSTEM_TOOLS := /usr/bin/chromium /usr/bin/jing /usr/bin/newsboat

.PHONY: run test lint format bench bench-tools system-tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app wsgi demo
	$(BIN)/flask --app wsgi run --host 127.0.0.1 --port 5000

system-tools:
	@missing=""; for tool in $(SYSTEM_TOOLS); do test -x $$tool || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages for:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium jing newsboat >/dev/null; \
	fi

test: $(STAMP) system-tools
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
	rm -rf $(VENV) .pytest_cache tests/screenshots
