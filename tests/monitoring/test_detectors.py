"""Every detector fires on the pattern it watches for, and stays quiet on a normal run."""

from __future__ import annotations

from typing import Any

from switchboard.monitoring import Budget, Thresholds
from switchboard.monitoring.detectors import (
    BudgetDetector,
    DenialBurstDetector,
    ErrorBurstDetector,
    EscalationWatch,
    LatencyDetector,
    RoutingLoopDetector,
)
from switchboard.monitoring.events import TelemetryEvent

T = Thresholds()


def ev(kind: Any, name: str = "x", *, at: float = 1000.0, **fields: Any) -> TelemetryEvent:
    return TelemetryEvent(kind=kind, name=name, thread_id=fields.pop("thread_id", "t1"), started=at, **fields)


def routes(detector: RoutingLoopDetector, targets: list[str]) -> list[str]:
    alerts = []
    for i, target in enumerate(targets):
        alerts += detector.observe(ev("decision", target, at=i, outcome="route", agent="supervisor"))
    return [a.detector for a in alerts]


def test_routing_loop_fires_on_the_same_agent_again_and_again() -> None:
    assert routes(RoutingLoopDetector(T), ["finance"] * 4) == ["routing_loop"]


def test_routing_loop_is_quiet_on_a_normal_plan() -> None:
    plan = ["finance", "logistics", "inventory", "finance", "analytics", "customer_service"]
    assert routes(RoutingLoopDetector(T), plan) == []


def test_ping_pong_fires_on_two_agents_bouncing() -> None:
    assert routes(RoutingLoopDetector(T), ["finance", "logistics"] * 3) == ["ping_pong"]


def test_ping_pong_is_quiet_when_a_third_agent_breaks_the_pattern() -> None:
    assert (
        routes(RoutingLoopDetector(T), ["finance", "logistics", "finance", "inventory", "finance", "logistics"]) == []
    )


def test_routing_is_tracked_per_thread() -> None:
    detector = RoutingLoopDetector(T)
    alerts = []
    for i in range(4):
        thread = f"t{i % 2}"
        alerts += detector.observe(ev("decision", "finance", at=i, outcome="route", thread_id=thread))
    assert alerts == []


def test_error_burst_fires_on_failures_close_together() -> None:
    detector = ErrorBurstDetector(T)
    alerts = []
    for at in (0.0, 10.0, 20.0):
        alerts += detector.observe(ev("handoff", at=at, agent="finance", outcome="failed", reason="timeout"))
    assert [(a.detector, a.agent, a.severity) for a in alerts] == [("error_burst", "finance", "critical")]


def test_error_burst_is_quiet_when_failures_are_spread_out_or_shared() -> None:
    detector = ErrorBurstDetector(T)
    alerts = []
    for at in (0.0, 100.0, 200.0):  # each outside the 60 s window of the others
        alerts += detector.observe(ev("handoff", at=at, agent="finance", outcome="failed"))
    for at, agent in ((300.0, "finance"), (301.0, "logistics"), (302.0, "inventory")):
        alerts += detector.observe(ev("step", at=at, agent=agent, outcome="error"))
    alerts += detector.observe(ev("handoff", at=303.0, agent="finance", outcome="done"))
    assert alerts == []


def failed_step(agent: str, at: float, *, tool: bool = False) -> list[TelemetryEvent]:
    """What one failed step of ``agent`` records: its causes (a tool, the model), then the failed handoff."""
    causes = [ev("tool", "lookup", at=at, agent=agent, outcome="error")] if tool else []
    causes.append(ev("llm", "model", at=at + 0.1, agent=agent, outcome="error", reason="provider timed out"))
    return [*causes, ev("handoff", at=at + 0.2, agent=agent, outcome="failed", reason="model call failed")]


def test_error_burst_counts_one_failure_per_failed_step() -> None:
    detector = ErrorBurstDetector(T)
    alerts = []
    for at in (0.0, 10.0):  # two failed steps, each with its own causes, under the threshold of three
        for event in failed_step("customer_service", at, tool=True):
            alerts += detector.observe(event)
    assert alerts == []
    for event in failed_step("customer_service", 20.0):
        alerts += detector.observe(event)
    assert [(a.detector, a.message) for a in alerts] == [
        ("error_burst", "customer_service failed 3 times within 60s; last: model call failed")
    ]


def test_error_burst_ignores_a_tool_error_the_agent_recovered_from() -> None:
    detector = ErrorBurstDetector(T)
    alerts = []
    for at in (0.0, 1.0, 2.0):
        alerts += detector.observe(ev("tool", "lookup", at=at, agent="finance", outcome="error"))
    assert alerts == []


def step(agent: str, ms: float, at: float = 0.0, outcome: str = "ok") -> TelemetryEvent:
    return ev("step", agent, at=at, ended=at + ms / 1000, agent=agent, outcome=outcome)


def test_latency_fires_far_above_the_agents_norm() -> None:
    detector = LatencyDetector(T)
    for _ in range(5):
        assert detector.observe(step("finance", 400)) == []
    (alert,) = detector.observe(step("finance", 4000))
    assert alert.detector == "latency" and "10.0x" in alert.message


def test_latency_is_quiet_within_the_norm_below_the_floor_or_without_history() -> None:
    detector = LatencyDetector(T)
    assert detector.observe(step("finance", 9000)) == []  # no norm yet
    for _ in range(5):
        detector.observe(step("logistics", 20))
    assert detector.observe(step("logistics", 500)) == []  # 25x, but below the 1 s floor
    for _ in range(5):
        detector.observe(step("inventory", 1000))
    assert detector.observe(step("inventory", 3000)) == []  # 3x, under the factor of 5
    assert detector.observe(step("inventory", 60_000, outcome="paused")) == []  # waiting for a human is not slowness


def model_step(agent: str, ms: float, at: float = 0.0) -> list[TelemetryEvent]:
    """A step that calls the model: the call (most of its time), then the step."""
    call = ev("llm", "model", at=at, ended=at + (ms - 5) / 1000, agent=agent, outcome="ok")
    return [call, step(agent, ms, at)]


def test_latency_is_quiet_when_a_model_backed_step_follows_model_free_ones() -> None:
    detector = LatencyDetector(T)
    events = model_step("supervisor", 1344)  # the first decision asks the model
    for at in range(1, 6):
        events.append(step("supervisor", 5, at=at))  # the next ones follow the plan, no model call
    events += model_step("supervisor", 1219, at=10)  # the last one asks the model again
    assert [a.message for e in events for a in detector.observe(e)] == []


def test_latency_compares_steps_with_steps_like_them() -> None:
    detector = LatencyDetector(T)
    for at in range(5):
        for event in model_step("supervisor", 1200, at=at):
            detector.observe(event)
        detector.observe(step("supervisor", 5, at=at + 0.5))
    (slow_model,) = [a for e in model_step("supervisor", 9000, at=10) for a in detector.observe(e)]
    assert "7.5x" in slow_model.message
    (slow_plan,) = detector.observe(step("supervisor", 2000, at=11))  # no model call, yet 400x its kind's norm
    assert "400.0x" in slow_plan.message


def test_denial_burst_fires_on_refusals_close_together() -> None:
    detector = DenialBurstDetector(T)
    alerts = []
    for at in (0.0, 1.0, 2.0):
        alerts += detector.observe(ev("denial", "issue_refund", at=at, agent="finance", reason="Refused: rule"))
    assert [a.detector for a in alerts] == ["denial_burst"]


def test_denial_burst_is_quiet_on_spread_out_refusals() -> None:
    detector = DenialBurstDetector(T)
    alerts = []
    for at in (0.0, 70.0, 140.0):
        alerts += detector.observe(ev("denial", at=at, agent="finance"))
    assert alerts == []


def llm(tokens: int, cost: float = 0.0, run: str = "r1", agent: str = "finance") -> TelemetryEvent:
    return ev("llm", run_id=run, agent=agent, tokens_in=tokens, tokens_out=0, cost=cost, outcome="ok")


def test_budget_warns_when_nearly_spent_then_pauses_when_spent() -> None:
    detector = BudgetDetector(Budget(run_tokens=1000, pause_when_spent=True))
    assert detector.observe(llm(700)) == []
    (near,) = detector.observe(llm(150))
    assert (near.severity, near.pause) == ("warning", False) and "nearly spent" in near.message
    (spent,) = detector.observe(llm(200))
    assert (spent.severity, spent.pause) == ("critical", True) and spent.details["limit"] == "run_tokens"
    assert detector.observe(llm(500)) == []  # told once


def test_budget_counts_cost_per_agent_and_is_quiet_under_its_limits() -> None:
    detector = BudgetDetector(Budget(run_tokens=1000, thread_cost=1.0, agent_cost={"finance": 0.10}))
    assert detector.observe(llm(300, cost=0.02, run="r1")) == []
    assert detector.observe(llm(300, cost=0.02, run="r2")) == []  # another run: its own token budget
    assert detector.observe(llm(300, cost=0.50, agent="logistics")) == []
    (alert,) = detector.observe(llm(10, cost=0.07))
    assert alert.details["limit"] == "agent_cost:finance" and not alert.pause


def waiting(at: float, thread: str = "t1") -> TelemetryEvent:
    return ev("escalation", "large-refund", at=at, outcome="waiting", reason="Approve?", thread_id=thread, id=thread)


def test_escalation_waiting_too_long_fires_once() -> None:
    watch = EscalationWatch(Thresholds(escalation_wait_s=600))
    watch.observe(waiting(0.0))
    (alert,) = watch.due(now=601.0)
    assert alert.detector == "escalation_wait" and alert.thread_id == "t1"
    assert watch.due(now=1200.0) == []


def test_escalation_answered_or_recent_is_quiet() -> None:
    watch = EscalationWatch(Thresholds(escalation_wait_s=600))
    watch.observe(waiting(0.0, "t1"))
    watch.observe(ev("escalation", "large-refund", at=100.0, outcome="approved", thread_id="t1"))
    watch.observe(waiting(500.0, "t2"))
    assert watch.due(now=900.0) == []  # t1 was answered, t2 has waited 400 s
