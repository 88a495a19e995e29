"""Test kit for the embedded engine: the real cards, one routing call, one agent step, whole runs.

Only the model is scripted (it is the embedded engine); the tools are the
real retail operations over a private copy of the generated data (see
``retail_shop``). ``RetailTeam.simulate`` runs the graph's loop without the
graph (route, run the agent to its handoff, merge its facts, route again),
with the real ``RoutingDecision`` and ``handoff`` schemas the graph binds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from switchboard.agents.findings import Findings, handoff_tool_schema
from switchboard.agents.prompts import agent_messages
from switchboard.agents.questions import ASK_TOOL, ask_customer_tool_schema
from switchboard.engine import EmbeddedChatModel
from switchboard.graph.decision import RoutingDecision
from switchboard.graph.prompts import routing_messages
from tests.engine.retail_shop import Shop

__all__ = [
    "RetailTeam",
    "RoutingDecision",
    "Simulation",
    "card",
    "load_cards",
    "route",
    "run_agent",
]

TEAM_FILE = Path(__file__).resolve().parents[2] / "agents" / "teams" / "retail.yaml"

Simulation = tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]
"""A whole run: the progress entries, the merged facts, and every routing decision."""


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


def card(cards: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The card of the agent called ``name``."""
    return next(c for c in cards if c["name"] == name)


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


@dataclass(frozen=True)
class RetailTeam:
    """The engine as the supervisor and every retail agent, over one real shop."""

    model: EmbeddedChatModel
    cards: list[dict[str, Any]]
    shop: Shop

    def step(
        self,
        agent: str | dict[str, Any],
        skill: str | None,
        *,
        task: str,
        instruction: str,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Drive one agent step to its handoff; returns the handoff's arguments.

        ``agent`` is an agent's name, or a card of its own (to take tools away).
        """
        agent_card = self.card(agent) if isinstance(agent, str) else agent
        handoff, _ = run_agent(
            self.model, self.shop, agent_card, task=task, instruction=instruction, skill=skill, context=context or {}
        )
        return handoff

    def card(self, name: str) -> dict[str, Any]:
        """The card of the agent called ``name``."""
        return card(self.cards, name)

    def simulate(
        self,
        task: str,
        *,
        max_steps: int = 12,
        on_escalate: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    ) -> Simulation:
        """Run the supervisor and the agents to the end, the way the graph would."""
        progress: list[dict[str, Any]] = []
        context: dict[str, Any] = {}
        decisions: list[dict[str, Any]] = []
        for _ in range(max_steps):
            decision = route(self.model, task, self.cards, progress, context)
            decisions.append(decision)
            if decision["action"] == "escalate" and on_escalate is not None:
                answer = on_escalate(decision)
                if answer is not None:
                    progress.append({"kind": "human", "question": decision["reason"], **answer})
                    continue
            if decision["action"] != "route":
                return progress, context, decisions
            handoff = self.step(
                decision["agent"],
                decision["skill"],
                task=task,
                instruction=decision["instruction"],
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


def run_agent(
    model: EmbeddedChatModel,
    shop: Shop,
    card: dict[str, Any],
    *,
    task: str,
    instruction: str,
    skill: str | None,
    context: dict[str, Any],
    max_turns: int = 25,
    customer: Callable[[str], str] | None = None,
) -> tuple[dict[str, Any], list[BaseMessage]]:
    """Drive one agent step to its handoff; returns the handoff's arguments and the transcript.

    With ``customer``, the agent is offered ``ask_customer`` as the graph
    offers it, and ``customer(question)`` answers, as the graph's reply would.
    """
    asks = [ask_customer_tool_schema()] if customer else []
    bound = model.bind_tools([*(_tool_spec(t) for t in card["tools"]), *asks, handoff_tool_schema()])
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
        if call["name"] == ASK_TOOL and customer is not None:
            answer = json.dumps({"customer_reply": customer(call["args"]["question"])})
            messages.append(ToolMessage(answer, tool_call_id=call["id"], name=ASK_TOOL))
            continue
        assert call["name"] in card["tools"], call
        ok, text = shop.call(call["name"], call["args"])
        messages.append(
            ToolMessage(text, tool_call_id=call["id"], name=call["name"], status="success" if ok else "error")
        )
    raise AssertionError("the agent never handed off")
