"""Round 5, F3: glob patterns in approval and deny rules' ``tools`` govern the calls they match.

Grants, guardian ``claims`` and ``read_only`` took ``refund*``; approval and
deny rules compared tool names exactly, so a rule written ``tools:
["refund*"]`` loaded and never applied: a $9,000 refund ran with no pause and
no deny (red team, round 5). The graph's guard, SwitchboardGuard and the
engine are real; the models are scripted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolCall
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from switchboard.agents import Agent
from switchboard.agents.guard import decide_call
from switchboard.agents.middleware import SwitchboardGuard
from switchboard.agents.toolbox import Toolbox
from switchboard.graph import build_graph
from switchboard.policies import PolicyFile
from switchboard.policies.engine import evaluate
from switchboard.policies.principals import load_registry
from switchboard.policies.scopes import Facts
from switchboard.testing import ScriptedChatModel, call, finish, route

POLICY = PolicyFile.model_validate(
    {
        "name": "shop",
        "grants": {"till": {"tools": ["refund*", "get_*"]}},
        "approvals": [{"id": "large-refund", "tools": ["refund*"], "measure": {"field": "amount"},
                       "threshold": 500, "roles": ["finance_manager"], "subject": "order_id"}],
        "deny": [{"id": "frozen-order", "tools": ["refund*"], "when": {"order_id": "X"},
                  "reason": "order X is frozen"}],
    }
)  # fmt: skip
paid: list[float] = []


@tool
def refund_order(order_id: str, amount: float) -> str:
    """Refund an amount on an order (a write)."""
    paid.append(amount)
    return f"refunded {amount}"


@tool
def get_order(order_id: str) -> str:
    """Read an order."""
    return f"order {order_id}"


def test_the_engine_applies_glob_rules_to_the_tools_they_match() -> None:
    (rule,) = POLICY.approval_rules_for("refund_order")
    assert rule.id == "large-refund" and POLICY.approval_rules_for("get_order") == ()
    frozen = evaluate(POLICY, "refund_order", {"order_id": "X", "amount": 9000}, {"large-refund": 9000})
    assert (frozen.effect, frozen.rule_id) == ("deny", "frozen-order")
    large = evaluate(POLICY, "refund_order", {"order_id": "Y", "amount": 9000}, {"large-refund": 9000})
    assert (large.effect, large.rule_id) == ("approve", "large-refund")
    assert evaluate(POLICY, "refund_order", {"order_id": "Y", "amount": 20}, {"large-refund": 20}).effect == "allow"
    assert evaluate(POLICY, "get_order", {"order_id": "X"}, {}).effect == "allow"


async def test_the_graphs_guard_holds_and_refuses_calls_a_glob_rule_matches() -> None:
    """``decide_call`` is what the graph's guarded tool node runs for card and spec agents."""
    toolbox = Toolbox.of([refund_order, get_order])
    decide = {}
    for order in ("X", "Y"):
        refund: ToolCall = {"name": "refund_order", "args": {"order_id": order, "amount": 9000}, "id": "c1",
                            "type": "tool_call"}  # fmt: skip
        decide[order] = await decide_call(POLICY, "till", toolbox, refund, Facts())
    assert (decide["X"].effect, decide["X"].rule_id) == ("deny", "frozen-order")
    assert (decide["Y"].effect, decide["Y"].rule_id) == ("approve", "large-refund")


def _guarded(principals: Path, *steps: AIMessage) -> Any:
    paid.clear()
    guard = SwitchboardGuard(POLICY, agent="till", tools=[refund_order, get_order], data_dir=principals,
                             principals=load_registry([principals / "principals.yaml"]))  # fmt: skip
    model = ScriptedChatModel(steps=[*steps, AIMessage("done")])
    return create_agent(model, [refund_order, get_order], middleware=[guard], checkpointer=InMemorySaver(), name="till")


async def test_switchboard_guard_pauses_a_large_refund_under_a_glob_rule(principals: Path) -> None:
    agent = _guarded(principals, call("refund_order", order_id="Y", amount=9000))
    config: Any = {"configurable": {"thread_id": "g-1"}}
    await agent.ainvoke({"messages": [{"role": "user", "content": "refund 9000 on Y"}]}, config)
    (pending,) = (await agent.aget_state(config)).interrupts
    assert pending.value["rule"] == "large-refund" and pending.value["tool"] == "refund_order"
    assert paid == []


async def test_switchboard_guard_refuses_a_call_a_glob_deny_matches(principals: Path) -> None:
    agent = _guarded(principals, call("refund_order", order_id="X", amount=9000))
    config: Any = {"configurable": {"thread_id": "g-2"}}
    result = await agent.ainvoke({"messages": [{"role": "user", "content": "refund 9000 on X"}]}, config)
    assert not (await agent.aget_state(config)).interrupts and paid == []
    refused = [m for m in result["messages"] if getattr(m, "status", None) == "error"]
    assert len(refused) == 1 and "order X is frozen" in refused[0].content


async def test_a_graph_with_the_guarded_agent_pauses_under_a_glob_rule(principals: Path) -> None:
    agent = _guarded(principals, call("refund_order", order_id="Y", amount=9000))
    supervisor = ScriptedChatModel(steps=[route("till", "refund 9000 on order Y"), finish()])
    graph = build_graph([Agent(agent, description="Refunds at the till.")], model=supervisor, policy=POLICY,
                        checkpointer=InMemorySaver())  # fmt: skip
    config: Any = {"configurable": {"thread_id": "g-3"}}
    await graph.ainvoke({"task": "refund 9000 on order Y"}, config)
    state = await graph.aget_state(config, subgraphs=True)
    pending = [i.value for i in state.interrupts] or [i.value for t in state.tasks for i in t.interrupts]
    assert [p["rule"] for p in pending] == ["large-refund"] and paid == []


def test_patterns_are_checked_against_the_tools_they_match() -> None:
    """Where the tools are known, a pattern stands for what it matches; one matching none stays, to be reported."""
    known = ["refund_order", "refund_gift", "get_order"]
    assert POLICY.guarded_tools() == frozenset({"refund*"})
    assert POLICY.guarded_tools(known) == frozenset({"refund_order", "refund_gift"})
    typo = POLICY.model_copy(update={"deny": (POLICY.deny[0].model_copy(update={"tools": ("refnd*",)}),)})
    assert typo.guarded_tools(known) == frozenset({"refund_order", "refund_gift", "refnd*"})
    when = [n for n in POLICY.named_arguments(known) if n.loc[0] == "deny"]
    assert [(n.name, n.tools) for n in when] == [("order_id", ("refund_gift", "refund_order"))]


async def test_a_team_of_spec_agents_builds_under_glob_rules_and_a_pattern_matching_no_tool_is_refused(
    principals: Path,
) -> None:
    """Where every tool is known (card and spec agents), the build checks a rule's pattern as the tools it
    matches: it refused ``refund*`` as an unknown tool, and must refuse ``refnd*``, which governs nothing."""
    import pytest

    from switchboard.agents import AgentSpec
    from switchboard.errors import ConfigError

    paid.clear()
    model = ScriptedChatModel(
        steps=[route("till", "refund 9000 on order Y"), finish()],
        agents={"till": [call("refund_order", order_id="Y", amount=9000)]},
    )
    till = AgentSpec(name="till", description="Refunds at the till.", tools=[refund_order, get_order], model=model)
    registry = load_registry([principals / "principals.yaml"])
    graph = build_graph([till], model=model, policy=POLICY, checkpointer=InMemorySaver(), principals=registry)
    config: Any = {"configurable": {"thread_id": "g-spec"}}
    await graph.ainvoke({"task": "refund 9000 on order Y"}, config)
    state = await graph.aget_state(config, subgraphs=True)
    pending = [i.value for i in state.interrupts] or [i.value for t in state.tasks for i in t.interrupts]
    assert [p["rule"] for p in pending] == ["large-refund"] and paid == []

    typo = POLICY.model_copy(update={"deny": (POLICY.deny[0].model_copy(update={"tools": ("refnd*",)}),)})
    with pytest.raises(ConfigError, match=r"refnd\*"):
        build_graph([till], model=model, policy=typo, checkpointer=InMemorySaver(), principals=registry)


def test_a_pattern_in_the_scopes_lists_is_refused_not_ignored() -> None:
    """Review, round 5: ``guarded_tools(known)`` expanded scope patterns, so ``cancel_*`` passed the tool-name
    check, while the scope checks compare exact names: a scoped ``cancel_*`` scoped nothing."""
    import pytest
    from pydantic import ValidationError

    from switchboard.policies.scopes import Scopes

    scoped = {"tools": ["cancel_*"], "customer_from": ["find_user_id_by_email"], "args": {"order_id": "order"}}
    with pytest.raises(ValidationError, match=r"cancel_\* is a pattern"):
        Scopes.model_validate(scoped)
    with pytest.raises(ValidationError, match=r"find_user_id_by_\* is a pattern"):
        Scopes.model_validate({**scoped, "tools": ["cancel_pending_order"], "customer_from": ["find_user_id_by_*"]})
