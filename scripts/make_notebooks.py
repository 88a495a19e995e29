"""Write the notebooks from their cell sources, so they stay reviewable as code.

Run: .venv/bin/python scripts/make_notebooks.py  (the test suite executes them).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1] / "notebooks"

QUICKSTART = [
    ("md", """# Switchboard quick start

A customer asks for a return. The supervisor routes the work to five agents,
the refund is above the $500 policy limit so the thread pauses for a human,
and we approve it. Everything runs offline on the embedded engine, against the
retail MCP server over stdio, with SQLite checkpoints."""),
    ("code", """import os
import tempfile
from pathlib import Path

from switchboard.domains.retail import DEMO_PERSONAS
from switchboard.domains.retail.demo import build_demo_db
from switchboard.policies.principals import generate_key, upsert_principal
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings

workdir = Path(tempfile.mkdtemp())
db = build_demo_db(workdir / "retail.sqlite")
os.environ["SWITCHBOARD_RETAIL_DB"] = str(db)
settings = Settings(home=workdir)  # checkpoints, audit log and approvers' keys go here
# alice, a finance manager, approves refunds above $500 with her own key (`switchboard principals keygen`)
alice_key = generate_key(workdir / "keys" / "alice.pem")
upsert_principal(workdir / "principals.yaml", "alice", ["finance_manager"], alice_key)
mia = DEMO_PERSONAS["mia_chen"]
mia.name, mia.email"""),
    ("md", "## Run the task\nThe run stops at the approval the refund policy requires."),
    ("code", """task = (
    f"Hi, this is {mia.name} ({mia.email}). The espresso machine and the headphones from my "
    "last delivered order arrived damaged. I want to return both and get my money back."
)
result = await start_run(task, settings=settings)
assert result.status == "paused", result
result.pending["question"]"""),
    ("md", "## A finance manager approves\nAlice's answer is signed with her key and bound to this exact refund; "
           "the thread continues where it stopped, and nothing before the pause runs again."),
    ("code", """result = await resume_run(result.thread_id, approved=True, note="damage confirmed",
                          approver="alice", settings=settings)
assert result.status == "completed", result
print(result.summary)
result.agents"""),
    ("md", "## The whole chain behind the outcome"),
    ("code", """thread = await read_thread(result.thread_id, settings=settings)
for event in thread["trail"]:
    if event["kind"] == "decision":
        print(f"decision -> {event['agent'] or event['action']} ({event['confidence']:.2f}): {event['reason']}")
    elif event["kind"] == "handoff":
        tools = ", ".join(call["tool"] for call in event["tool_calls"])
        print(f"  {event['agent']} {event['status']}: {event['summary']}  [tools: {tools}]")
    elif event["kind"] == "escalation":
        print(f"  human {'approved' if event['approved'] else 'rejected'}: {event['question']}")"""),
]


ROUTING_LAB = [
    ("md", """# The routing lab

How the supervisor picks an agent: a capability shortlist, live load and
health, pinned rules, then the model (here the embedded engine). Nothing in
this notebook runs an agent."""),
    ("code", """from switchboard.agents.card import load_team
from switchboard.agents.health import HealthRegistry
from switchboard.graph.routing import Router
from switchboard.lab import evaluate_routing, make_router, route_once

router = make_router()
decision = await route_once("Where is my parcel? It was due on Monday. omar.haddad@example.com", router)
{key: decision[key] for key in ("agent", "skill", "confidence", "reason", "shortlist")}"""),
    ("md", "## Scoring a labelled file\nThe same router scores every task in a JSONL file of `{task, agent}`."),
    ("code", """import json
import tempfile
from pathlib import Path

labelled = Path(tempfile.mkdtemp()) / "tasks.jsonl"
labelled.write_text("\\n".join(json.dumps(row) for row in [
    {"task": "Cancel order #W0627403, I ordered it by mistake", "agent": "finance"},
    {"task": "Is the espresso machine available in the 2L version?", "agent": "inventory"},
    {"task": "What are the most common reasons for returns this month?", "agent": "analytics"},
    {"task": "Please ship my pending order to 12 Oak St, Austin TX 78701 instead", "agent": "logistics"},
]))
report = await evaluate_routing(labelled, router)
print(f"accuracy {report.accuracy:.0%}")
report.confusion"""),
    ("md", """## Workload and health
When finance is saturated (another process holds all its slots) it is not
offered, and its fallback, `finance_backup`, takes the skill."""),
    ("code", """team = load_team()
health = HealthRegistry()
for _ in range(team.card("finance").max_concurrency):
    health.acquire("finance")
busy = Router(team, router.model, team.load_policy(), health)
offer = busy.offer("refund my order")
print("offered:", offer.names)
print("not offered:", dict(offer.unavailable))
assert "finance" not in offer.names and "finance_backup" in offer.names"""),
]


BRING_YOUR_OWN_AGENTS = [
    ("md", """# Bring your own agents

A LangGraph agent you built (`create_react_agent`) and an agent Switchboard
builds from tools and a prompt (`AgentSpec`), in one graph. (The third kind,
a card over MCP tools, is in the quick start.) The supervisor is the embedded default, routing by the
agents' cards; the agents' models are Switchboard's scripted test model, so
everything runs offline with no key. Swap in real chat models and nothing
else changes."""),
    ("code", """from langgraph.checkpoint.memory import InMemorySaver
from langgraph.prebuilt import create_react_agent
from langgraph.types import Command

from switchboard.agents import Agent, AgentSpec
from switchboard.graph import build_graph
from switchboard.policies import DenyRule, PolicyFile
from switchboard.testing import ScriptedChatModel, call, handoff

refunds_made = []


def get_weather(city: str) -> str:
    \"\"\"The current weather in a city.\"\"\"
    return f"{city}: 18 degrees C, light rain"


def refund(order_id: str, amount: float) -> str:
    \"\"\"Refund an amount on an order.\"\"\"
    refunds_made.append((order_id, amount))
    return f"refunded {amount} on {order_id}\""""),
    ("md", """## The agents
`weather` is a graph you built: Switchboard runs it as it is and governs it
at the handoff. `payments` is tools plus a prompt: Switchboard builds it, so
each of its tool calls passes the guard."""),
    ("code", """from langchain_core.messages import AIMessage

weather_model = ScriptedChatModel(steps=[call("get_weather", city="Paris"), AIMessage("Light rain in Paris, 18 C.")])
weather = create_react_agent(weather_model, [get_weather], name="weather")

payments_model = ScriptedChatModel(steps=[
    call("refund", order_id="W123", amount=40.0),
    handoff("The refund was refused by policy; nothing was refunded.", status="failed"),
])
payments = AgentSpec(
    name="payments",
    description="Refunds money on a customer's order.",
    tools=[refund],
    prompt="Refund only what the customer paid.",
    model=payments_model,
)
policy = PolicyFile(
    name="desk", deny=[DenyRule(id="refunds-off", tools=["refund"], reason="refunds are paused this week")]
)
graph = build_graph(
    [Agent(weather, description="Weather reports for a city."), payments],
    policy=policy,
    checkpointer=InMemorySaver(),
)"""),
    ("md", "## Routed by the cards\nThe default model matches the task against each card and routes it."),
    ("code", """def show(values):
    for event in values["trail"]:
        if event["kind"] == "decision":
            print(f"supervisor: {event['action']} {event['agent'] or ''}: {event['reason']}")
        elif event["kind"] == "handoff":
            print(f"  {event['agent']} {event['status']}: {event['summary']}")
            for c in event["tool_calls"]:
                print(f"    {c['tool']}({c['args']}) -> {c['result']}  [policy: {c['policy']}]")


result = await graph.ainvoke({"task": "What is the weather in Paris?"}, {"configurable": {"thread_id": "w"}})
show(result)
assert result["outcome"] == "resolved\""""),
    ("md", """## Governed at the tool call
The policy denies `refund`. The guard refuses the call before the function
runs, the agent reports the failure, and the supervisor puts the thread to
a human."""),
    ("code", """config = {"configurable": {"thread_id": "r"}}
await graph.ainvoke({"task": "Please refund 40 euros on my order W123."}, config)
state = await graph.aget_state(config)
show(state.values)
print("waiting for a human:", state.interrupts[0].value["question"])
assert refunds_made == []"""),
    ("md", "A human closes it; the trail keeps the whole chain."),
    ("code", """final = await graph.ainvoke(Command(resume={"approved": False, "note": "refunds paused"}), config)
final["outcome"], final["summary"]"""),
]


def build(name: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """Build one notebook; cell ids are stable so that regenerating changes nothing."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(src, id=f"{name}-{i}")
        if kind == "md"
        else nbformat.v4.new_code_cell(src, id=f"{name}-{i}")
        for i, (kind, src) in enumerate(cells)
    ]
    return nb


if __name__ == "__main__":
    ROOT.mkdir(exist_ok=True)
    for name, cells in {
        "quickstart": QUICKSTART,
        "routing_lab": ROUTING_LAB,
        "bring_your_own_agents": BRING_YOUR_OWN_AGENTS,
    }.items():
        nbformat.write(build(name, cells), ROOT / f"{name}.ipynb")
        print("wrote", ROOT / f"{name}.ipynb")
