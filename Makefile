# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SB := $(BIN)/switchboard
DEMO_THREAD := demo-$(shell date +%Y%m%d-%H%M%S)
DEMO_TASK := Hi, this is Mia Chen (mia.chen@example.com). The espresso machine and the headphones from my last delivered order arrived damaged. I want to return both and get my money back on the card I paid with.

.PHONY: demo test lint bench eval clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The customer-return demo: the refund is above the $500 policy limit, so the
# run pauses for a human (exit code 3); the demo then approves it as alice, the
# demo's finance manager (her key is made in the data directory on first run),
# and prints the whole chain behind the outcome. `--as bob` (a support agent) would be refused.
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

# τ-bench end to end (README, "Evaluate your model"): TASKS and DATA default to a
# generated sample; point them at a converted τ-bench checkout to score a real model:
#   make eval MODEL=openai:gpt-4.1-mini USER_MODEL=openai:gpt-4.1 TASKS=tau-test.json DATA=…/retail/data TRIALS=3
# A spec's options go in as they are ('openai:qwen?structured=json_schema&concurrency=1'); EVAL_ARGS adds
# any other `eval tau` flag (EVAL_ARGS="--single-shot --limit 10").
TAU_SAMPLE := .switchboard/tau-sample
TASKS ?= $(TAU_SAMPLE)/tasks.json
DATA ?= $(TAU_SAMPLE)/data
TRIALS ?= 1
eval: $(VENV)/.installed
	@if [ "$(TASKS)" = "$(TAU_SAMPLE)/tasks.json" ] && [ ! -f "$(TASKS)" ]; then $(SB) eval tau-sample $(TAU_SAMPLE); fi
	$(SB) eval tau --tasks '$(TASKS)' --data '$(DATA)' --trials $(TRIALS) $(if $(MODEL),--model '$(MODEL)') \
	  $(if $(USER_MODEL),--user-model '$(USER_MODEL)') $(EVAL_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	MYPY=$(abspath $(BIN))/mypy scripts/typecheck.sh

clean:
	rm -rf $(VENV) .switchboard build *.egg-info
