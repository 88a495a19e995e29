# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SB := $(BIN)/switchboard
DEMO_THREAD := demo-$(shell date +%Y%m%d-%H%M%S)
DEMO_TASK := Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my last delivered order arrived damaged. I want to return both and get my money back on the card I paid with.

.PHONY: demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The customer-return demo: the refund is above the $500 policy limit, so the
# run pauses for a human (exit code 3); the demo then approves it as alice, the
# demo's finance manager (her key is made in the data directory on first run),
# and prints the whole chain behind the outcome.
demo: $(VENV)/.installed
	@$(SB) retail demo-db
	@$(SB) principals keygen alice --role finance_manager --if-missing
	@$(SB) principals keygen bob --role support_agent --if-missing
	@$(SB) run "$(DEMO_TASK)" --thread $(DEMO_THREAD); status=$$?; \
	  if [ $$status -eq 3 ]; then \
	    echo; echo ">>> alice, a finance manager, approves the refund"; \
	    $(SB) resume $(DEMO_THREAD) --approve --as alice --note "damage confirmed from photos" || exit $$?; \
	  elif [ $$status -ne 0 ]; then exit $$status; fi
	@echo; echo ">>> the whole chain behind the outcome: switchboard show $(DEMO_THREAD)"
	@$(SB) show $(DEMO_THREAD)

test: $(VENV)/.installed
	$(BIN)/pytest

# Benchmarks print each measurement beside the anchor it must beat, with the ratio.
bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	MYPY=$(abspath $(BIN))/mypy scripts/typecheck.sh

clean:
	rm -rf $(VENV) .switchboard build *.egg-info
