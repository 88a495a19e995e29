"""Test kit for the embedded engine: the real cards, one routing call, one agent step.

``simulate`` runs the graph's loop without the graph (route, run the agent
to its handoff, merge its facts, route again), with the real
``RoutingDecision`` and ``handoff`` schemas the graph binds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from agents.findings import Findings, handoff_tool_schema
from agents.prompts import agent_messages
from graph.decision import RoutingDecision
from graph.prompts import routing_messages
from switchboard.engine import EmbeddedChatModel
from tests.engine.fake_store import FakeStore

__all__ = [
    "MIA",
    "FakeStore",
    "RoutingDecision",
    "card",
    "load_cards",
    "route",
    "run_agent",
    "simulate",
    "tools_called",
]

TEAM_FILE = Path(__file__).resolve().parents[2] / "agents" / "teams" / "retail.yaml"


def _tool_spec(name: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": name,
            "parameters": {"type": "object", "properties": {}},
        },
    }


def load_cards() -> list[dict[str, Any]]:
    """The prompt views of the retail team's agent cards."""
    team = yaml.safe_load(TEAM_FILE.read_text())
    return [{k: a[k] for k in ("name", "description", "skills", "tools")} for a in team["agents"]]


def route(
    model: EmbeddedChatModel,
    task: str,
    cards: list[dict[str, Any]],
    progress: Sequence[dict[str, Any]] = (),
    context: dict[str, Any] | None = None,
    feedback: str | None = None,
) -> dict[str, Any]:
    """One routing decision's arguments."""
    bound = model.bind_tools([RoutingDecision])
    message = bound.invoke(routing_messages(task, cards, list(progress), context or {}, feedback))
    assert isinstance(message, AIMessage) and len(message.tool_calls) == 1
    return message.tool_calls[0]["args"]


def run_agent(
    model: EmbeddedChatModel,
    store: FakeStore,
    card: dict[str, Any],
    *,
    task: str,
    instruction: str,
    skill: str | None,
    context: dict[str, Any],
    max_turns: int = 25,
) -> tuple[dict[str, Any], list[BaseMessage]]:
    """Drive one agent step to its handoff; returns the handoff args and the transcript."""
    bound = model.bind_tools(
        [
            *(_tool_spec(t) for t in card["tools"]),
            handoff_tool_schema(),
        ]
    )
    messages: list[BaseMessage] = agent_messages(
        name=card["name"],
        description=card["description"],
        task=task,
        instruction=instruction,
        skill=skill,
        context=context,
    )
    for _ in range(max_turns):
        reply = bound.invoke(messages)
        assert isinstance(reply, AIMessage) and len(reply.tool_calls) == 1
        call = reply.tool_calls[0]
        messages.append(reply)
        if call["name"] == "handoff":
            Findings.model_validate(call["args"])
            return call["args"], messages
        assert call["name"] in card["tools"], call
        ok, text = store.call(call["name"], call["args"])
        messages.append(
            ToolMessage(
                text,
                tool_call_id=call["id"],
                name=call["name"],
                status="success" if ok else "error",
            )
        )
    raise AssertionError("the agent never handed off")


Simulation = tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]


def simulate(
    model: EmbeddedChatModel,
    store: FakeStore,
    cards: list[dict[str, Any]],
    task: str,
    *,
    max_steps: int = 12,
    on_escalate: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
) -> Simulation:
    """Run the supervisor and the agents to the end, the way the graph would."""
    progress: list[dict[str, Any]] = []
    context: dict[str, Any] = {}
    decisions: list[dict[str, Any]] = []
    by_name = {c["name"]: c for c in cards}
    for _ in range(max_steps):
        decision = route(model, task, cards, progress, context)
        decisions.append(decision)
        if decision["action"] == "escalate" and on_escalate is not None:
            answer = on_escalate(decision)
            if answer is not None:
                progress.append({"kind": "human", "question": decision["reason"], **answer})
                continue
        if decision["action"] != "route":
            return progress, context, decisions
        handoff, _ = run_agent(
            model,
            store,
            by_name[decision["agent"]],
            task=task,
            instruction=decision["instruction"],
            skill=decision["skill"],
            context=context,
        )
        progress.append(
            {
                "kind": "handoff",
                "agent": decision["agent"],
                "skill": decision["skill"],
                "instruction": decision["instruction"],
                **handoff,
            }
        )
        if handoff["status"] == "done":
            context.update(handoff["facts"])
    raise AssertionError(f"no end after {max_steps} steps: {decisions}")


MIA: dict[str, Any] = {
    "user_id": "mia_chen_4817",
    "customer_name": "Mia Chen",
    "order_id": "#W9000001",
    "order_status": "delivered",
    "item_ids": ["7000000001"],
    "payment_method_id": "credit_card_1111",
}
"""Facts about the test customer after identify_customer, for steps further down a plan."""


def card(cards: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The card of the agent called ``name``."""
    return next(c for c in cards if c["name"] == name)


def tools_called(store: FakeStore) -> list[str]:
    """The names of the tools called on the store, in order."""
    return [name for name, _ in store.calls]
