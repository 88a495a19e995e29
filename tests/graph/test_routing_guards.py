"""The router refuses unsafe parallel steps, survives a failing model, and stops loops.

Each test plays the routing model with ``ScriptedChatModel``: a step is the
answer a misbehaving model gives (five agents at once, a 502, JSON text in
place of a tool call). The team is the shipped retail team, whose cards
declare which skills write.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.types import Command

from switchboard.agents.card import Team, load_team
from switchboard.errors import ConfigError
from switchboard.graph import trail as query
from switchboard.graph.loops import detect_loop, step_key
from switchboard.graph.parallel import PlannedStep, parallel_conflict
from switchboard.graph.routing import Router
from switchboard.graph.state import TrailEvent
from switchboard.testing import ScriptedChatModel, fail, finish, handoff, route

from .conftest import GraphFactory

ORDER = "#W0000123"
OTHER = "#W0000456"


@pytest.fixture(scope="module")
def retail() -> Team:
    return load_team()


def _router(team: Team, model: ScriptedChatModel, **kwargs: Any) -> Router:
    return Router(team, model, team.load_policy(), retries=kwargs.pop("retries", 2), backoff=0.0, **kwargs)


def _parallel(*steps: tuple[str, str | None, str], reason: str = "fan out") -> AIMessage:
    (agent, skill, instruction), *rest = steps
    args = {
        "action": "route",
        "agent": agent,
        "skill": skill,
        "instruction": instruction,
        "reason": reason,
        "confidence": 0.9,
        "also": [{"agent": a, "skill": s, "instruction": i} for a, s, i in rest],
    }
    return AIMessage("", tool_calls=[{"name": "RoutingDecision", "args": args, "id": "c1", "type": "tool_call"}])


# --- issue 11, defect 2: the router accepted any parallel steps --------------------------------


async def test_the_reported_fan_out_is_refused_then_escalated(retail: Team) -> None:
    """ "Where is my package" went to five agents, process_return to finance and its backup."""
    fan_out = _parallel(
        ("customer_service", "identify_customer", f"Look up order {ORDER}"),
        ("logistics", "track_shipment", f"Track order {ORDER}"),
        ("finance", "process_return", f"Process the return of order {ORDER}"),
        ("finance_backup", "process_return", f"Process the return of order {ORDER}"),
        ("analytics", "record_return_reason", f"Record why order {ORDER} was returned"),
    )
    model = ScriptedChatModel(steps=[fan_out, fan_out])
    result = await _router(retail, model).decide("Where is my package?", [], {})
    model.assert_complete()
    assert result.decision.action == "escalate" and result.source == "guard"
    assert "cannot run in parallel" in (result.error or "")
    assert "cannot run in parallel" in model.calls[1].text  # the one retry carried the reason


@pytest.mark.parametrize(
    ("steps", "why"),
    [
        (
            [("finance", "issue_refund", f"Refund {ORDER}"), ("finance_backup", "issue_refund", f"Refund {OTHER}")],
            "skill 'issue_refund' appears in two parallel steps",
        ),
        (
            [("finance", "cancel_order", f"Cancel {ORDER}"), ("finance_backup", "change_payment", f"Pay {OTHER}")],
            "back each other up",
        ),
        (
            [("finance", "issue_refund", f"Refund {ORDER}"), ("logistics", "track_shipment", f"Track {ORDER}")],
            "w0000123, which logistics also uses",
        ),
        (
            [("finance", "issue_refund", "Refund the order"), ("logistics", "track_shipment", f"Track {OTHER}")],
            "records of the parallel steps are not named",
        ),
    ],
    ids=["same-skill", "agent-and-backup", "write-and-read-same-order", "write-unknown-records"],
)
def test_unsafe_parallel_steps_are_named(retail: Team, steps: list[tuple[str, str, str]], why: str) -> None:
    assert why in (parallel_conflict([PlannedStep(*s) for s in steps], retail) or "")


def test_two_agents_that_share_a_write_skill_do_not_run_together(ops_team: Team) -> None:
    steps = [PlannedStep("writer", "post", "Post invoice 1042"), PlannedStep("clerk", "file", "File invoice 2093")]
    assert "can both write (post)" in (parallel_conflict(steps, ops_team) or "")


def test_independent_steps_may_run_in_parallel(retail: Team) -> None:
    steps = [
        PlannedStep("logistics", "track_shipment", f"Track order {ORDER}"),
        PlannedStep("inventory", "product_lookup", "Which sizes of the hiking boots are in stock?"),
        PlannedStep("finance", "issue_refund", f"Refund order {OTHER}"),
    ]
    assert parallel_conflict(steps[:2], retail) is None  # two reads
    assert parallel_conflict([steps[0], steps[2]], retail) is None  # a write on another order


async def test_a_refused_fan_out_is_answered_again_with_one_step(retail: Team) -> None:
    bad = _parallel(("finance", "issue_refund", f"Refund {ORDER}"), ("logistics", "track_shipment", f"Track {ORDER}"))
    model = ScriptedChatModel(steps=[bad, route("logistics", f"Track {ORDER}", skill="track_shipment")])
    result = await _router(retail, model).decide("Where is my package?", [], {})
    model.assert_complete()
    assert result.source == "model" and result.attempts == 2 and result.decision.also == []
    assert "cannot run in parallel" in (result.error or "")


@pytest.fixture
def ops_team(tmp_path: Any) -> Team:
    file = tmp_path / "ops.yaml"
    file.write_text(
        "name: ops\nagents:\n"
        "  - name: writer\n    description: Posts invoices.\n"
        "    skills: [{id: post, description: Post an invoice., writes: true}]\n"
        "  - name: clerk\n    description: Files and posts invoices.\n"
        "    skills: [{id: file, description: File an invoice.}, {id: post, description: Post it., writes: true}]\n"
    )
    return load_team(file)


# --- issue 11, defect 3: a failed supervisor model call failed the run --------------------------


async def test_a_model_error_is_retried_then_escalated_naming_the_error(retail: Team) -> None:
    bad_gateway = fail("Error code: 502 - Bad Gateway")
    model = ScriptedChatModel(steps=[bad_gateway, bad_gateway, bad_gateway])
    result = await _router(retail, model, retries=2).decide("Where is my package?", [], {})
    model.assert_complete()  # three attempts: one call and two retries
    assert result.decision.action == "escalate"
    assert "RuntimeError: Error code: 502 - Bad Gateway" in result.decision.reason
    assert "3 time(s)" in (result.error or "")


async def test_a_model_error_that_clears_up_routes_normally(retail: Team) -> None:
    model = ScriptedChatModel(steps=[fail("502"), route("logistics", f"Track {ORDER}", skill="track_shipment")])
    result = await _router(retail, model, retries=1).decide("Where is my package?", [], {})
    model.assert_complete()
    assert result.source == "model" and result.decision.agent == "logistics"


async def test_a_run_whose_supervisor_model_is_down_pauses_for_a_human(desk_graph: GraphFactory) -> None:
    """The reported run ended ``failed: OpenAIAPIError 502``; now it waits for a human instead."""
    down = fail("Error code: 502 - Bad Gateway")
    model = ScriptedChatModel(steps=[down] * 3 + [route("alpha", "count apples"), finish()])
    model.metadata = {"switchboard_model_options": {"retries": 2, "backoff": 0.0}}
    model_agents = {"alpha": [handoff("3 apples")]}
    model.agents.update(model_agents)
    graph = desk_graph(model)
    config: Any = {"configurable": {"thread_id": "down"}}
    await graph.ainvoke({"task": "how many apples?"}, config)
    paused = await graph.aget_state(config)
    assert paused.interrupts, "the run should pause for a human, not fail"
    assert "502 - Bad Gateway" in paused.interrupts[0].value["question"]
    await graph.ainvoke(Command(resume={"approved": True}), config)
    done = await graph.aget_state(config)
    model.assert_complete()
    assert done.values["outcome"] == "resolved"


# --- issue 11, defect 4: prompts assumed tool calling ------------------------------------------


def _json_answer(payload: dict[str, Any]) -> Any:
    def answer(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        return AIMessage(json.dumps(payload))  # how a json_schema provider answers: text, no tool call

    return answer


async def test_json_schema_answers_are_read_and_prompts_ask_for_json(retail: Team) -> None:
    unknown = {"action": "route", "agent": "courier", "instruction": "x", "reason": "r", "confidence": 0.9}
    good = {**unknown, "agent": "logistics", "skill": "track_shipment", "instruction": f"Track {ORDER}"}
    model = ScriptedChatModel(steps=[_json_answer(unknown), _json_answer(good)])
    result = await _router(retail, model, method="json_schema").decide("Where is my package?", [], {})
    model.assert_complete()
    assert result.decision.agent == "logistics" and result.attempts == 2
    first, retry = model.calls[0].text, model.calls[1].text
    assert "one JSON object" in first and "tool" not in first.lower().replace("tools", "")
    assert (
        "agent 'courier' does not exist" in retry
        and "JSON object" in retry
        and "tool" not in retry.split("<feedback>")[1]
    )


async def test_json_mode_prompt_names_the_fields_it_must_return(retail: Team) -> None:
    good = {"action": "finish", "reason": "nothing to do", "confidence": 0.8}
    model = ScriptedChatModel(steps=[_json_answer(good)])
    result = await _router(retail, model, method="json_mode").decide("thanks, bye", [], {})
    assert result.decision.action == "finish"
    assert "action, agent, skill" in model.calls[0].text and "RoutingDecision tool" not in model.calls[0].text


async def test_tool_calling_prompt_asks_for_the_tool_and_ignores_json_text(retail: Team) -> None:
    text = {"action": "finish", "reason": "done", "confidence": 0.8}
    model = ScriptedChatModel(steps=[_json_answer(text), finish()])
    result = await _router(retail, model, method="function_calling").decide("thanks, bye", [], {})
    model.assert_complete()
    assert "Call the RoutingDecision tool once" in model.calls[0].text
    assert result.attempts == 2 and "no RoutingDecision tool call was made" in (result.error or "")


# --- routing loops ------------------------------------------------------------------------------


def _routed(agent: str, skill: str | None, instruction: str = "do it") -> TrailEvent:
    assignment = {"id": "a", "agent": agent, "skill": skill, "instruction": instruction, "tried": []}
    return {"kind": "decision", "action": "route", "agent": agent, "skill": skill, "instruction": instruction,
            "rule": None, "assignments": [assignment]}  # type: ignore[return-value]  # fmt: skip


def test_the_same_step_routed_a_third_time_is_a_loop() -> None:
    trail = [_routed("logistics", "track_shipment"), _routed("logistics", "track_shipment")]
    loop = detect_loop(trail, [step_key("logistics", "track_shipment", "again")])
    assert loop is not None and loop.kind == "repeat" and "3 times" in loop.reason
    assert detect_loop(trail[:1], [step_key("logistics", "track_shipment", "again")]) is None


def test_ping_pong_between_two_agents_is_a_loop() -> None:
    trail = [_routed("finance", "issue_refund"), _routed("logistics", "track_shipment")] * 2
    loop = detect_loop(trail, [step_key("finance", "cancel_order", "x")])
    assert loop is not None and loop.kind == "ping-pong" and loop.agents == ("finance", "logistics")


def test_a_plan_that_moves_on_is_not_a_loop() -> None:
    """The 6-step return: finance twice, but for different skills, with others between."""
    plan = [
        ("finance", "process_return"),
        ("logistics", "schedule_pickup"),
        ("inventory", "restock_returns"),
        ("finance", "issue_refund"),
        ("analytics", "record_return_reason"),
    ]
    trail = [_routed(agent, skill) for agent, skill in plan]
    assert detect_loop(trail, [step_key("customer_service", "notify_customer", "x")]) is None
    assert detect_loop(trail[:4], [step_key("analytics", "record_return_reason", "x")]) is None


def test_a_previous_turn_does_not_count() -> None:
    trail = [_routed("logistics", "track_shipment")] * 2 + [{"kind": "report"}]
    assert detect_loop(trail, [step_key("logistics", "track_shipment", "x")]) is None  # type: ignore[arg-type]


async def test_the_router_escalates_a_loop_instead_of_routing_it(retail: Team) -> None:
    trail = [_routed("logistics", "track_shipment"), _routed("logistics", "track_shipment")]
    model = ScriptedChatModel(steps=[route("logistics", "track it again", skill="track_shipment")])
    result = await _router(retail, model).decide("Where is my package?", trail, {})
    assert result.decision.action == "escalate" and result.error == "routing loop"
    assert "going round in circles" in result.decision.reason


async def test_a_human_who_says_go_on_overrides_the_loop_guard(retail: Team) -> None:
    approved = {"kind": "escalation", "question": "loop?", "approved": True, "note": "track it once more"}
    trail = [_routed("logistics", "track_shipment"), _routed("logistics", "track_shipment"), approved]
    model = ScriptedChatModel(steps=[route("logistics", "track it again", skill="track_shipment")])
    result = await _router(retail, model).decide("Where is my package?", trail, {})  # type: ignore[arg-type]
    assert query.human_said_go(trail)  # type: ignore[arg-type]
    assert result.decision.action == "route" and result.source == "model"


# --- the routing prompt (issue 11 defect 5, issue 8 compact context) ---------------------------


async def test_the_prompt_names_skills_by_id_and_describes_them_only_when_ambiguous(retail: Team) -> None:
    model = ScriptedChatModel(steps=[finish()])
    await _router(retail, model).decide(f"Where is my package? Order {ORDER}", [], {})
    prompt = model.calls[0].text
    agents = json.loads(prompt.split("<agents>\n")[1].split("\n</agents>")[0])
    finance = next(a for a in agents if a["name"] == "finance")
    assert finance["writes"][0] == "process_return" and "skills" not in finance  # every finance skill writes
    support = next(a for a in agents if a["name"] == "customer_service")
    assert support["skills"] == ["identify_customer", "human_handoff"] and support["writes"] == ["notify_customer"]
    assert next(a for a in agents if a["name"] == "finance_backup")["backup_for"] == ["finance"]
    assert "load" not in finance  # idle and healthy: nothing to say
    assert "`also`: steps to run at the same time" in prompt and "never an agent with its backup" in prompt
    assert "\n " not in prompt.split("<agents>")[1].split("</agents>")[0]  # compact JSON, no indent
    assert "<skills>" not in prompt and "Request the return of delivered items" not in prompt  # logistics leads


async def test_examples_are_added_only_when_the_shortlist_is_ambiguous(retail: Team) -> None:
    model = ScriptedChatModel(steps=[finish()])
    router = _router(retail, model)
    task = "I want to return the boots and get my money back, and know why people return them"
    assert router.ambiguous(task, router.offer(task))
    await router.decide(task, [], {})
    prompt = model.calls[0].text
    assert '"examples"' in prompt and prompt.count('"id":"process_return"') == 1  # each skill described once


async def test_structured_output_is_bound_once_per_offer(retail: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    model = ScriptedChatModel(steps=[finish(), finish(), finish()])
    router = _router(retail, model)
    binds: list[Any] = []
    original = ScriptedChatModel.with_structured_output

    def counting(self: ScriptedChatModel, *args: Any, **kwargs: Any) -> Any:
        binds.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ScriptedChatModel, "with_structured_output", counting)
    for task in ("thanks", "bye", "ok"):
        await router.decide(task, [], {})
    assert len(binds) == 1  # the retail offer is the same each time


async def test_a_configuration_error_is_raised_not_retried(retail: Team) -> None:
    def misconfigured(messages: list[BaseMessage], tools: list[str]) -> AIMessage:
        raise ConfigError("the engine was bound to the wrong tools")

    model = ScriptedChatModel(steps=[misconfigured])
    with pytest.raises(ConfigError, match="wrong tools"):
        await _router(retail, model).decide("Where is my package?", [], {})
    model.assert_complete()  # one call: a bug of ours is not a flaky provider
