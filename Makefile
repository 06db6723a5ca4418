# Newsroom: `make run` to try it, `make test` to test it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve test bench lint check setup migrate demo clean

run: setup migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py demo_users --address http://$(HOST):$(PORT)
	@echo "Serving http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Production-style: gunicorn with newsroom/gunicorn.conf.py. Configure it with the
# environment (docs/deploy.md); with no DJANGO_DEBUG=false it runs the development settings.
serve: setup migrate
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/gunicorn -c newsroom/gunicorn.conf.py

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The benchmark (bench/run.py; needs wrk: apt-get install wrk). BENCH_ARGS="--features 100000",
# "--uncached", "--full", "--smoke"; with DATABASE_URL/REDIS_URL set it uses PostgreSQL and
# Redis (without REDIS_URL it starts a redis-server of its own if one is installed).
bench: setup
	$(BIN)/python bench/run.py $(if $(DATABASE_URL),--database-url $(DATABASE_URL)_bench) $(if $(REDIS_URL),--redis-url $(REDIS_URL)) $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: setup
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Newsroom needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

migrate: setup
	$(BIN)/python manage.py migrate --noinput -v0

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
