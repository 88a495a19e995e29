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
    ("code", """import tempfile
from pathlib import Path

from domains.retail import DEMO_PERSONAS
from domains.retail.demo import build_demo_db
from switchboard.settings import Settings
from switchboard.runs import start_run, resume_run, read_thread

workdir = Path(tempfile.mkdtemp())
db = build_demo_db(workdir / "retail.sqlite")
import os
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
                          approver="notebook-manager", settings=settings)
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
    nbformat.write(build(QUICKSTART), ROOT / "quickstart.ipynb")
    print("wrote", ROOT / "quickstart.ipynb")
