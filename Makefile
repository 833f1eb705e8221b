# The two commands a new user needs:  make demo  and  make test
# Everything else here serves those two (and CI).

PYTHON ?= python3
VENV ?= .venv
DJANGO ?= Django>=5.2,<5.3
PORT ?= 8000
PYTEST_ARGS ?=

STACK_TESTS := tests/integration tests/reliability/stack
PARALLEL_TESTS := $(foreach path,$(STACK_TESTS),--ignore=$(path))

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-oscar test lint docs clean bench reliability

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed; run e.g. make demo PYTHON=python3.12"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" "$(DJANGO)"
	@touch $(STAMP)

# GENLOOK_API=classic make demo: the same shop speaking Genlook's classic API.
DEMO_BASE_URL = http://127.0.0.1:$(PORT)/sandbox$(if $(filter classic,$(GENLOOK_API)),,/tryon/v1)

## Run the demo shop with the Genlook sandbox at http://127.0.0.1:$(PORT)
demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	@# seed_demo also prints the sandbox's control token (made once in var/), with a curl line.
	GENLOOK_BASE_URL="$${GENLOOK_BASE_URL:-$(DEMO_BASE_URL)}" \
		$(BIN)/python manage.py seed_demo --with-admin
	@echo "Shop: http://127.0.0.1:$(PORT)/   Admin: http://127.0.0.1:$(PORT)/admin/ (admin / admin)"
	@# The sandbox is served by the same server: on whatever PORT it listens on.
	GENLOOK_BASE_URL="$${GENLOOK_BASE_URL:-$(DEMO_BASE_URL)}" \
	PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}" \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## Run the django-oscar example shop (example_oscar/) with the sandbox at http://127.0.0.1:$(PORT)
demo-oscar: $(STAMP)
	DJANGO_SETTINGS_MODULE=example_oscar.settings $(BIN)/python manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=example_oscar.settings $(BIN)/python manage.py seed_oscar_demo --with-admin
	@# The catalogue's listings come from a search index (Whoosh, in var/).
	DJANGO_SETTINGS_MODULE=example_oscar.settings $(BIN)/python manage.py update_index --verbosity 0
	@echo "Shop: http://127.0.0.1:$(PORT)/   Dashboard: http://127.0.0.1:$(PORT)/dashboard/ (admin@example.com / admin)"
	DJANGO_SETTINGS_MODULE=example_oscar.settings PORT=$(PORT) \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## Run the test suite (what CI runs, on each Python/Django combination)
test: $(STAMP)
	@$(BIN)/python -c 'import sys, django; print("Python", sys.version.split()[0], "- Django", django.__version__)'
	$(BIN)/python -m pytest -n auto $(PARALLEL_TESTS) $(PYTEST_ARGS)
	@# The django-oscar integration, in its own Oscar project (tests/oscar/settings.py); a
	@# PYTEST_ARGS subset that selects none of it is not an error.
	$(BIN)/python -m pytest -n auto --ds=tests.oscar.settings tests/oscar $(PYTEST_ARGS); \
		status=$$?; if [ $$status -eq 5 ] && [ -n "$(PYTEST_ARGS)" ]; then status=0; fi; exit $$status
	@# Then the tests that start whole stacks (PostgreSQL + gunicorn + Celery + S3), one at
	@# a time: skipped without the services, required in CI.
	GENLOOK_REQUIRE_INTEGRATION="$${GENLOOK_REQUIRE_SERVICES:-}" $(BIN)/python -m pytest $(STACK_TESTS) $(PYTEST_ARGS); \
		status=$$?; [ $$status -eq 5 ] || exit $$status

## Run the reliability proof R1-R5 at full size (docs/reliability.md); needs the services
reliability: $(STAMP)
	GENLOOK_RELIABILITY=full $(BIN)/python -m pytest tests/reliability $(PYTEST_ARGS)

## Run the benchmarks P1-P5 (docs/performance.md); P4 needs PostgreSQL and Redis
bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

docs: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir build/site

clean:
	rm -rf $(VENV) build var test-output
