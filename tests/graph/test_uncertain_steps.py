"""A step whose write may have taken effect (``uncertain``) goes to a human, and counts against its agent.

The tool server is real: a FastMCP server over stdio whose ``pay`` write
notes each call in a log as it starts, then takes longer than the card's
``timeout_s``. So the log says how many times money moved, whatever the
trail says. The models are scripted; each script holds what a routing model
would do if it were asked again (give the payment to ``cashier2``), so a
supervisor that asks it instead of a human pays twice.
"""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from switchboard.agents.card import Team, load_team
from switchboard.agents.health import HealthRegistry
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.policies import DenyRule, PolicyFile
from switchboard.policies.budgets import Budgets
from switchboard.policies.principals import load_registry
from switchboard.settings import Settings
from switchboard.testing import ScriptedChatModel, call, finish, handoff, route, signed_answer

SERVER = textwrap.dedent(
    '''
    """A payment server: ``pay`` notes the call, then hangs past the caller's timeout."""
    import asyncio
    import sys

    from mcp.server.fastmcp import FastMCP
    from mcp.types import ToolAnnotations

    log, delay = sys.argv[1], float(sys.argv[2])
    mcp = FastMCP("pay")


    @mcp.tool()
    async def pay(amount: float) -> str:
        """Pay an amount."""
        with open(log, "a") as f:
            f.write(f"pay {amount}\\n")
        await asyncio.sleep(delay)
        return f"paid {amount}"


    @mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
    async def lookup(x: str) -> str:
        """Look something up."""
        return f"found {x}"


    mcp.run()
    '''
)

TEAM = """
name: pay
servers:
  pay: {{transport: stdio, command: "${{PYTHON}}", args: ["-P", "{server}", "{log}", "{delay}"]}}
agents:
  - name: cashier
    description: Takes payments.
    timeout_s: 0.5
    tools: [pay, lookup]
    skills: [{{id: payments, description: Take a payment., writes: true}}]
    fallbacks: {{payments: [cashier2]}}
  - name: cashier2
    description: Takes payments too.
    tools: [pay, lookup]
    skills: [{{id: payments, description: Take a payment., writes: true}}]
"""

POLICY = PolicyFile(name="pay")


@pytest.fixture
def payments(tmp_path: Path) -> Path:
    """The server's log: one line per ``pay`` call that reached it."""
    return tmp_path / "pay.log"


@pytest.fixture
def team(tmp_path: Path, payments: Path) -> Team:
    server = tmp_path / "pay_server.py"
    server.write_text(SERVER)
    file = tmp_path / "pay.yaml"
    file.write_text(TEAM.format(server=server, log=payments, delay=3))
    return load_team(file)


Factory = Callable[..., Any]


@pytest.fixture
async def make(team: Team, tmp_path: Path, principals: Path) -> AsyncIterator[Factory]:
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver, Toolbox.for_team(team) as toolbox:

        def factory(model: ScriptedChatModel, policy: PolicyFile = POLICY, health: HealthRegistry | None = None) -> Any:
            return build_graph(
                team=team, model=model, policy=policy, toolbox=toolbox, checkpointer=saver, health=health,
                principals=load_registry([Settings().data_dir / "principals.yaml"]),
            )  # fmt: skip

        yield factory


def _config(thread: str) -> Any:
    return {"configurable": {"thread_id": thread}}


async def _run(graph: Any, payload: Any, thread: str = "t") -> Any:
    await graph.ainvoke(payload, _config(thread))
    return await graph.aget_state(_config(thread))


def _pays(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _would_pay_again() -> ScriptedChatModel:
    """cashier's payment hangs; asked again, the routing model would give it to cashier2, who pays."""
    return ScriptedChatModel(
        steps=[route("cashier", "Pay 10", skill="payments"), route("cashier2", "Pay 10", skill="payments"), finish()],
        agents={
            "cashier": [call("pay", amount=10), handoff("the payment timed out", status="failed")],
            "cashier2": [call("pay", amount=10), handoff("paid", status="done")],
        },
    )


async def test_a_write_that_timed_out_asks_a_human_not_the_routing_model(make: Factory, payments: Path) -> None:
    model = _would_pay_again()
    state = await _run(make(model), {"task": "pay 10"})

    assert _pays(payments) == 1  # cashier2 was not sent the payment
    (only,) = query.handoffs(state.values["trail"])
    assert only["agent"] == "cashier" and only["tool_calls"][0]["outcome"] == "uncertain"
    assert len([c for c in model.calls if c.agent is None]) == 1  # the routing model was not asked again
    assert state.next == ("escalate",)
    asked = query.decisions(state.values["trail"])[-1]
    assert (asked["action"], asked["source"], asked["error"]) == ("escalate", "guard", "uncertain step")
    (pending,) = state.interrupts
    question = pending.value["question"]
    assert "cashier" in question and "pay" in question and "timed out" in question and "reject" in question


async def test_the_human_decides_who_may_try_the_step_again(make: Factory, payments: Path) -> None:
    model = _would_pay_again()
    graph = make(model)
    paused = await _run(graph, {"task": "pay 10"})
    (pending,) = paused.interrupts
    answer = signed_answer(pending.value, "t", note="It did not go through; cashier2 may pay.")
    done = await _run(graph, Command(resume={pending.id: answer}))

    model.assert_complete()
    assert _pays(payments) == 2  # the second payment is the human's decision
    first, second = query.handoffs(done.values["trail"])
    assert (first["agent"], second["agent"], second["status"]) == ("cashier", "cashier2", "done")
    routing_prompt = [c for c in model.calls if c.agent is None][-2].text
    assert "cashier2 may pay" in routing_prompt  # the model decided with the human's note in front of it


async def test_a_human_who_rejects_ends_the_run_with_nothing_paid_again(make: Factory, payments: Path) -> None:
    graph = make(_would_pay_again())
    paused = await _run(graph, {"task": "pay 10"})
    (pending,) = paused.interrupts
    answer = signed_answer(pending.value, "t", approved=False, note="Payment went through; stop.")
    done = await _run(graph, Command(resume={pending.id: answer}))

    assert done.values["outcome"] == "rejected" and not done.next
    assert _pays(payments) == 1


async def test_an_uncertain_step_is_asked_about_even_after_another_question(make: Factory, payments: Path) -> None:
    """A budget question came first; the human's go-ahead on it is no go-ahead for the uncertain payment."""
    policy = PolicyFile(name="pay", budgets=Budgets(tool_calls=1))
    model = ScriptedChatModel(
        steps=[route("cashier", "Pay 10", skill="payments"), route("cashier2", "Pay 10", skill="payments"), finish()],
        agents={
            "cashier": [call("lookup", x="invoice"), call("pay", amount=10), handoff("timed out", status="failed")],
            "cashier2": [call("pay", amount=10), handoff("paid", status="done")],
        },
    )
    graph = make(model, policy)
    over = await _run(graph, {"task": "pay 10"})
    (budget,) = over.interrupts
    assert "over budget" in budget.value["question"]
    then = await _run(graph, Command(resume={budget.id: signed_answer(budget.value, "t")}))

    assert _pays(payments) == 1
    (pending,) = then.interrupts
    assert "pay" in pending.value["question"] and "over budget" not in pending.value["question"]
    assert query.decisions(then.values["trail"])[-1]["error"] == "uncertain step"


async def test_uncertain_steps_open_the_agents_circuit(make: Factory) -> None:
    health = HealthRegistry()
    for thread in ("a", "b", "c"):  # the default breaker opens after three failures in a row
        model = ScriptedChatModel(
            steps=[route("cashier", "Pay 10", skill="payments")],
            agents={"cashier": [call("pay", amount=10), handoff("timed out", status="failed")]},
        )
        await _run(make(model, health=health), {"task": "pay 10"}, thread)
    seen = health.health("cashier")
    assert seen.error_rate == 1.0 and seen.breaker == "open"


async def test_a_step_refused_by_policy_does_not_count_against_the_agent(make: Factory, payments: Path) -> None:
    health = HealthRegistry()
    policy = PolicyFile(name="pay", deny=[DenyRule(id="frozen", tools=("pay",), reason="payments are frozen")])
    for thread in ("a", "b", "c"):
        model = ScriptedChatModel(
            steps=[route("cashier", "Pay 10", skill="payments"), finish()],
            agents={"cashier": [call("pay", amount=10), handoff("payments are frozen", status="failed")]},
        )
        state = await _run(make(model, policy, health), {"task": "pay 10"}, thread)
        (refused,) = query.handoffs(state.values["trail"])[0]["tool_calls"]
        assert refused["outcome"] == "refused"
    seen = health.health("cashier")
    assert _pays(payments) == 0 and seen.error_rate == 0.0 and seen.breaker == "closed"
