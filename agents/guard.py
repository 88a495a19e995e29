"""The guarded tool node: where policy meets the tool call.

Rules are enforced here, at the moment an agent asks for a tool, and not in a
prompt, so no model output can get around them. The node works in three
passes, and the order matters for "no side effect happens twice":

1. decide every requested call: the card's allow-list, then the policy's
   grants, argument constraints and data scopes (:func:`~switchboard.policies.check_call`,
   fed the read-only quotes it needs and the facts the thread's successful
   tool results established), then its approval rules;
2. ask a human, through ``interrupt()``, for each call that needs approval
   (:func:`~switchboard.agents.interrupts.ask`). LangGraph re-runs the node
   from the top when the thread resumes, so every question is asked *before*
   any write has run. Only a signed approval of that exact call, by a role
   the rule allows, is accepted; anything else asks again;
3. run the calls in order, recording each result with its typed outcome.
   An approval is consumed (in the audit trail) only when its call succeeds;
   it never covers another call, so a failed call approves nothing later.

Every decision, question, answer and call is appended to the audit trail
under ids derived from the thread, the node's namespace and the call id, so a
re-run after a resume writes nothing twice. A batch's decisions are on disk
before any of its calls can change anything (a batch of reads that asks
nobody writes them with its results, in one commit), and each decision names
its call's idempotency key and the questions its batch waits for. Only a call
that an earlier pass may actually have *sent* is looked up on its server
(``Toolbox.already_done``, a replay-only request): one whose decision let it
run and whose batch's questions were all approved before this pass, as after
a crash once the approvals were in. A denied call, one still waiting for an
answer, one rejected, and an approved one on its way to running for the first
time are never looked up: a server that does not honour the replay-only flag
would answer the lookup by acting. A key no decision names was never sent, so
a first attempt asks the server nothing (one round trip fewer per write).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Final, Literal, NotRequired

from langchain_core.messages import ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig, RunnableLambda, ensure_config
from langchain_core.tools import ToolException
from langgraph.config import get_config
from langgraph.errors import GraphBubbleUp

from switchboard.agents.card import AgentCard
from switchboard.agents.facts import parse_result, thread_facts
from switchboard.agents.idempotency import STEP_METADATA_KEY, call_identity, idempotency_key, keyed_call
from switchboard.agents.interrupts import ApprovalRequest, Governance, Record, ask, recorded_verdict, thread_of
from switchboard.agents.records import CallOutcome, EscalationEvent, ToolCallRecord
from switchboard.agents.toolbox import Toolbox, ToolServerFailure
from switchboard.checkpoints.audit import AuditEntry, AuditLog
from switchboard.monitoring.labels import POLICY_TAG
from switchboard.policies import Facts, PolicyDecision, PolicyFile, check_call, evaluate, learn, measure_calls
from switchboard.policies.answers import call_hash, request_id
from switchboard.policies.approvals import ApprovalVerdict
from switchboard.policies.constraints import Range, check_constraints
from switchboard.policies.engine import missing_facts
from switchboard.policies.grants import check_tool_grant

_VERDICT = {"allow": "allowed", "deny": "refused", "approve": "approved by a human"}

WAITS_FOR = "waits_for"
"""A ``policy`` entry's field: the questions (request ids) its batch waited for.

None of a batch's calls is sent before every one of them was answered with
an approval, so this is what says whether an earlier pass may have sent the
call (see :func:`sent_keys`)."""


SERVER_FAULT: Final = "server"
"""A call record's ``fault`` when its tool's MCP server failed under it (see :func:`tool_server_failed`)."""


class _ServedCallRecord(ToolCallRecord):
    """A :class:`ToolCallRecord` that may say whose fault its failure was."""

    fault: NotRequired[Literal["server"]]
    """``"server"``: the tool's MCP server failed under the call (its transport went
    away, or it hung: no answer in time, nor to a ping), so the call failed through
    no fault of the agent's. Absent otherwise."""


def tool_server_failed(call: Mapping[str, object]) -> bool:
    """Whether a call record failed because its tool's MCP server did (see :func:`_execute`), not its agent."""
    return call.get("fault") == SERVER_FAULT


@dataclass(frozen=True)
class GuardOutcome:
    """What one pass of the guarded node produced."""

    messages: list[ToolMessage]
    calls: list[ToolCallRecord]
    escalations: list[EscalationEvent]
    rejected: ApprovalVerdict | None = None


async def run_guarded(
    calls: Sequence[ToolCall],
    *,
    card: AgentCard,
    toolbox: Toolbox,
    gov: Governance,
    config: RunnableConfig,
    history: Sequence[ToolCallRecord] = (),
) -> GuardOutcome:
    """Decide, approve and run one batch of tool calls (see module doc).

    Args:
        calls: The model's tool calls.
        card: The agent asking.
        toolbox: Where the tools are.
        gov: Policy, principals and audit log.
        config: The node's run config (thread, namespace).
        history: The thread's earlier tool calls, whose results are facts.
    """
    thread, namespace = thread_of(config)
    keys = [call_key(call) for call in calls]
    decisions, records = await _decide_batch(calls, keys, card, toolbox, gov, (thread, namespace), history)
    # A decision is on disk before its call runs: the record of a key is what says the call may have run.
    # A batch of reads that asks nobody has no effect to precede, so its decisions go with its results.
    effects = any(not toolbox.read_only(c["name"]) for c in calls) or any(d.effect == "approve" for d in decisions)
    if effects:
        written, records = records, []
        await gov.record_many(written)
    escalations: list[EscalationEvent] = []
    approvals: dict[str, tuple[str, ApprovalVerdict]] = {}
    for call, decision in zip(calls, decisions, strict=True):
        if decision.effect != "approve":
            continue
        request, verdict = await ask(
            gov, config, str(call["id"]), approval_builder(call, decision, card.name, gov.policy)
        )
        escalations.append(_escalation(card, decision, verdict))
        if not verdict.approved:
            note = f"rejected by a human: {verdict.note}" if verdict.note else "rejected by a human"
            messages = [_message(c, f"Not run: {note}.", ok=False) for c in calls]
            return GuardOutcome(messages, [], escalations, rejected=verdict)
        approvals[str(call["id"])] = (request.interrupt_id, verdict)
    messages, results = [], []
    try:
        for call, decision, key in zip(calls, decisions, keys, strict=True):
            result = await _execute(
                call, decision, toolbox, card.timeout_s, key, write=not toolbox.read_only(call["name"])
            )
            results.append(result)
            messages.append(_message(call, result["result"], ok=result["outcome"] == "ok"))
            records.append((
                (namespace, call["id"], "tool_call"), thread, "tool_call",
                {"agent": card.name, "tool": call["name"], "args": call["args"], "outcome": result["outcome"],
                 "result": result["result"][:2000]},
            ))  # fmt: skip
            granted = approvals.get(str(call["id"]))
            if granted and result["outcome"] == "ok":
                rid, verdict = granted
                records.append((
                    (namespace, call["id"], "consumed"), thread, "approval_consumed",
                    {"token_id": verdict.token_id, "interrupt_id": rid, "principal": verdict.principal},
                ))  # fmt: skip
            if effects:  # each call's result on record before the next call runs
                written, records = records, []
                await gov.record_many(written)
    finally:
        written, records = records, []
        await gov.record_many(written)  # a batch of reads: its decisions and results, in order, at once
    return GuardOutcome(messages, results, escalations)


async def _decide_batch(
    calls: Sequence[ToolCall], keys: Sequence[str | None], card: AgentCard, toolbox: Toolbox, gov: Governance,
    where: tuple[str, str], history: Sequence[ToolCallRecord],
) -> tuple[list[PolicyDecision], list[Record]]:  # fmt: skip
    """Every call's decision, and its audit entry (with the call's key and its batch's questions) to write."""
    (thread, namespace), facts = where, thread_facts(gov.policy, history)
    # Only a call an earlier pass may have sent is looked up: a lookup of any other reaches a server that may act.
    # (Reads are never looked up: they change nothing, so a batch of them asks the log nothing either.)
    writes = [key for call, key in zip(calls, keys, strict=True) if key and not toolbox.read_only(call["name"])]
    sent = await _sent_before(gov.audit, thread, writes)
    decisions = [
        await _policy_check(call, card, toolbox, gov.policy, facts, key, key in sent)
        for call, key in zip(calls, keys, strict=True)
    ]
    # The questions this batch waits for, under the ids ask() gives them: none of its calls is sent before.
    waits = [request_id(thread, namespace, str(c["id"])) for c, d in zip(calls, decisions, strict=True)
             if d.effect == "approve"]  # fmt: skip
    records: list[Record] = []
    for call, key, decision in zip(calls, keys, decisions, strict=True):
        payload = {"agent": card.name, "tool": call["name"], "args": call["args"], "effect": decision.effect,
                   "call": call_hash(call["name"], call["args"]), "rule": decision.rule_id,
                   "reason": decision.reason, "key": key, WAITS_FOR: waits}  # fmt: skip
        records.append(((namespace, call["id"], "policy"), thread, "policy", payload))
    return decisions, records


async def _sent_before(audit: AuditLog, thread: str, keys: Sequence[str]) -> frozenset[str]:
    """Which of ``keys`` an earlier pass may have sent, so that only those are looked up on their server.

    A key no decision names was never sent, which one indexed read tells, so
    a first attempt reads nothing more. A named one is judged by
    :func:`sent_keys` on the thread's verified entries: a forged row must not
    make the guard send a lookup that a server may answer by acting.
    """
    named = await asyncio.to_thread(audit.seen_keys, keys) if keys else frozenset()
    if not named:
        return frozenset()
    entries = await asyncio.to_thread(audit.trusted_entries, thread)
    return sent_keys(entries, named)


def sent_keys(entries: Sequence[AuditEntry], keys: Collection[str]) -> frozenset[str]:
    """The ``keys`` whose calls an earlier pass may have sent, as the thread's audit ``entries`` tell.

    The guard never sends a denied call, and sends a batch's other calls only
    once every question the batch asked was answered with an approval. So a
    call may have been sent only if a recorded decision on its key let it run
    (``allow`` or ``approve``) and every question that decision's batch
    waited for (:data:`WAITS_FOR`) has an accepted approval on record. Its
    key is then looked up, so that a call done before a crash is replayed
    instead of being decided again against the world it changed.

    A decision recorded before decisions named their batch's questions (no
    :data:`WAITS_FOR`) counts if it was ``allow``; an ``approve`` one does
    not, since its question cannot be told: not looking a call up costs at
    most a fresh decision, looking up one never sent may carry it out.

    Args:
        entries: The thread's verified entries (``AuditLog.trusted_entries``).
        keys: The idempotency keys in question.
    """
    wanted = set(keys)
    verdicts: dict[str, bool] = {}

    def approved(rid: str) -> bool:
        if rid not in verdicts:
            verdict = recorded_verdict(entries, rid)
            verdicts[rid] = verdict is not None and verdict.approved
        return verdicts[rid]

    return frozenset(
        str(e.payload["key"])
        for e in entries
        if e.kind == "policy" and e.payload.get("key") in wanted and _let_run(e.payload, approved)
    )


def _let_run(decision: Mapping[str, Any], approved: Callable[[str], bool]) -> bool:
    """Whether a recorded ``policy`` decision let its call be sent: see :func:`sent_keys`."""
    effect, waits = decision.get("effect"), decision.get(WAITS_FOR)
    if effect not in ("allow", "approve"):
        return False
    if not isinstance(waits, list):  # recorded before decisions named their batch's questions
        return effect == "allow"
    return all(approved(str(rid)) for rid in waits)


def approval_builder(call: ToolCall, decision: PolicyDecision, agent: str, policy: PolicyFile) -> Any:
    """``build(interrupt_id, asked_at)`` for :func:`~switchboard.agents.interrupts.ask`: the call's question."""
    rule = next((r for r in policy.approvals if r.id == decision.rule_id), None)

    def build(interrupt_id: str, asked_at: float) -> ApprovalRequest:
        return ApprovalRequest(
            question=decision.question,
            rule=decision.rule_id,
            agent=agent,
            tool=call["name"],
            args=dict(call["args"]),
            value=decision.value,
            threshold=rule.threshold if rule else None,
            call=call_hash(call["name"], call["args"]),
            roles=list(decision.roles),
            escalation=decision.escalation,
            interrupt_id=interrupt_id,
            asked_at=asked_at,
        )

    return build


async def _policy_check(
    call: ToolCall, card: AgentCard, toolbox: Toolbox, policy: PolicyFile, facts: Facts, key: str | None,
    may_have_run: bool,
) -> PolicyDecision:  # fmt: skip
    """:func:`_decide` as its own run, so a trace shows the check (and the quotes it reads) as a policy check.

    The call's idempotency key is derived by the caller, from the step's own
    config: the check's run config carries its own metadata, which replaces
    the step's (and with it the step id the key is made from).
    """

    async def check(c: ToolCall) -> PolicyDecision:
        return await _decide(c, card, toolbox, policy, facts, key if may_have_run else None)

    run = RunnableLambda(check, name=f"policy: {call['name']}")
    step = ensure_config().get("metadata") or {}  # the step's labels (agent, step id) stay on the check's run
    return await run.ainvoke(call, {"tags": [POLICY_TAG], "metadata": {**step, "tool": call["name"]}})


async def _decide(
    call: ToolCall, card: AgentCard, toolbox: Toolbox, policy: PolicyFile, facts: Facts, replay_key: str | None
) -> PolicyDecision:
    """The decision on one call; ``replay_key``: ask the server first whether that key already ran."""
    name = call["name"]
    if name not in card.tools:
        allowed = ", ".join(card.tools) or "none"
        return PolicyDecision("deny", "card", f"{card.name} may not use {name!r}; its tools: {allowed}")
    if toolbox.get(name) is None:
        if not toolbox.names:  # built without the team's servers: nothing could ever run it
            why = (f"tool {name!r} is not available: the graph was built without a toolbox; pass "
                   "build_graph(toolbox=...) from `async with Toolbox.for_team(team) as toolbox`")  # fmt: skip
            return PolicyDecision("deny", "card", why)
        return PolicyDecision("deny", "card", f"tool {name!r} is not available right now")
    if replay_key and await toolbox.already_done(name, call["args"], replay_key):
        # Done before a crash (approved then, if it needed approval): deciding it
        # again against the world it changed would refuse it. It is replayed.
        return PolicyDecision("allow", "replay", "already done under this call's idempotency key; replayed")
    return await decide_call(policy, card.name, toolbox, call, facts)


async def decide_call(policy: PolicyFile, agent: str, toolbox: Toolbox, call: ToolCall, facts: Facts) -> PolicyDecision:
    """The policy's decision on one call: grants, constraints, scope (fetching unknown owners), quotes, approvals.

    Args:
        policy: The policy in force.
        agent: Who calls.
        toolbox: Where the read-only quote and fact tools are.
        call: The call.
        facts: What the thread's successful results established.
    """
    name, args = call["name"], call["args"]
    early = _before_quotes(policy, agent, name, args, facts)
    if early is not None:
        return early
    quotes: dict[str, Any] = {}
    measured: dict[str, float | None] = {}
    fetched: dict[str, dict[str, Any] | str] = {}  # one read per distinct quote, however many rules measure it
    for quote in measure_calls(policy, name, args):
        asked = call_hash(quote.tool, quote.args)
        if asked not in fetched:
            fetched[asked] = await _read(toolbox, quote.tool, quote.args)
        result = fetched[asked]
        if isinstance(result, str):
            return PolicyDecision("deny", quote.key, f"{quote.key} could not price this call: {result}")
        if quote.field and quote.field not in result:  # a misspelt field would read as "no price": say which
            fields = ", ".join(sorted(map(str, result))[:20]) or "none"
            return PolicyDecision(
                "deny", quote.key, f"{quote.key} could not price this call: {quote.tool}'s answer has no field "
                f"{quote.field!r} (it has: {fields}); fix the rule's measure.field in the policy file",
            )  # fmt: skip
        quotes[quote.key] = result
        measured[quote.key] = _number(result.get(quote.field)) if quote.field else None
    for rule in policy.approval_rules_for(name):
        if rule.measure is not None and rule.measure.tool is None:
            measured[rule.id] = _number(args.get(rule.measure.field))
    decision = check_call(policy, agent, name, args, quotes=quotes, facts=facts)
    if decision.effect == "deny" and decision.details.get("missing"):
        for read in missing_facts(policy, decision, facts):
            result = await _read(toolbox, read.tool, read.args)
            if not isinstance(result, str):
                facts = learn(policy.scopes, facts, read.tool, read.args, result)
        decision = check_call(policy, agent, name, args, quotes=quotes, facts=facts)
    if decision.effect != "allow":
        return decision
    return evaluate(policy, name, args, measured)


def _before_quotes(
    policy: PolicyFile, agent: str, tool: str, args: Mapping[str, Any], facts: Facts
) -> PolicyDecision | None:
    """Grants and the checks of the call's own arguments, before any quote tool sees them."""
    granted = check_tool_grant(policy.grants, agent, tool)
    if granted.effect != "allow":
        return granted
    plain = tuple(c for c in policy.constraints if not isinstance(c, Range))
    return check_constraints(plain, tool, args, {}, facts, facts_based=False)


async def _read(toolbox: Toolbox, name: str, args: Mapping[str, Any]) -> dict[str, Any] | str:
    """Call a read-only tool for the guard (a quote, a fact); its parsed result or why not.

    The quote tool validates the same arguments as the guarded write, so its
    error is usually the write's error too, and the agent sees it.
    """
    tool = toolbox.get(name)
    if tool is None:
        return f"tool {name!r} is not available"
    try:
        message = await tool.ainvoke({"type": "tool_call", "name": name, "args": dict(args), "id": "guard"})
    except GraphBubbleUp:
        raise
    except Exception as exc:  # reported as the reason the call is refused
        return f"{name} crashed: {exc}"
    text = content_text(message.content)
    if getattr(message, "status", "success") == "error":
        return text
    value = parse_result(text)
    return value if isinstance(value, dict) else f"{name} returned no JSON object"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


async def _execute(
    call: ToolCall, decision: PolicyDecision, toolbox: Toolbox, timeout: float, key: str | None, *, write: bool
) -> ToolCallRecord:
    """Run one decided call and record how it ended.

    A tool that reports its own error (an MCP ``isError`` result, or
    LangChain's ``ToolException`` from an in-process tool) ``refused`` the
    call. Any other exception, or no reply in time, is no answer at all. A
    read that raised or timed out ``crashed``: a read changes nothing, so
    another agent may retry it. A write that raised (the server died, the
    connection dropped, its reply did not validate) is as ``uncertain`` as one
    that timed out: it may have taken effect, so its step goes to a human
    instead of to an agent that would send it again (a server that ignores
    idempotency keys would then act twice). Which of those errors came
    before the request left cannot be told from here (the MCP client
    validates the server's reply with the same pydantic errors an argument
    check raises), so none is trusted to.

    A failure of the tool's MCP server (its transport went away under the
    call, or it did not answer in time and then answered no ping either:
    it was hung) is recorded as the server's fault
    (``fault: "server"``, see :func:`tool_server_failed`): it does not count
    against the agent's health. The toolbox starts such a server again
    before its next call, so the agent's next try, or the step reassigned to
    another agent, reaches a live server (the failed call is not sent again
    from here: a write stays ``uncertain``, and goes to a human). A call
    whose server could not be started again was never sent, so it is
    ``crashed`` even if it is a write: nothing can have changed.
    """
    name, args = call["name"], dict(call["args"])
    policy = f"{decision.rule_id}: {_VERDICT[decision.effect]}" if decision.rule_id else None

    def record(outcome: CallOutcome, result: str, *, server: bool = False) -> ToolCallRecord:
        if server:
            return _ServedCallRecord(tool=name, args=args, outcome=outcome, result=result, policy=policy,
                                     fault=SERVER_FAULT)  # fmt: skip
        return ToolCallRecord(tool=name, args=args, outcome=outcome, result=result, policy=policy)

    if decision.effect == "deny":
        return record("refused", f"Refused: {decision.reason}")
    tool = toolbox.get(name)
    assert tool is not None  # _decide denied unknown tools
    try:  # a restart of the tool's server, under way since a failed call, is no part of this call's time
        await toolbox.ready(name)
    except ToolServerFailure as exc:
        return record("crashed", f"{name} was not sent: {exc}", server=True)
    try:
        with keyed_call(key) if key else nullcontext():
            message = await asyncio.wait_for(
                tool.ainvoke({"type": "tool_call", "name": name, "args": args, "id": call["id"]}), timeout
            )
    except GraphBubbleUp:
        raise
    except TimeoutError:
        hung = await toolbox.no_answer(name, timeout)  # its server is pinged, and restarted if it answers none
        why = "; its server answered no ping either, and was restarted" if hung else ""
        if write:
            return record("uncertain", f"{name} timed out after {timeout:g}s{why}; whether it took effect is unknown",
                          server=hung)  # fmt: skip
        return record("crashed", f"{name} timed out after {timeout:g}s (a read: nothing changed){why}", server=hung)
    except ToolException as exc:  # the tool's own answer that it did not do it (LangChain's idiom)
        return record("refused", str(exc) or f"{name} reported an error")
    except Exception as exc:  # a crashing tool is recorded and reported, never swallowed
        gone = isinstance(exc, ToolServerFailure)  # its server's transport failed: restarted for the next call
        if write:
            return record("uncertain", f"{name} failed mid-call ({type(exc).__name__}: {exc}); "
                          "whether it took effect is unknown", server=gone)  # fmt: skip
        return record("crashed", f"{name} crashed: {type(exc).__name__}: {exc}", server=gone)
    failed = getattr(message, "status", "success") == "error"
    return record("refused" if failed else "ok", content_text(message.content))


def call_key(call: ToolCall) -> str | None:
    """The idempotency key of one call: this thread, this step, this call.

    The step is the supervisor's assignment id (run metadata
    ``STEP_METADATA_KEY``), which survives a crash and a reassignment to
    another agent, and the call is its tool and arguments, so a re-run or a
    new agent repeating a write sends the same key and the domain server
    replays instead of acting twice. Outside a supervisor step (a graph run
    without one) the agent node's task namespace and the model's call id
    stand in. Without a thread (no checkpointer) there is nothing stable.
    """
    try:
        config = get_config()
    except RuntimeError:  # called outside a graph run
        return None
    configurable = config.get("configurable") or {}
    thread, call_id = configurable.get("thread_id"), call.get("id")
    if not thread:
        return None
    step = (config.get("metadata") or {}).get(STEP_METADATA_KEY)
    if step:
        return idempotency_key(str(thread), f"step:{step}", call_identity(call["name"], call["args"]))
    if not call_id:
        return None
    namespace = str(configurable.get("checkpoint_ns") or "").split("|", 1)[0]
    return idempotency_key(str(thread), namespace, call_id)


def content_text(content: Any) -> str:
    """Flatten tool output (a string or MCP content blocks) to text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(block.get("text", "") if isinstance(block, Mapping) else str(block) for block in content)
    return str(content)


def _message(call: ToolCall, text: str, *, ok: bool) -> ToolMessage:
    return ToolMessage(text, tool_call_id=call["id"], name=call["name"], status="success" if ok else "error")


def _escalation(card: AgentCard, decision: PolicyDecision, verdict: ApprovalVerdict) -> EscalationEvent:
    return EscalationEvent(
        kind="escalation",
        source="policy",
        question=decision.question,
        agent=card.name,
        rule=decision.rule_id,
        approved=verdict.approved,
        note=verdict.note,
        approver=verdict.answered_by,
        at_call=0,
    )
