"""First-hop routing accuracy on a labelled set of tasks written in varied styles.

Each line of ``routing_tasks.jsonl`` is ``{"task", "agent", "intent"}``:
``agent`` is the first agent that should act (the first routing hop: the front
desk for any request that needs the customer identified), ``intent`` the
playbook intent we expect. Some tasks are deliberately vague or mix intents.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from langchain_core.utils.function_calling import convert_to_openai_tool

from graph.prompts import routing_messages
from switchboard.engine import EmbeddedChatModel
from tests.engine.engine_kit import RoutingDecision

TASKS = Path(__file__).with_name("routing_tasks.jsonl")
MIN_ACCURACY = 0.85


def test_labelled_set_is_big_and_well_formed(cards: list[dict[str, Any]]) -> None:
    rows = [json.loads(line) for line in TASKS.read_text().splitlines() if line.strip()]
    assert len(rows) >= 100
    names = {c["name"] for c in cards}
    assert all(row["task"].strip() and row["agent"] in names for row in rows)
    assert len({row["task"] for row in rows}) == len(rows)


def test_first_hop_accuracy(model: EmbeddedChatModel, cards: list[dict[str, Any]]) -> None:
    rows = [json.loads(line) for line in TASKS.read_text().splitlines() if line.strip()]
    bound = model.bind_tools([convert_to_openai_tool(RoutingDecision)])
    hits, misses = 0, []
    started = time.perf_counter()
    for row in rows:
        args = bound.invoke(routing_messages(row["task"], cards, [], {})).tool_calls[0]["args"]
        if args["agent"] == row["agent"]:
            hits += 1
        else:
            misses.append((row["task"], row["agent"], args["agent"]))
    elapsed = (time.perf_counter() - started) / len(rows)
    accuracy = hits / len(rows)
    print(f"\nfirst-hop accuracy {accuracy:.3f} on {len(rows)} tasks ({elapsed * 1000:.2f} ms/decision)")
    for task, want, got in misses:
        print(f"  miss: want {want}, got {got}: {task[:70]!r}")
    assert accuracy >= MIN_ACCURACY
