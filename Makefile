# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_UNITS ?= 3000
PORT ?= 8000

.PHONY: run test test-fast lint audit setup demo messages clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_regions --province 14 --province 53
	$(BIN)/python manage.py load_standards
	$(BIN)/python manage.py load_departments
	$(BIN)/python manage.py load_actions
	$(BIN)/python manage.py seed_demo --units $(DEMO_UNITS) --seed 1 --assessments --users

run: demo
	$(BIN)/python manage.py rollup --all
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Fast tests on SQLite (and headless Chromium), then the integration tests against a
# real PostgreSQL, Redis and Celery worker that tests/services.py starts from the
# binaries on this machine (missing locally: loud notice and skip; with CI=true: fail).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python .ci/audit.py
	$(BIN)/python -m pytest -m "not integration" -n 2
	$(BIN)/python -m tests.services -- $(BIN)/python -m pytest -m integration tests/integration

audit: $(STAMP)
	AUDIT_STRICT=1 $(BIN)/python .ci/audit.py

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l en --ignore=.venv --ignore=bench --ignore=tests --ignore=staticfiles
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3* media staticfiles
