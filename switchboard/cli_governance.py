"""Governance commands: ``principals``, ``audit`` and ``escalations``.

Kept apart from :mod:`switchboard.cli` so the run commands stay short; each
command here is registered with a ``handler`` and runs on its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchboard.errors import ConfigError
from switchboard.text import visible

if TYPE_CHECKING:  # imported where used: building the parser (`--help`) must stay light
    from rich.console import Console

    from switchboard.settings import Settings

INTERRUPT_CHANNEL = "__interrupt__"


def _settings() -> Settings:
    from switchboard.settings import Settings

    return Settings()


def add_governance_commands(sub: Any) -> None:
    """Register the commands on the ``switchboard`` sub-parser set."""
    principals = sub.add_parser("principals", help="approvers: keys and roles")
    psub = principals.add_subparsers(dest="action", required=True)
    keygen = psub.add_parser("keygen", help="make NAME a key pair and list its public key with its roles")
    keygen.add_argument("name")
    keygen.add_argument("--role", action="append", required=True, help="a role NAME holds (repeat for several)")
    keygen.add_argument("--file", type=Path, help="principals file to update (default: the data directory's)")
    keygen.add_argument("--if-missing", action="store_true", help="keep an existing key that is already listed")
    keygen.set_defaults(handler=_keygen)
    listing = psub.add_parser("list", help="the principals in force for the team's policy")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list_principals)

    audit = sub.add_parser("audit", help="the tamper-evident audit trail")
    asub = audit.add_subparsers(dest="action", required=True)
    verify = asub.add_parser("verify", help="check the trail; exit 1 naming the first bad entry")
    verify.add_argument("--thread")
    verify.add_argument("--anchor", help="SEQ:HASH printed earlier by `audit head`")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=_audit_verify)
    show = asub.add_parser("show", help="print the trail's entries")
    show.add_argument("--thread")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_audit_show)
    head = asub.add_parser("head", help="print the last entry as SEQ:HASH, to keep elsewhere as an anchor")
    head.set_defaults(handler=_audit_head)

    escalations = sub.add_parser("escalations", help="questions waiting for a human: for whom, since when")
    escalations.add_argument("--json", action="store_true")
    escalations.add_argument(
        "--sweep", action="store_true", help="apply expired escalation timeouts (reject, or move to the next role)"
    )
    escalations.set_defaults(handler=_escalations)


# principals ---------------------------------------------------------------------------


def _policy() -> Any:
    from switchboard.agents.card import load_team

    return load_team(_settings().team).load_policy()


def load_team_policy_path(team: str) -> Path | None:
    """The policy file a team names (for messages)."""
    from switchboard.agents.card import load_team

    return load_team(team).policy_path


def _keygen(args: argparse.Namespace, console: Console) -> int:
    from switchboard.policies.loader import load_principals, principals_paths
    from switchboard.policies.principals import generate_key, name_problem, upsert_principal

    data_dir = _settings().data_dir
    policy = _policy()
    files = principals_paths(policy)
    target = (args.file or _keygen_file(files, data_dir)).resolve()
    registry = load_principals(policy)
    owner = (registry.origin or {}).get(args.name)
    if owner is not None and owner.resolve() != target:
        raise ConfigError(f"{args.name} is defined in {owner}; re-key them there with --file {owner}")
    undeclared = [r for r in args.role if registry.roles and r not in registry.roles]
    if undeclared:
        settings = _settings()
        raise ConfigError(
            f"role(s) {', '.join(undeclared)} are not declared by the principals of team {settings.team!r} "
            f"(its policy {load_team_policy_path(settings.team)}); declared: {', '.join(registry.roles)}. "
            "For another team, set SWITCHBOARD_TEAM to its team file"
        )
    problem = name_problem(args.name)
    if problem:  # before the key file is named after it: "../x" would write outside keys/
        raise ConfigError(problem)
    key_file = data_dir / "keys" / f"{args.name}.pem"
    if args.if_missing and _already_listed(registry.get(args.name), key_file, args.role):
        console.print(f"{args.name} already has a key ({key_file}) listed with roles {', '.join(args.role)}")
        return 0
    upsert_principal(target, args.name, args.role, generate_key(key_file))
    console.print(f"{args.name} ({', '.join(args.role)}): private key {key_file} (0600), public key in {target}")
    if target not in files:
        console.print(f"[yellow]note:[/yellow] the policy does not read {target}; add it to its `principals:`")
    return 0


def _keygen_file(files: tuple[Path, ...], data_dir: Path) -> Path:
    """Where keygen adds a principal: the policy's principals file in the data directory.

    The policy names it (``${SWITCHBOARD_HOME}/principals.yaml`` for the
    shipped team); a second team sharing the data directory names its own
    (``${SWITCHBOARD_HOME}/helpdesk-principals.yaml``), so the roles one
    team's principals hold never meet the other team's declared roles.
    Without one, the data directory's ``principals.yaml``.
    """
    home = data_dir.resolve()
    own = [file for file in files[1:] if file.resolve().parent == home]
    return own[-1] if own else data_dir / "principals.yaml"


def _already_listed(principal: Any, key_file: Path, roles: list[str]) -> bool:
    from switchboard.policies.principals import load_private_key, public_key_text

    if principal is None or not key_file.exists() or list(principal.roles) != list(roles):
        return False
    return bool(principal.public_key == public_key_text(load_private_key(key_file).public_key()))


def _list_principals(args: argparse.Namespace, console: Console) -> int:
    from switchboard.policies.loader import load_principals

    registry = load_principals(_policy())
    keys = _settings().data_dir / "keys"
    rows: list[dict[str, Any]] = [
        {
            "name": p.name,
            "roles": list(p.roles),
            "public_key": p.public_key is not None,
            "private_key_here": (keys / f"{p.name}.pem").exists(),
            "file": str((registry.origin or {}).get(p.name)),
        }
        for p in registry.principals.values()
    ]
    if args.json:
        print(json.dumps({"files": [str(f) for f in registry.sources], "principals": rows}))
        return 0
    console.print(f"principals files read: {', '.join(str(f) for f in registry.sources) or 'none'}", markup=False)
    for row in rows:
        key = "key" if row["public_key"] else "NO KEY"
        local = ", private key here" if row["private_key_here"] else ""
        console.print(f"  {row['name']}: {', '.join(row['roles'])} ({key}{local}; {row['file']})", markup=False)
    return 0


# audit --------------------------------------------------------------------------------


def _audit_verify(args: argparse.Namespace, console: Console) -> int:
    from switchboard.checkpoints.audit import open_audit

    anchor = None
    if args.anchor:
        seq, _, digest = args.anchor.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise ConfigError(f"--anchor {args.anchor!r} must be SEQ:HASH as printed by `switchboard audit head`")
        anchor = (int(seq), digest)
    report = open_audit(_settings().data_dir).verify(args.thread, anchor=anchor)
    bad = report.first_bad
    if args.json:
        print(json.dumps({"ok": report.ok, "checked": report.checked, "thread": args.thread, "keyed": report.keyed,
                          "first_bad": None if bad is None else bad.__dict__}))  # fmt: skip
    elif bad is None:
        scope = f" in {args.thread}" if args.thread else ""
        console.print(f"[green]ok[/green]: {report.checked} entries verified{scope}")
    else:
        where = f"entry {bad.seq}" if bad.seq is not None else "the log"
        console.print(f"[bold red]tampered[/bold red] at {where} ({bad.problem}): ", end="")
        console.print(bad.message, markup=False)
    return 0 if report.ok else 1


def _audit_show(args: argparse.Namespace, console: Console) -> int:
    from switchboard.checkpoints.audit import open_audit

    log = open_audit(_settings().data_dir)
    entries = log.entries(args.thread)
    bad = log.verify(args.thread).first_bad  # a shown entry is only as good as the chain behind it
    if args.json:
        print(json.dumps([e.__dict__ for e in entries], default=dict))
    else:
        for e in entries:
            mark = "!" if bad is not None and (bad.seq is None or e.seq >= bad.seq) else " "
            console.print(f"{mark}{e.seq:>5} {e.at[:19]} {e.thread} {e.kind}: {json.dumps(e.payload)}", markup=False)
    if bad is None:
        return 0
    where = f"entry {bad.seq}" if bad.seq is not None else "the log"
    print(
        f"tampered at {where} ({bad.problem}): {bad.message}; entries from there on (marked !) cannot be trusted. "
        "`switchboard audit verify` for the report",
        file=sys.stderr,
    )
    return 1


def _audit_head(args: argparse.Namespace, console: Console) -> int:
    from switchboard.checkpoints.audit import open_audit

    head = open_audit(_settings().data_dir).head()
    print("empty" if head is None else f"{head[0]}:{head[1]}")
    return 0


# escalations --------------------------------------------------------------------------


def _escalations(args: argparse.Namespace, console: Console) -> int:
    import asyncio

    if args.sweep:
        return _sweep(args, console)
    rows = asyncio.run(waiting(_settings(), _policy(), now=datetime.now(UTC).timestamp()))
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        console.print("nothing is waiting for a human")
    for row in rows:
        if row["state"] == "tampered":
            console.print(visible(f"{row['thread']} tampered: {row['question']}"), markup=False)
            continue
        if row["state"] == "answered":  # waits for no one: the answer stands, its step did not end
            console.print(
                visible(
                    f"{row['thread']} [{row['kind']}] answered: {row['answer']} before its process ended; that "
                    f"answer stands, `switchboard resume {row['thread']}` continues it: {row['question']}"
                ),
                markup=False,
            )
            continue
        who = ", ".join(row["roles"]) or "any principal"
        until = f" until {datetime.fromtimestamp(row['deadline'], UTC).isoformat()[:19]}" if row["deadline"] else ""
        console.print(
            visible(
                f"{row['thread']} [{row['kind']}] waiting since {row['since'][:19]}{until} for {who}"
                f"{' (expired: run `switchboard escalations --sweep`)' if row['state'] == 'expired' else ''}"
                f": {row['question']}"
            ),
            markup=False,
        )
        console.print(f"  question {row['interrupt_id']}; answer with: {row['command']}", markup=False)
    return 0


def _sweep(args: argparse.Namespace, console: Console) -> int:
    from switchboard import graph_cache
    from switchboard.sweeper import sweep

    results = graph_cache.run(sweep(_settings()))
    # Every thread is swept first; then a cron job learns, by the exit code, that some could not be.
    code = 1 if any(r.action in ("unavailable", "tampered") for r in results) else 0
    if args.json:
        print(json.dumps([r.__dict__ for r in results]))
        return code
    if not results:
        console.print("no escalation timeout has expired")
    for r in results:
        if r.action == "answered":
            note = (
                f": {r.answer} before its process ended; that answer stands and no timeout applies, "
                f"`switchboard resume {r.thread}` continues it"
            )
        elif r.action == "unknown":
            note = f": the graph recorded no decision on the timeout; `switchboard show {r.thread}`"
        else:
            note = f"; now for {', '.join(r.roles)}" if r.action == "escalated" else ""
        console.print(visible(f"{r.thread} {r.action}{note}: {r.question}"), markup=False)
    return code


async def waiting(settings: Settings, policy: Any, *, now: float) -> list[dict[str, Any]]:
    """Every open question in the checkpoints: thread, interrupt, who may answer, since when.

    A thread whose checkpoints (or audit trail) fail their signature is
    listed as ``tampered`` (with why, as its question) instead of hiding
    every other thread's. A question answered before the process that took
    the answer ended (its verdict on the audit record, see
    :func:`switchboard.runs.answered_question`) waits for no one: its state
    is ``answered``, with ``answer`` saying how, and ``switchboard resume
    THREAD`` continues the thread.
    """
    import asyncio

    from switchboard.checkpoints.audit import AuditEntry, AuditLog, open_audit
    from switchboard.checkpoints.factory import open_checkpointer
    from switchboard.checkpoints.threads import thread_ids
    from switchboard.errors import AuditError, CheckpointTampered
    from switchboard.runs import thread_config

    rows: list[dict[str, Any]] = []
    audit: AuditLog | None = None  # opened for the first thread that asks something
    try:
        async with open_checkpointer(settings.checkpoint_target, key=settings.checkpoint_key()) as saver:
            for thread in await thread_ids(saver):
                entries: list[AuditEntry] = []
                try:
                    item = await saver.aget_tuple(thread_config(thread))
                    if item is not None and any(w[1] == INTERRUPT_CHANNEL for w in item.pending_writes or []):
                        audit = audit or open_audit(settings.data_dir)
                        entries = await asyncio.to_thread(audit.trusted_entries, thread)
                except (CheckpointTampered, AuditError) as exc:
                    rows.append(_tampered_row(thread, str(exc), now))
                    continue
                if item is not None:
                    rows.extend(_questions(thread, item, policy, now, entries))
    finally:
        if audit is not None:
            audit.close()
    return sorted(rows, key=lambda r: r["since"])


def _questions(thread: str, item: Any, policy: Any, now: float, entries: Any = ()) -> list[dict[str, Any]]:
    """The questions ``item`` (a thread's latest checkpoint) asks; ``entries``: the thread's trusted audit entries."""
    from switchboard.agents.interrupts import recorded_verdict
    from switchboard.policies.answers import request_status
    from switchboard.sweeper import due

    rows: list[dict[str, Any]] = []
    since = datetime.fromisoformat(item.checkpoint["ts"])
    for _, channel, value in item.pending_writes or []:
        if channel != INTERRUPT_CHANNEL:
            continue
        for interrupt in value if isinstance(value, list | tuple) else [value]:
            question = getattr(interrupt, "value", {}) or {}
            asked = float(question.get("asked_at") or since.timestamp())
            status = request_status(policy, {**question, "asked_at": asked}, now)
            rid = question.get("interrupt_id") or getattr(interrupt, "id", None)
            verdict = recorded_verdict(entries, str(rid or ""), call=question.get("call") or None)
            if verdict is not None:
                state, answer = "answered", f"{'approved' if verdict.approved else 'rejected'} by "
                answer += verdict.answered_by or "a human"
            else:
                state = "expired" if due(policy, {**question, "asked_at": asked}, now) else "waiting"
                answer = None
            rows.append({
                "thread": thread,
                "interrupt_id": rid,
                "kind": question.get("kind", "question"),
                "question": question.get("question", ""),
                "rule": question.get("rule"),
                "roles": list(status.roles),
                "since": datetime.fromtimestamp(asked, UTC).isoformat(),
                "state": state,
                "step": int(question.get("step") or 0),
                "deadline": None if status.deadline == float("inf") else status.deadline,
                "answer": answer,
                "command": _command(thread, str(rid), question.get("kind"), state),
            })  # fmt: skip
    return rows


def _command(thread: str, rid: str, kind: Any, state: str) -> str:
    """The command that moves a listed question on; for an approver, pinned to that question.

    Approvers copy it from the listing: with ``--interrupt`` in it, a
    question answered (or replaced) by someone else in the meantime is
    refused instead of another one being signed.
    """
    from switchboard.runs import answer_command

    if state == "answered":
        return f"switchboard resume {thread}"
    if kind == "question":
        return f'switchboard reply {thread} "TEXT"'
    return f"{answer_command(thread, rid)} --as NAME"


def _tampered_row(thread: str, why: str, now: float) -> dict[str, Any]:
    return {
        "thread": thread, "interrupt_id": None, "kind": "tampered", "question": why, "rule": None,
        "roles": [], "since": datetime.fromtimestamp(now, UTC).isoformat(), "state": "tampered", "step": 0,
        "deadline": None, "answer": None, "command": None,
    }  # fmt: skip
