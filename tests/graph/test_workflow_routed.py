"""The supervisor routes a task to a declared workflow, as one step, and goes on from its outcome.

The workflow is wired by ``build_graph(workflows=...)`` or a team file's
``workflows:``; its steps run the supervisor's own agent nodes (embedded
engine, real retail MCP server, SQLite checkpoints), and the routing model
(scripted here) sees it as one more card.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from switchboard.agents.card import TEAMS_DIR, load_team
from switchboard.agents.toolbox import Toolbox
from switchboard.domains.retail import RetailStore
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.graph.workflows import load_workflow
from switchboard.models import resolve_model
from switchboard.runs import prepare_team
from switchboard.testing import ScriptedChatModel, finish, route

NODE = "workflow_retail_return"


async def test_the_supervisor_routes_a_return_to_the_return_workflow(retail_db: Path, tmp_path: Path, mia: Any) -> None:
    team = load_team()
    order_id = mia.orders["delivered_under_500"]
    supervisor = ScriptedChatModel(
        steps=[route(NODE, f"Return everything in order {order_id}", skill="retail_return"), finish("returned")]
    )
    task = (
        f"Hi, this is Mia Chen (mia.chen@example.com). Everything in order {order_id} arrived damaged. "
        "I want to return it and get my money back."
    )
    async with (
        Toolbox.for_team(team, prepare_team(team)) as toolbox,
        AsyncSqliteSaver.from_conn_string(str(tmp_path / "cp.sqlite")) as saver,
    ):
        graph = build_graph(
            team=team,
            model=resolve_model(None, team),
            supervisor_model=supervisor,
            toolbox=toolbox,
            checkpointer=saver,
            workflows=[load_workflow("retail_return")],
        )
        assert NODE in graph.nodes
        final = await graph.ainvoke({"task": task}, {"configurable": {"thread_id": "wf-1"}})
    supervisor.assert_complete()
    assert NODE in supervisor.calls[0].text  # offered to the routing model like an agent
    assert final["outcome"] == "resolved"
    whole = [h for h in query.handoffs(final["trail"]) if h["agent"] == NODE]
    assert len(whole) == 1 and whole[0]["status"] == "done"
    with RetailStore.open(retail_db) as store:
        order = store.get_order(order_id)
    assert order is not None and order["status"] == "returned"


def test_a_team_file_names_its_workflows(tmp_path: Path) -> None:
    shipped = (TEAMS_DIR / "retail.yaml").read_text()
    policy = str((TEAMS_DIR / "../../policies/retail.yaml").resolve())
    text = re.sub(r"(?m)^policy: .*$", f"policy: {policy}", shipped) + "\nworkflows: [retail_return]\n"
    (tmp_path / "team.yaml").write_text(text)
    team = load_team(tmp_path / "team.yaml")
    (workflow,) = team.load_workflows()
    assert workflow.node_name == NODE
    graph = build_graph(team=team, model=resolve_model(None, team))
    assert NODE in graph.nodes
