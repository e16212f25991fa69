# The two commands: `make run` (set up and serve the demo) and `make test` (the test suite).
# Django 6.1 needs Python 3.12+; we use the first interpreter of at least that version found
# on PATH or under pyenv. Override with `make run PYTHON=/path/to/python3.13`.
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] 2>/dev/null | sort -r); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Links printed by seed_demo and put in e-mails follow the port we serve on.
export SITE_URL ?= http://127.0.0.1:$(PORT)
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test bench lint migrate seed check-python clean

check-python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.12 or newer is required (Django 6.1). Install it or pass PYTHON=/path/to/python3.12" >&2; exit 1; }

$(VENV)/.runtime: requirements.txt requirements-nodeps.txt | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -r requirements-nodeps.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	@touch $@

migrate: $(VENV)/.runtime
	@mkdir -p var
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

# The embedded setup has no Celery beat: a background loop sends due postback retries while
# the server runs, and the fake affiliate networks (Affilae, Affelios, Affili on 8101-8103)
# answer the demo connections; both stop with the server. FAKE_NETWORKS=0 leaves them off.
FAKE_NETWORKS ?= 1
run: seed
	@echo "Serving on http://127.0.0.1:$(PORT)/partner/login (admin: http://127.0.0.1:$(PORT)/admin/)"
	@$(PY) manage.py deliver_postbacks --interval 5 & loop=$$!; fakes=; \
	if [ "$(FAKE_NETWORKS)" = 1 ]; then $(PY) manage.py run_fake_networks & fakes=$$!; fi; \
	trap 'kill $$loop $$fakes 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(VENV)/.dev
	@mkdir -p var
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev
	@mkdir -p var
	$(PY) -m benchmarks

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
