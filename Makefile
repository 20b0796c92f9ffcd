# Every target creates .venv on first use; nothing relies on what was installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck unit policy-test bench soak clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# The real OPA engine (Go), the reference the policy is checked against. Its wheel
	# declares Python >= 3.14 but runs on 3.11.
	$(BIN)/python -m pip install --quiet --ignore-requires-python 'opa-golib-python-bindings>=0.4'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/llm-router demo

lint: $(STAMP)
	$(BIN)/ruff check sidecar tests benchmarks
	$(BIN)/ruff format --check sidecar tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

policy-test: $(STAMP)
	$(BIN)/llm-router policy test policies/

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck policy-test unit

bench: $(STAMP)
	$(BIN)/python benchmarks/load.py --quick --peer floor

# Optional in CI: five minutes at a steady rate, RSS and file descriptors over time (JSON).
soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
