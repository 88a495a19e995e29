"""Interrupt payloads and the one resume shape, checked inside the graph.

Every test resumes the compiled graph directly with ``Command(resume=...)``,
as a LangGraph server or a notebook would, so nothing here relies on the CLI's
own checks.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolCall
from langchain_core.tools import tool
from langgraph.types import Command, Send

from switchboard.agents.card import Team, load_team
from switchboard.agents.interrupts import Answer, ApprovalRequest, EscalationRequest, read_answer
from switchboard.agents.toolbox import Toolbox
from switchboard.checkpoints import open_checkpointer
from switchboard.checkpoints.audit import open_audit
from switchboard.errors import ApprovalRefused, ConfigError, ThreadError
from switchboard.graph import build_graph
from switchboard.graph import trail as query
from switchboard.policies import PolicyFile, call_hash
from switchboard.policies.answers import TIMEOUT
from switchboard.policies.principals import load_registry
from switchboard.settings import Settings
from switchboard.sweeper import due, sweep_graph
from switchboard.testing import ScriptedChatModel, call, escalate, finish, handoff, route, signed_answer

TEAM = """
name: shop
agents:
  - name: till
    description: Takes payments and refunds.
    skills: [{id: refunds, description: Refunds.}]
    tools: [refund]
"""

POLICY = PolicyFile.model_validate(
    {
        "name": "shop",
        "approvals": [
            {
                "id": "large-refund",
                "tools": ["refund"],
                "measure": {"field": "amount"},
                "threshold": 500,
                "roles": ["finance_manager"],
                "question": "Refund ${value:.2f}?",
            }
        ],
        "escalation_roles": ["store_manager"],
    }
)
CONFIG: Any = {"configurable": {"thread_id": "t"}}
refunds: list[float] = []
declined: set[float] = set()
"""Amounts the payment provider declines (the call fails)."""


@tool
def refund(amount: float) -> str:
    """Refund an amount (a write)."""
    if amount in declined:
        raise ValueError("declined by the payment provider")
    refunds.append(amount)
    return f"refunded {amount}"


Factory = Callable[[ScriptedChatModel], Any]


@pytest.fixture
async def make(tmp_path: Path, principals: Path) -> AsyncIterator[Factory]:
    refunds.clear()
    declined.clear()
    file = tmp_path / "shop.yaml"
    file.write_text(TEAM)
    team: Team = load_team(file)
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        registry = load_registry([Settings().data_dir / "principals.yaml"])  # alice, bob, sam (tests/conftest.py)
        yield lambda model: build_graph(
            team=team, model=model, toolbox=Toolbox.of([refund]), policy=POLICY, checkpointer=saver,
            principals=registry,
        )  # fmt: skip


def _refund_script() -> ScriptedChatModel:
    return ScriptedChatModel(
        steps=[route("till", "refund 900", skill="refunds"), finish("refunded")],
        agents={"till": [call("refund", amount=900), handoff("Refunded 900.")]},
    )


async def _resume(graph: Any, value: Any) -> Any:
    await graph.ainvoke(Command(resume=value), CONFIG)
    return await graph.aget_state(CONFIG)


async def _resume_by_id(graph: Any, value: Any) -> Any:
    """Resume as the CLI and the sweeper do: the value keyed by the pending interrupt's id."""
    [pending] = (await graph.aget_state(CONFIG)).interrupts
    await graph.ainvoke(Command(resume={pending.id: value}), CONFIG)
    return await graph.aget_state(CONFIG)


async def _pending(graph: Any) -> dict[str, Any]:
    return dict((await graph.aget_state(CONFIG)).interrupts[0].value)


async def test_a_wrong_shape_resume_is_refused_and_the_thread_stays_paused(make: Factory) -> None:
    model = _refund_script()
    graph = make(model)
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    asked = await _pending(graph)
    for wrong in ["yes", {"approve": True}, {"approved": "yes"}]:
        state = await _resume(graph, wrong)
        (pending,) = state.interrupts
        assert pending.value["question"] == asked["question"] == "Refund $900.00?"
        assert f"refused answer {wrong!r}" in pending.value["error"]
        assert pending.value["interrupt_id"] == asked["interrupt_id"]  # the same question, asked again
        assert state.next and refunds == []  # still paused, nothing written
    state = await _resume(graph, signed_answer(asked, "t", "alice", note="receipt seen"))
    model.assert_complete()
    assert not state.interrupts and state.values["outcome"] == "resolved"
    assert refunds == [900]
    (human,) = query.escalations(state.values["trail"])
    assert human["approved"] and human["approver"] == "alice" and human["note"] == "receipt seen"


async def test_a_raw_resume_cannot_approve_without_a_valid_signature(make: Factory) -> None:
    """Hole 1 of issue 7, at the graph: Command(resume=True) and a claimed name ran the refund."""
    model = _refund_script()
    graph = make(model)
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    asked = await _pending(graph)
    forged = signed_answer(asked, "t", "alice")
    forged["approval"] = {**forged["approval"], "expires_at": forged["approval"]["expires_at"] + 10**6}
    other_call = signed_answer({**asked, "args": {"amount": 1}}, "t", "alice")
    for answer, why in [
        (True, "unsigned"),
        ({"approved": True}, "unsigned"),
        ({"approved": True, "approver": "random-intern"}, "unsigned"),
        (signed_answer({**asked, "roles": []}, "t", "bob"), "needs finance_manager"),
        (signed_answer(asked, "other-thread", "alice"), "not t"),
        (signed_answer({**asked, "interrupt_id": "x"}, "t", "alice"), "another question"),
        (other_call, "different tool or different arguments"),
        (forged, "signature is not alice's"),
        (signed_answer(asked, "t", "alice", now=time.time() - 7200), "expired"),
    ]:
        state = await _resume(graph, answer)
        (pending,) = state.interrupts
        assert why in pending.value["error"], (answer, pending.value["error"])
        assert refunds == []
    state = await _resume(graph, signed_answer(asked, "t", "alice"))
    model.assert_complete()
    assert refunds == [900] and state.values["outcome"] == "resolved"


async def test_a_rejection_needs_no_signature_and_runs_nothing(make: Factory) -> None:
    model = ScriptedChatModel(
        steps=[route("till", "refund 900", skill="refunds")],
        agents={"till": [call("refund", amount=900)]},
    )
    graph = make(model)
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    state = await _resume(graph, {"approved": False, "note": "no receipt", "approver": "mallory"})
    model.assert_complete()
    assert refunds == [] and not state.interrupts and state.values["outcome"] == "rejected"
    (human,) = query.escalations(state.values["trail"])  # a name nobody checked is not recorded as a principal's
    assert human["approver"] == "mallory (unsigned)" and not human["approved"]


async def test_the_approval_payload_says_what_who_and_how(make: Factory) -> None:
    graph = make(_refund_script())
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    value = await _pending(graph)
    request = ApprovalRequest.model_validate(value)  # the documented model reads it back exactly
    assert request.model_dump(mode="json") == value
    assert (request.kind, request.rule, request.agent, request.tool) == ("approval", "large-refund", "till", "refund")
    assert request.args == {"amount": 900} and (request.value, request.threshold) == (900, 500)
    assert request.roles == ["finance_manager"] and request.error is None
    assert request.call == call_hash("refund", {"amount": 900}) and request.interrupt_id
    assert request.resume.json_schema == Answer.model_json_schema()
    Answer.model_validate(request.resume.example)  # the example is a valid answer


async def test_supervisor_escalations_are_answered_by_the_escalation_roles(make: Factory) -> None:
    model = ScriptedChatModel(steps=[escalate("Refund twice?"), finish("a human said go on")])
    graph = make(model)
    await graph.ainvoke({"task": "refund twice"}, CONFIG)
    asked = await _pending(graph)
    request = EscalationRequest.model_validate(asked)
    assert request.kind == "escalation" and request.roles == ["store_manager"]
    state = await _resume(graph, {"approved": True})
    assert "unsigned" in state.interrupts[0].value["error"]
    with pytest.raises(ApprovalRefused, match="needs role store_manager"):
        signed_answer(asked, "t", "alice")
    state = await _resume(graph, signed_answer(asked, "t", "sam"))
    model.assert_complete()
    assert state.values["outcome"] == "resolved"


async def test_a_supervisor_escalation_follows_the_policys_escalation_path(tmp_path: Path, principals: Path) -> None:
    """The supervisor's own questions time out, widen and end as policy files say, not only approvals."""
    steps = [{"roles": ["support_agent"], "timeout": "1h", "on_timeout": "escalate"},
             {"roles": ["store_manager"], "timeout": "2h", "on_timeout": "reject"}]  # fmt: skip
    policy = PolicyFile.model_validate(
        {"name": "shop", "escalation_path": "desk", "escalations": [{"id": "desk", "steps": steps}]}
    )
    clock = [time.time()]
    model = ScriptedChatModel(steps=[escalate("Refund twice?")])
    file = tmp_path / "shop.yaml"
    file.write_text(TEAM)
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:
        graph = build_graph(
            team=load_team(file), model=model, toolbox=Toolbox.of([refund]), policy=policy, checkpointer=saver,
            principals=load_registry([principals / "principals.yaml"]),
            audit=open_audit(principals, clock=lambda: clock[0]),
        )  # fmt: skip
        await graph.ainvoke({"task": "refund twice"}, CONFIG)
        asked = await _pending(graph)
        assert (asked["kind"], asked["escalation"], asked["roles"], asked["step"]) == (
            "escalation",
            "desk",
            ["support_agent"],
            0,
        )
        assert asked["deadline"] == pytest.approx(asked["asked_at"] + 3600)
        # The path names who answers, so an answer must prove who sent it.
        assert "unsigned" in (await _resume_by_id(graph, {"approved": True})).interrupts[0].value["error"]
        assert "has not timed out" in (await _resume_by_id(graph, TIMEOUT)).interrupts[0].value["error"]
        clock[0] = asked["asked_at"] + 3601
        [moved] = await sweep_graph(graph, policy, now=clock[0])
        assert (moved.action, moved.roles) == ("escalated", ("support_agent", "store_manager"))
        clock[0] = asked["asked_at"] + 3 * 3600 + 1
        [ended] = await sweep_graph(graph, policy, now=clock[0])
        state = await graph.aget_state(CONFIG)
    assert ended.action == "rejected" and not state.interrupts and state.values["outcome"] == "rejected"
    [event] = [e for e in state.values["trail"] if e["kind"] == "escalation"]
    assert event["source"] == "supervisor" and event["approved"] is False and "store_manager" in event["note"]
    model.assert_complete()


async def test_a_waiting_question_follows_the_policy_in_force(tmp_path: Path, principals: Path) -> None:
    """A path added while a question waits applies to it: counted from its asking, seen by the sweeper too."""
    clock = [time.time()]
    model = ScriptedChatModel(steps=[escalate("Refund twice?")])
    file = tmp_path / "shop.yaml"
    file.write_text(TEAM)
    before = {"name": "shop", "escalation_roles": ["store_manager"]}
    steps = [{"roles": ["store_manager"], "timeout": "48h", "on_timeout": "reject"}]
    after = {**before, "escalation_path": "desk", "escalations": [{"id": "desk", "steps": steps}]}
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:

        def graph_under(policy: dict[str, Any]) -> Any:
            return build_graph(
                team=load_team(file), model=model, toolbox=Toolbox.of([refund]), checkpointer=saver,
                policy=PolicyFile.model_validate(policy), principals=load_registry([principals / "principals.yaml"]),
                audit=open_audit(principals, clock=lambda: clock[0]),
            )  # fmt: skip

        await graph_under(before).ainvoke({"task": "refund twice"}, CONFIG)
        [pending] = (await graph_under(before).aget_state(CONFIG)).interrupts
        assert pending.value["escalation"] is None and pending.value["deadline"] is None
        clock[0] += 49 * 3600  # two days later, the policy gives such questions 48 hours
        assert due(PolicyFile.model_validate(after), pending.value, clock[0])  # the sweeper would reject it
        upgraded = graph_under(after)
        answer = signed_answer(pending.value, "t", "sam", now=clock[0])
        await upgraded.ainvoke(Command(resume={pending.id: answer}), CONFIG)
        state = await upgraded.aget_state(CONFIG)
    model.assert_complete()
    assert state.values["outcome"] == "rejected" and not state.interrupts
    [event] = [e for e in state.values["trail"] if e["kind"] == "escalation"]
    assert not event["approved"] and "within 172800s (path desk)" in event["note"]


async def test_who_may_answer_a_waiting_question_is_the_policys_now(tmp_path: Path, principals: Path) -> None:
    """A role taken away since can no longer answer it, whatever became of its old path."""
    rule = {"id": "large-refund", "tools": ["refund"], "measure": {"field": "amount"}, "threshold": 500,
            "question": "Refund ${value:.2f}?"}  # fmt: skip

    def path(name: str, role: str) -> dict[str, Any]:
        return {"id": name, "steps": [{"roles": [role], "timeout": "48h", "on_timeout": "reject"}]}

    before = {"name": "shop", "approvals": [{**rule, "roles": ["support_agent"], "escalation": "lax"}],
              "escalations": [path("lax", "support_agent")]}  # fmt: skip
    # The rule now names no role of its own, only a path; lax stays defined (another rule could use it).
    after = {"name": "shop", "approvals": [{**rule, "escalation": "strict"}],
             "escalations": [path("lax", "support_agent"), path("strict", "finance_manager")]}  # fmt: skip
    model = _refund_script()
    async with open_checkpointer(tmp_path / "cp.sqlite") as saver:

        def graph_under(policy: dict[str, Any]) -> Any:
            file = tmp_path / "shop.yaml"
            file.write_text(TEAM)
            return build_graph(
                team=load_team(file), model=model, toolbox=Toolbox.of([refund]), checkpointer=saver,
                policy=PolicyFile.model_validate(policy), principals=load_registry([principals / "principals.yaml"]),
            )  # fmt: skip

        await graph_under(before).ainvoke({"task": "refund 900"}, CONFIG)
        asked = await _pending(graph_under(before))
        assert asked["roles"] == ["support_agent"] and asked["escalation"] == "lax"
        tightened = graph_under(after)
        with pytest.raises(ApprovalRefused, match="needs role finance_manager"):
            signed_answer({**asked, "roles": ["finance_manager"]}, "t", "bob")  # bob is a support agent
        refused = await _resume(tightened, _signed_by_bob(asked))
        assert "finance_manager" in refused.interrupts[0].value["error"] and refunds == []
        question = refused.interrupts[0].value
        assert question["roles"] == ["finance_manager"] and question["escalation"] == "strict"
        state = await _resume(tightened, signed_answer(question, "t", "alice"))
    model.assert_complete()
    assert refunds == [900] and state.values["outcome"] == "resolved"


def _signed_by_bob(question: dict[str, Any]) -> dict[str, Any]:
    """bob's own signature as a support agent, sent as is (sign_answer would refuse him before sending)."""
    from switchboard.policies.approvals import sign_approval

    keys = Settings().data_dir / "keys"
    approval = sign_approval("bob", keys / "bob.pem", "support_agent", "t", question["interrupt_id"],
                             question["tool"], question["args"], now=time.time())  # fmt: skip
    return {"approved": True, "note": "", "approver": "bob", "approval": approval.model_dump()}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("yes", "valid dictionary"),
        (None, "valid dictionary"),
        ({"approve": True}, "approved: Field required"),
        ({"approved": "yes"}, "approved: Input should be a valid boolean"),
        ({"approved": 1}, "approved: Input should be a valid boolean"),
        ({"approved": True, "note": 3}, "note: Input should be a valid string"),
        ({"approved": True, "signature": "x"}, "signature: Extra inputs are not permitted"),
    ],
)
def test_read_answer_refuses_every_other_shape(value: Any, problem: str) -> None:
    with pytest.raises(ApprovalRefused) as refused:
        read_answer(value)
    assert (
        refused.value.reason == "malformed"
        and problem in str(refused.value)
        and '{"approved": true' in str(refused.value)
    )


def test_read_answer_accepts_the_documented_shape() -> None:
    assert read_answer({"approved": False, "note": "no", "approver": "ana"}) == Answer(
        approved=False, note="no", approver="ana"
    )
    with pytest.raises(ApprovalRefused, match="unsigned"):
        read_answer(True)  # one shape: an object, never a bare boolean


async def test_an_approved_call_that_fails_approves_nothing_later(make: Factory) -> None:
    """Hole 3 of issue 7: an approval was kept per rule and order, so a failed call approved a larger one."""
    declined.add(900)
    model = ScriptedChatModel(
        steps=[route("till", "refund", skill="refunds")],
        agents={"till": [call("refund", amount=900), call("refund", amount=5000)]},
    )
    graph = make(model)
    await graph.ainvoke({"task": "refund"}, CONFIG)
    first = await _pending(graph)
    state = await _resume(graph, signed_answer(first, "t", "alice"))
    (pending,) = state.interrupts  # the larger call is a new question, with its own id and call hash
    assert pending.value["args"] == {"amount": 5000} and pending.value["interrupt_id"] != first["interrupt_id"]
    state = await _resume(graph, signed_answer(first, "t", "alice"))  # the old approval answers nothing here
    assert "another question" in state.interrupts[0].value["error"] and refunds == []


def _same_id(*amounts: float) -> AIMessage:
    """One model turn whose tool calls all carry the id ``c1``, as some local model servers reply."""
    calls = [ToolCall(name="refund", args={"amount": a}, id="c1", type="tool_call") for a in amounts]
    return AIMessage("", tool_calls=calls)


async def test_calls_that_share_an_id_each_need_their_own_approval(make: Factory) -> None:
    """An approval covers one call: a second call under the same id used to run on it, and again on a replay."""
    model = ScriptedChatModel(
        steps=[route("till", "refund 900 twice", skill="refunds"), finish("refunded")],
        agents={"till": [_same_id(900, 900), handoff("Refunded twice.")]},
    )
    graph = make(model)
    await graph.ainvoke({"task": "refund 900 twice"}, CONFIG)
    first = await _pending(graph)
    state = await _resume_by_id(graph, signed_answer(first, "t", "alice"))
    (second,) = state.interrupts  # both calls are asked about before either runs
    assert second.value["interrupt_id"] != first["interrupt_id"] and refunds == []
    state = await _resume_by_id(graph, signed_answer(first, "t", "alice"))  # the first answer, replayed
    assert "another question" in state.interrupts[0].value["error"] and refunds == []
    state = await _resume_by_id(graph, signed_answer(second.value, "t", "alice"))
    model.assert_complete()
    assert refunds == [900, 900] and state.values["outcome"] == "resolved"
    entries = open_audit(Settings().data_dir).entries("t")
    assert len([e for e in entries if e.kind == "tool_call"]) == 2
    assert len([e for e in entries if e.kind == "approval_consumed"]) == 2


async def test_every_call_is_on_the_audit_log_whatever_ids_the_model_gives(make: Factory) -> None:
    """Entries are keyed by call id: calls sharing one, or with none, were recorded once, the rest silently lost."""
    blank = [AIMessage("", tool_calls=[ToolCall(name="refund", args={"amount": 20}, id="", type="tool_call")])
             for _ in range(2)]  # fmt: skip
    model = ScriptedChatModel(
        steps=[route("till", "refunds", skill="refunds"), finish("refunded")],
        agents={"till": [_same_id(100, 450), _same_id(30), *blank, handoff("Refunded.")]},
    )
    graph = make(model)
    await graph.ainvoke({"task": "refunds"}, CONFIG)
    model.assert_complete()
    entries = open_audit(Settings().data_dir).entries("t")
    assert refunds == [100, 450, 30, 20, 20]
    assert sorted(e.payload["args"]["amount"] for e in entries if e.kind == "tool_call") == [20, 20, 30, 100, 450]
    assert sorted(e.payload["args"]["amount"] for e in entries if e.kind == "policy") == [20, 20, 30, 100, 450]


async def test_no_step_runs_unless_the_supervisor_routes_it(make: Factory) -> None:
    """A caller's Command(goto=Send(agent, ...)) ran a made-up step, past routing rules, grants and hop limits."""
    model = ScriptedChatModel(steps=[finish("nothing to do")], agents={"till": [call("refund", amount=100)]})
    graph = make(model)
    await graph.ainvoke({"task": "hello"}, CONFIG)
    step = {"id": "x", "agent": "till", "skill": None, "instruction": "refund 100", "tried": []}
    made_up = Send("till", {"task": "t", "context": {}, "history": [], "assignment": step})
    with pytest.raises(ThreadError, match="only the supervisor routes"):
        await graph.ainvoke(Command(goto=made_up), CONFIG)
    with pytest.raises(ConfigError, match="runs asynchronously"):  # the sync path runs nothing at all
        graph.invoke(Command(goto="till"), CONFIG)
    with pytest.raises(ThreadError, match="only the supervisor routes"):  # a state write may not schedule it either
        await graph.aupdate_state(CONFIG, Command(goto=made_up), as_node="supervisor")
    state = await graph.aget_state(CONFIG)
    assert refunds == [] and state.next == () and len(query.handoffs(state.values["trail"])) == 0


async def test_a_write_aimed_at_an_earlier_checkpoint_cannot_drop_the_question(make: Factory) -> None:
    """The checks read the checkpoint the config named: a write to one before the question forked it away."""
    graph = make(_refund_script())
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    asked = await _pending(graph)
    earlier = next(h for h in [h async for h in graph.aget_state_history(CONFIG)] if not h.interrupts)
    with pytest.raises(ThreadError, match="paused on a question"):
        await graph.aupdate_state(earlier.config, {"outcome": "resolved"}, as_node="finalize")
    with pytest.raises(ThreadError, match="from an earlier checkpoint"):  # a run there would fork the thread
        await graph.ainvoke(Command(update={"task": "forged"}), earlier.config)
    state = await graph.aget_state(CONFIG)
    assert [i.value["interrupt_id"] for i in state.interrupts] == [asked["interrupt_id"]] and refunds == []


async def test_an_answer_keyed_by_the_questions_own_id_is_applied(make: Factory) -> None:
    """Outside review, round 5: the payload's ``interrupt_id`` is not LangGraph's interrupt id; an answer keyed
    by it was taken and resumed nothing, with no error, and the thread stayed paused."""
    model = _refund_script()
    graph = make(model)
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    [pending] = (await graph.aget_state(CONFIG)).interrupts
    assert pending.value["interrupt_id"] != pending.id  # two ids: the payload's names the question
    answer = signed_answer(pending.value, "t", "alice")
    state = await _resume(graph, {pending.value["interrupt_id"]: answer})
    model.assert_complete()
    assert not state.interrupts and state.values["outcome"] == "resolved" and refunds == [900]


async def test_an_answer_keyed_by_an_id_no_question_has_is_refused(make: Factory) -> None:
    model = _refund_script()
    graph = make(model)
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    [pending] = (await graph.aget_state(CONFIG)).interrupts
    answer = signed_answer(pending.value, "t", "alice")
    with pytest.raises(ThreadError, match=f"no pending question has the id {'0' * 32}.*{pending.id}"):
        await graph.ainvoke(Command(resume={"0" * 32: answer}), CONFIG)
    state = await graph.aget_state(CONFIG)
    assert [i.id for i in state.interrupts] == [pending.id] and refunds == []


async def test_a_synchronous_call_says_to_await_the_async_one(make: Factory) -> None:
    """Outside review, round 5: sync invoke failed with LangGraph's "No synchronous function provided to
    'intake'", which names a node and not the way out."""
    graph = make(_refund_script())
    for call_it in (lambda: graph.invoke({"task": "refund 900"}, CONFIG),
                    lambda: list(graph.stream({"task": "refund 900"}, CONFIG))):  # fmt: skip
        with pytest.raises(ConfigError, match=r"await graph\.ainvoke"):
            call_it()
    assert refunds == [] and not (await graph.aget_state(CONFIG)).values


async def test_a_command_from_a_parent_graphs_sync_node_writes_nothing(make: Factory) -> None:
    """Review, round 5: the sync path handed a parent node's call straight on, so a sync node of another graph
    could write a thread's state with ``invoke(Command(update=...))``; astream refused it."""
    from langgraph.graph import MessagesState

    graph = make(_refund_script())
    await graph.ainvoke({"task": "refund 900"}, CONFIG)
    errors: list[BaseException] = []

    def node(state: MessagesState) -> dict[str, Any]:
        try:
            graph.invoke(Command(update={"summary": "forged-from-node"}), CONFIG)
        except ThreadError as exc:
            errors.append(exc)
        return {}

    await _run_in_parent(node, CONFIG)  # on the same thread: the node is inside its run
    assert len(errors) == 1 and "Command(update=...) would go around" in str(errors[0])
    assert (await graph.aget_state(CONFIG)).values.get("summary") != "forged-from-node"


async def test_a_parent_graphs_node_running_another_thread_meets_its_checks(make: Factory) -> None:
    """Review, round 5: inside a parent graph's node every new-turn check was skipped, whatever thread the
    node named; only on the parent's own thread is the pause the parent's."""
    from langgraph.graph import MessagesState

    graph = make(_refund_script())
    await graph.ainvoke({"task": "refund 900"}, CONFIG)  # thread "t" pauses on its refund
    errors: list[BaseException] = []

    async def node(state: MessagesState) -> dict[str, Any]:
        try:
            await graph.ainvoke({"task": "something else"}, CONFIG)
        except ThreadError as exc:
            errors.append(exc)
        return {}

    await _run_in_parent(node, {"configurable": {"thread_id": "parent"}})
    assert len(errors) == 1 and "is paused on a question" in str(errors[0])
    [pending] = (await graph.aget_state(CONFIG)).interrupts
    assert pending.value["question"] == "Refund $900.00?" and refunds == []


async def _run_in_parent(node: Any, config: Any) -> None:
    """Run ``node`` as the only node of a parent graph, on ``config``'s thread."""
    from langgraph.graph import START, MessagesState, StateGraph

    parent = StateGraph(MessagesState)
    parent.add_node("node", node)
    parent.add_edge(START, "node")
    await parent.compile().ainvoke({"messages": []}, config)
