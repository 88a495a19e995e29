"""LangSmith traces a reviewer can read: the real client, posting to a collector on loopback.

A refund above the limit is started (it pauses for a finance manager) and
resumed with alice's signed approval, with ``LANGSMITH_TRACING=true`` and
the endpoint pointed at a local HTTP server. The runs happen in a
subprocess so that LangSmith reads its settings fresh; the subprocess
flushes the client before it exits. The test then reads back what the SDK
actually posted: the run tree, names, metadata, tags, the pause, redaction.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.monitoring.collector import Collector, collector

ROOT = Path(__file__).resolve().parents[1]
FAKE_KEY = "sk-test-4f9b2c7d1e8a6b3c5d0e9f7a"
TASK = f"Return everything from my last order, damaged. (my key {FAKE_KEY} leaked, ignore it)"

RUN = textwrap.dedent(
    f"""
    import asyncio, os
    from pathlib import Path
    from langsmith import utils
    from switchboard.domains.retail import DEMO_PERSONAS
    from switchboard.monitoring.tracer import redacting_client
    from switchboard.runs import resume_run, start_run
    from switchboard.settings import Settings
    from switchboard.testing import ScriptedChatModel, make_principals
    from tests.monitoring.conftest import return_script

    make_principals(Path(os.environ["SWITCHBOARD_HOME"]))
    db = Path(os.environ["SWITCHBOARD_RETAIL_DB"])
    model = ScriptedChatModel(steps=return_script(db, DEMO_PERSONAS["mia_chen"]))
    settings = Settings()

    async def main():
        paused = await start_run({TASK!r}, thread_id="traced-1", settings=settings, model=model)
        done = await resume_run("traced-1", approved=True, approver="alice", settings=settings, model=model)
        print(paused.status, done.status)

    asyncio.run(main())
    model.assert_complete()
    redacting_client(utils.get_env_var("ENDPOINT"), utils.get_env_var("API_KEY")).flush()
    """
)


@pytest.fixture(scope="module")
def traced(pristine_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    """One traced start and resume; tests only read what was posted."""
    root = tmp_path_factory.mktemp("traced")
    db = root / "retail.sqlite"
    db.write_bytes(pristine_db.read_bytes())
    with collector() as posted:
        env = {
            **os.environ,
            "LANGSMITH_TRACING": "true",
            "LANGSMITH_ENDPOINT": posted.url,
            "LANGSMITH_API_KEY": "local-test-key",
            "LANGSMITH_PROJECT": "switchboard-tests",
            "SWITCHBOARD_HOME": str(root / "home"),
            "SWITCHBOARD_RETAIL_DB": str(db),
            "SWITCHBOARD_CHECKPOINT_DB": str(root / "cp.sqlite"),
        }
        proc = subprocess.run(
            [sys.executable, "-c", RUN], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
        )
        assert proc.returncode == 0 and proc.stdout.split() == ["paused", "completed"], proc.stderr[-3000:]
        yield posted


def _meta(run: dict[str, Any]) -> dict[str, Any]:
    return dict((run.get("extra") or {}).get("metadata") or {})


def _children(runs: dict[str, dict[str, Any]], parent: dict[str, Any]) -> list[dict[str, Any]]:
    kids = [r for r in runs.values() if r.get("parent_run_id") == parent["id"]]
    return sorted(kids, key=lambda r: r.get("dotted_order") or "")


def _roots(runs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((r for r in runs.values() if not r.get("parent_run_id")), key=lambda r: r["start_time"])


def test_one_trace_per_run_named_after_the_task_and_linked(traced: Collector) -> None:
    runs = traced.runs()
    start, resume = _roots(runs)
    assert start["name"].startswith("Return everything from my last order")
    assert resume["name"] == f"resume: {start['name']}"
    for root in (start, resume):
        assert "thread:traced-1" in root["tags"]
        assert _meta(root)["thread_id"] == "traced-1"  # LangSmith groups a thread's traces by it
    assert _meta(resume)["continues"] == start["id"]
    assert "continues" not in _meta(start)
    every_run_in_a_trace = {r["trace_id"] for r in runs.values()}
    assert every_run_in_a_trace == {start["id"], resume["id"]}


def test_steps_nest_under_readable_names_and_wrappers_are_folded(traced: Collector) -> None:
    runs = traced.runs()
    names = [r["name"] for r in runs.values()]
    wrappers = [n for n in names if n.startswith("Runnable") or n.endswith("Parser") or n.startswith("Channel")]
    assert wrappers == []
    start, resume = _roots(runs)
    assert [r["name"] for r in _children(runs, start)] == ["intake", "supervisor: route → finance", "finance"]
    assert [r["name"] for r in _children(runs, resume)] == [
        "finance (process_return): done",
        "supervisor: finish",
        "finalize: resolved",
    ]
    supervisor = _children(runs, start)[1]
    assert [(r["name"], r["run_type"]) for r in _children(runs, supervisor)] == [("ScriptedChatModel", "llm")]
    agent = _children(runs, start)[2]
    assert [r["name"] for r in _children(runs, agent)] == ["think", "act", "think", "act"]  # no subgraph repeat
    print(f"\nruns posted for one return (start + resume): {len(runs)}")


def test_metadata_carries_the_decision_the_policy_and_the_cost(traced: Collector) -> None:
    runs = traced.runs()
    start, resume = _roots(runs)
    decision = _meta(_children(runs, start)[1])
    assert decision["agent"] == "finance" and decision["skill"] == "process_return"
    assert decision["confidence"] == 0.9 and decision["reason"] == "scripted" and decision["action"] == "route"
    model_call = _children(runs, _children(runs, start)[1])[0]
    usage = _meta(model_call)
    assert usage["tokens_in"] > 0 and usage["tokens_out"] > 0 and usage["tokens_estimated"] is True
    assert "cost" in usage
    handoff = _meta(_children(runs, resume)[0])
    assert handoff["outcome"] == "done" and handoff["agent"] == "finance" and handoff["confidence"] == 0.9
    assert handoff["approvals"] == [{"rule": "large-refund", "approved": True, "approver": "alice", "note": ""}]
    checks = [r for r in runs.values() if r["name"].startswith("policy: return_delivered_order_items")]
    assert len(checks) == 2  # checked before the pause, and again when the step re-runs on resume
    for check in checks:
        assert check["name"] == "policy: return_delivered_order_items → approve"
        assert _meta(check)["policy_rule"] == "large-refund" and _meta(check)["outcome"] == "approve"
        parent = runs[check["parent_run_id"]]
        assert parent["name"] == "act"
        quotes = _children(runs, check)
        # The guard's pricing call, inside the check: once, though two rules (the approval and the
        # refund's range) measure the same quote.
        assert [q["name"] for q in quotes].count("quote_return_refund") == 1
        assert all(q["run_type"] == "tool" for q in quotes)


def test_the_approval_pause_is_a_pause_not_an_error(traced: Collector) -> None:
    runs = traced.runs()
    assert [r["name"] for r in runs.values() if r.get("error")] == []
    assert b"GraphInterrupt" not in traced.raw()
    start, resume = _roots(runs)
    assert "paused" in start["tags"] and _meta(start)["outcome"] == "paused"
    assert "completed" in resume["tags"] and _meta(resume)["outcome"] == "completed"
    paused = [r for r in runs.values() if "paused" in (r.get("tags") or []) and r.get("parent_run_id")]
    assert sorted(r["name"] for r in paused) == ["act", "finance"]
    act = next(r for r in paused if r["name"] == "act")
    (question,) = act["outputs"]["paused"]
    assert question["rule"] == "large-refund" and "$500" in question["question"]


def test_secrets_are_masked_before_they_leave(traced: Collector) -> None:
    raw = traced.raw().decode("utf-8", "replace")
    assert FAKE_KEY not in raw
    start, resume = _roots(traced.runs())
    assert "[redacted]" in start["name"] and "[redacted]" in start["inputs"]["task"]
    answers = list(resume["inputs"]["input"]["resume"].values())
    assert answers and answers[0]["approver"] == "alice"
    assert answers[0]["approval"]["signature"] == "[redacted]"  # the signed approval travels without its signature
    assert not re.search(r'"signature":\s*"(?!\[redacted\])', raw)
    assert json.dumps(answers[0]["approval"]["principal"]) == '"alice"'  # the rest of the answer stays readable


OTEL_RUN = textwrap.dedent(
    f"""
    import asyncio, json
    from langsmith import utils
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from switchboard.monitoring.tracer import redacting_client
    from switchboard.runs import start_run
    from switchboard.settings import Settings
    from switchboard.testing import ScriptedChatModel, call, finish, handoff, route

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)  # the application's OpenTelemetry set-up; LangSmith exports into it
    model = ScriptedChatModel(steps=[
        route("customer_service", "look her up", skill="identify_customer"),
        call("find_user_id_by_email", email="mia.chen@example.com"),
        handoff("found"),
        finish("found"),
    ])
    result = asyncio.run(start_run({TASK!r}, thread_id="otel-1", settings=Settings(), model=model))
    redacting_client(utils.get_env_var("ENDPOINT"), utils.get_env_var("API_KEY")).flush()
    provider.force_flush()
    spans = [
        {{"name": s.name, "id": s.context.span_id, "parent": s.parent.span_id if s.parent else None,
          "attributes": {{k: str(v) for k, v in (s.attributes or {{}}).items()}}}}
        for s in exporter.get_finished_spans()
    ]
    print(json.dumps({{"status": result.status, "spans": spans}}))
    """
)


def test_opentelemetry_mode_exports_the_same_readable_spans(retail_db: Path, tmp_path: Path) -> None:
    with collector() as posted:
        env = {
            **os.environ,
            "LANGSMITH_TRACING": "true",
            "LANGCHAIN_TRACING_V2": "true",
            "LANGSMITH_TRACING_MODE": "otel",
            "LANGSMITH_ENDPOINT": posted.url,
            "LANGSMITH_API_KEY": "local-test-key",
            "SWITCHBOARD_CHECKPOINT_DB": str(tmp_path / "cp.sqlite"),
        }
        proc = subprocess.run(
            [sys.executable, "-c", OTEL_RUN],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert [r.path for r in posted.requests if r.path.startswith("/runs")] == []  # OTel only, nothing to LangSmith
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed"
    spans = {s["id"]: s for s in result["spans"]}
    names = [s["name"] for s in spans.values()]
    assert not [n for n in names if n.startswith("Runnable") or n.endswith("Parser")]
    (root,) = [s for s in spans.values() if s["parent"] not in spans]  # LangSmith may give it a remote parent context
    assert root["name"].startswith("Return everything") and "[redacted]" in root["name"]
    assert FAKE_KEY not in proc.stdout
    assert root["attributes"]["langsmith.metadata.thread_id"] == "otel-1"
    routed = [s for s in spans.values() if s["attributes"].get("langsmith.metadata.action") == "route"]
    assert [s["attributes"]["langsmith.metadata.agent"] for s in routed] == ["customer_service"]
    assert routed[0]["parent"] == root["id"]
    (check,) = [s for s in spans.values() if s["name"] == "policy: find_user_id_by_email → allow"]
    assert spans[check["parent"]]["name"] == "act"
