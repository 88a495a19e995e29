"""Trace labels and redaction: pure functions of what a step returned, and of what a run sends."""

from __future__ import annotations

from langgraph.types import Command, Send

from switchboard.monitoring.labels import policy_label, root_config, step_label, title
from switchboard.monitoring.redact import MASK, redact
from switchboard.policies import PolicyDecision


def test_a_parallel_route_names_every_agent() -> None:
    decision = {
        "kind": "decision",
        "action": "route",
        "agent": "logistics",
        "skill": "schedule_pickup",
        "reason": "independent steps",
        "confidence": 0.8,
        "source": "model",
        "rule": None,
        "assignments": [{"agent": "logistics"}, {"agent": "inventory"}],
    }
    label = step_label("supervisor", {"trail": [decision]})
    assert label.name == "supervisor: route → logistics, inventory"
    assert label.metadata["agents"] == ["logistics", "inventory"] and "policy_rule" not in label.metadata
    assert label.tags == ("decision:route",)


def test_an_escalation_answer_and_a_report_are_named_by_their_outcome() -> None:
    answer = {"kind": "escalation", "approved": False, "approver": "sam", "question": "Go on?", "note": "stop"}
    assert step_label("escalate", {"trail": [answer]}).name == "escalate: rejected by sam"
    assert step_label("escalate", {"trail": [{**answer, "approved": True, "approver": None}]}).name == (
        "escalate: approved"
    )
    assert step_label("finalize", {"trail": [{"kind": "report", "outcome": "resolved"}]}).name == "finalize: resolved"
    assert step_label("intake", {"task": "x"}).name is None  # nothing to say: the node keeps its name


def test_a_policy_check_label_reads_the_decision() -> None:
    label = policy_label("issue_refund", PolicyDecision("deny", "refund-cap", "over the cap"))
    assert label.name == "policy: issue_refund → deny"
    assert label.metadata == {
        "tool": "issue_refund",
        "outcome": "deny",
        "policy_rule": "refund-cap",
        "reason": "over the cap",
    }
    assert policy_label("issue_refund", "not a decision").name is None


def test_titles_are_one_line_cut_at_a_word_and_masked() -> None:
    long = "Please return   the espresso machine\nand the headphones " + "and more " * 20
    assert title(long).startswith("Please return the espresso machine and the headphones")
    assert title(long).endswith("…") and len(title(long)) <= 81 and "\n" not in title(long)
    assert MASK in title("use sk-live-0123456789abcdefXYZ please")
    config = root_config("t-1", "return it", resume=True, continues="abc")
    assert config["run_name"] == "resume: return it" and config["metadata"]["continues"] == "abc"
    assert "thread:t-1" in config["tags"] and "continues" not in root_config("t-1", "x", resume=False)["metadata"]


def test_redaction_masks_secret_keys_and_secret_shapes_anywhere() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"
    data = {
        "approval": {"principal": "alice", "signature": "c2lnbmVk"},
        "headers": {"Authorization": "Bearer abcdefghijkl"},
        "note": f"my key is sk-proj-ABCDEFGHIJKLMNOPQRST and {pem}",
        "tokens_in": 42,
        "output": Command(goto=[Send("finance", {"task": "refund, key lsv2_pt_0123456789abcdef0123"})]),
    }
    clean = redact(data)
    assert clean["approval"] == {"principal": "alice", "signature": MASK}
    assert clean["headers"]["Authorization"] == MASK and clean["tokens_in"] == 42
    assert clean["note"] == f"my key is {MASK} and {MASK}"
    assert clean["output"]["goto"][0]["arg"] == {"task": f"refund, key {MASK}"}
    assert data["approval"]["signature"] == "c2lnbmVk"  # the run's own values are untouched


def test_redaction_leaves_ordinary_text_alone() -> None:
    text = {"task": "Return order #W0465291 for mia.chen@example.com", "skill": "process_return", "n": None}
    assert redact(text) == text
