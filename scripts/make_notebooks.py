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
from switchboard.runs import read_thread, resume_run, start_run
from switchboard.settings import Settings

workdir = Path(tempfile.mkdtemp())
db = build_demo_db(workdir / "retail.sqlite")
os.environ["SWITCHBOARD_RETAIL_DB"] = str(db)
settings = Settings(checkpoint_db=str(workdir / "checkpoints.sqlite"))
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
    ("md", "## A manager approves\nThe thread continues where it stopped; nothing before the pause runs again."),
    ("code", """result = await resume_run(result.thread_id, approved=True, note="damage confirmed",
                          approver="store-manager", settings=settings)
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
from switchboard.policies import load_policy
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


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
        for kind, src in cells
    ]
    return nb


if __name__ == "__main__":
    ROOT.mkdir(exist_ok=True)
    for name, cells in {"quickstart": QUICKSTART, "routing_lab": ROUTING_LAB}.items():
        nbformat.write(build(cells), ROOT / f"{name}.ipynb")
        print("wrote", ROOT / f"{name}.ipynb")
