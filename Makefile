# Two commands matter: `make report` and `make test`. Both create .venv and install into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tested versions: pyproject.toml keeps ranges, requirements.lock pins every package (all extras)
# and `make install` installs within those pins.
# To add a dependency: add it with a range to pyproject.toml, run `make lock`, commit both files.
LOCK := requirements.lock

.PHONY: install lock report test lint format sample bench clean

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

# Re-resolve the pins from PyPI (newest versions within pyproject's ranges), for every platform.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 \
		--custom-compile-command "make lock" --quiet -o $(LOCK)

report: install
	$(BIN)/python -m assessment run data/sample --out reports/sample

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest -q --nbval-lax --nbval-current-env notebooks/

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

sample: install
	rm -rf data/sample
	$(BIN)/python -m assessment synth data/sample --prospects 3000 --leads 2000 --contacts 1500 --seed 7

bench: install
	$(BIN)/python benchmarks/bench_command.py --scale 2.5m

clean:
	rm -rf $(VENV) reports .pytest_cache
