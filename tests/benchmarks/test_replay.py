"""The replay shapes one recorded run into each stack's replies, with the same tool calls and findings."""

from __future__ import annotations

from benchmarks.replay import Script, Step, ours, subagents_anchor, supervisor_anchor, waits_for_results

FINDINGS = {"status": "done", "summary": "ok", "facts": {"order_id": "#W1"}, "reasoning": "r", "confidence": 0.9}
SCRIPT = Script(
    task="return it",
    steps=(
        Step("finance", "process_return", "Return it", (("find", {"e": 1}), ("return", {"o": 1})), FINDINGS),
        Step("logistics", "schedule_pickup", "Pick it up", (("pickup", {"o": 1}),), FINDINGS),
        Step("finance", "issue_refund", "Refund it", (("refund", {"o": 1}),), FINDINGS),
    ),
    done="all done",
)


def _tools(messages: list) -> list[list[str]]:
    return [[c["name"] for c in m.tool_calls] for m in messages]


def test_ours_routes_once_with_the_plan_and_hands_off_with_the_last_tool() -> None:
    replies = ours(SCRIPT)
    first, last = replies.supervisor.steps
    assert [s["agent"] for s in first.tool_calls[0]["args"]["plan"]] == ["logistics", "finance"]
    assert last.tool_calls[0]["args"]["action"] == "finish"
    assert _tools(replies.supervisor.agents["finance"]) == [["find"], ["return", "handoff"], ["refund", "handoff"]]


def test_ours_without_levers_asks_per_step_and_hands_off_alone() -> None:
    replies = ours(SCRIPT, plan=False, separate_handoff=True)
    assert len(replies.supervisor.steps) == 4
    assert _tools(replies.supervisor.agents["logistics"]) == [["pickup"], ["handoff"]]


def test_the_anchors_make_the_same_tool_calls_and_answer_in_text() -> None:
    for replies in (supervisor_anchor(SCRIPT), subagents_anchor(SCRIPT)):
        finance = replies.agents["finance"].steps
        assert _tools(finance) == [["find"], ["return"], [], ["refund"], []]
        assert "#W1" in finance[2].content
        assert len(replies.supervisor.steps) == 4  # one per step, then the answer
    assert _tools(supervisor_anchor(SCRIPT).supervisor.steps)[0] == ["transfer_to_finance"]
    assert subagents_anchor(SCRIPT).supervisor.steps[1].tool_calls[0]["args"] == {"request": "Pick it up"}


def test_a_step_that_reports_what_its_last_call_returned_hands_off_alone() -> None:
    reads = {**FINDINGS, "facts": {"order_id": "#W1", "pickup_date": "2026-12-03"}}
    knows = {**FINDINGS, "facts": {"order_id": "#W1"}}
    script = Script(
        task="return #W1",
        steps=(
            Step("logistics", None, "Pick it up", (("pickup", {"o": 1}),), reads, ('{"date": "2026-12-03"}',)),
            Step("finance", None, "Refund it", (("refund", {"o": 1}),), knows, ('{"date": "2026-12-03"}',)),
        ),
        done="all done",
    )
    assert waits_for_results(script) == {0: ["2026-12-03"]}
    lanes = ours(script).supervisor.agents
    assert _tools(lanes["logistics"]) == [["pickup"], ["handoff"]]
    assert _tools(lanes["finance"]) == [["refund", "handoff"]]


def test_what_a_write_leaves_on_success_is_read_in_its_description_not_waited_for() -> None:
    # "status becomes 'returned'": a model that read the tool knows the status a successful call leaves,
    # and a handoff in the call's turn counts only if the call succeeds; a date the tool picks it cannot know.
    leaves = {**FINDINGS, "facts": {"order_id": "#W1", "status": "returned", "pickup_date": "2026-12-03"}}
    result = '{"status": "returned", "date": "2026-12-03"}'
    step = Step("finance", None, "Refund it", (("refund", {"o": 1}),), leaves, (result,))
    script = Script("return #W1", (step,), "all done", {"refund": "Refund it; status becomes 'returned'."})
    assert waits_for_results(script) == {0: ["2026-12-03"]}
