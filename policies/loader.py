"""Reading policy files from disk."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from difflib import get_close_matches
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from switchboard.errors import ConfigError
from switchboard.policies.constraints import Loc, NamedArgument
from switchboard.policies.grants import SUPERVISOR, is_pattern, matching_tools
from switchboard.policies.model import DenyRule, PolicyFile
from switchboard.policies.principals import Registry, expand_path, load_registry
from switchboard.policies.yaml_source import line_of, read_tree, validate_yaml

log = logging.getLogger(__name__)

ToolArguments = Mapping[str, frozenset[str] | None]
"""The arguments each tool takes, by tool name; ``None`` where its schema does not say."""

POLICIES_DIR = Path(__file__).parent


def resolve_policy_path(path: str | Path, base: Path | None = None) -> Path:
    """Where a policy file named by a team file lives.

    A relative path is resolved against ``base`` (the team file's folder),
    then against the shipped ``policies/`` folder; never against the working
    directory, so a stray file where a command runs cannot replace the rules.
    """
    file = Path(path).expanduser()
    if file.is_absolute():
        return file
    candidates = [base / file] if base is not None else []
    candidates.append(POLICIES_DIR / file)
    return next((c for c in candidates if c.exists()), candidates[0]).resolve()


def load_policy(path: str | Path | None, *, base: Path | None = None) -> PolicyFile:
    """Load a policy file.

    Args:
        path: The file; ``None`` means no rules at all (every call allowed).
        base: The folder a relative ``path`` is resolved against (the team
            file's); the shipped ``policies/`` folder is the fallback.

    Raises:
        ConfigError: The file is missing or invalid; the message names it.
    """
    if path is None:
        return PolicyFile(name="none")
    file = resolve_policy_path(path, base)
    if not file.exists():
        raise ConfigError(f"cannot read policy file {file}: it does not exist; fix the team file's `policy`")
    return validate_yaml(PolicyFile, file, kind="policy file", extra={"source": file})


def principals_paths(policy: PolicyFile, env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The principals files a policy names, resolved against the policy's folder."""
    base = policy.source.parent if policy.source else POLICIES_DIR
    return tuple(expand_path(p, base, env) for p in policy.principals)


def load_principals(policy: PolicyFile, env: Mapping[str, str] | None = None) -> Registry:
    """The principals in force for ``policy``, merged from the files it names.

    The first file is required (it is the reviewed one beside the policy);
    later ones may be missing (the data directory's, before any keygen).

    Raises:
        ConfigError: A file is invalid, or a rule names a role no principals
            file declares (a typo would otherwise make a rule unanswerable).
    """
    files = principals_paths(policy, env)
    registry = load_registry(files, required=files[:1])
    if files and registry.roles:
        unknown = sorted(policy.declared_roles() - set(registry.roles))
        if unknown:
            raise ConfigError(
                f"policy {policy.source or policy.name} names role(s) {', '.join(unknown)} that no principals file "
                f"declares ({', '.join(str(f) for f in registry.sources)}); declare them under `roles:`"
            )
    return registry


def check_argument_names(policy: PolicyFile, takes: ToolArguments) -> None:
    """Every tool argument a rule names must be one of its tools', checked when the tools are known.

    A misspelt argument loads fine and silently disables its rule: a deny
    whose ``when`` names ``orderid`` never matches a call with ``order_id``,
    so the call it was written to stop goes through. A name is accepted when
    at least one of the rule's tools takes it, since a rule over a shared
    list of tools names ids only some of them take, and each check reads an
    argument only where it is given. A deny rule's conditions must hold in
    one call, so one of its tools must take them all. A tool whose schema
    does not list its arguments is given the benefit of the doubt.

    Args:
        policy: The policy in force.
        takes: The arguments of every tool the policy names (see ``guarded_tools``).

    Raises:
        ConfigError: Naming the policy file and line of each problem, the
            rule, the argument, the arguments its tools take and the
            closest one.
    """
    problems = [(named.loc, problem) for named in policy.named_arguments(takes) if (problem := _unknown(named, takes))]
    problems += [
        (("deny", i, "when"), problem) for i, rule in enumerate(policy.deny) if (problem := _apart(rule, takes))
    ]
    _refuse(
        policy, problems, _positions(policy),
        "names tool arguments its rules' tools do not take, so those rules would not work as written "
        "(a deny would let the call through); fix the names",
    )  # fmt: skip


def check_scope_coverage(policy: PolicyFile, takes: ToolArguments, callers: Mapping[str, Collection[str]]) -> None:
    """Every tool an agent may call that takes a scoped argument must be scoped, or opted out by name.

    The data scopes check only the tools listed under ``scopes.tools`` and
    let any other call through: a tool that takes an argument ``scopes.args``
    names (an order id, a user id) but is missing from that list acts on
    anyone's records, whichever customer the thread identified. So such a
    tool is refused unless the policy lists it under ``scopes.unscoped``,
    the explicit, reviewed opt-out. An opt-out that names a tool taking none
    of the scoped arguments is refused too: it is a typo or stale. A tool
    whose schema does not list its arguments is given the benefit of the doubt.

    Args:
        policy: The policy in force.
        takes: The arguments of every tool there is (``None`` where its schema does not say).
        callers: The tools the agents may call (their cards and the policy's grants allow), with who may.

    Raises:
        ConfigError: Naming the policy file and line, each tool, the scoped
            arguments it takes, the agents that may call it, and the fix.
    """
    scopes = policy.scopes
    if scopes is None:
        return
    problems: list[tuple[Loc, str]] = []
    for tool in sorted(set(callers) - set(scopes.tools) - set(scopes.unscoped)):
        scoped = [arg for arg in scopes.args if arg in (takes.get(tool) or ())]
        if scoped:
            named = ", ".join(f"{arg} ({scopes.args[arg]})" for arg in scoped)
            problems.append((
                ("scopes", "tools"),
                f"{tool}, which {_some(sorted(callers[tool]), 5)} may call, takes {named} but is not listed: add "
                f"{tool} to scopes.tools, so a call naming what is not the thread's customer's is refused, or, if "
                "it must act on anyone's, list it under scopes.unscoped",
            ))  # fmt: skip
    for index, tool in enumerate(scopes.unscoped):
        arguments = takes.get(tool)
        if arguments is not None and not any(arg in arguments for arg in scopes.args):
            problems.append((
                ("scopes", "unscoped", index),
                f"{tool} takes none of the scoped arguments ({', '.join(scopes.args)}), so there is nothing to "
                f"opt out of: remove it from scopes.unscoped (did you mean another tool?)",
            ))  # fmt: skip
    _refuse(
        policy, problems, _positions(policy),
        "has tools taking an argument its data scopes name that are neither under scopes.tools (checked) nor, "
        "deliberately, under scopes.unscoped (not checked): the scopes let every other call through, on "
        "anyone's records; fix it",
    )  # fmt: skip


def check_grant_names(
    policy: PolicyFile,
    agents: Sequence[str],
    *,
    brought: Collection[str] = (),
    tools: Collection[str] | None = None,
) -> None:
    """The agents and tools the policy's grants name must be the team's, checked when the graph is built.

    A misspelt name loads fine and fails closed at run time, looking like a
    business refusal: a grant keyed ``desks`` leaves agent ``desk`` with no
    grant, so every call of its is refused; a misspelt tool in a grant is
    refused at each call; a misspelt ``handoffs`` target pauses every
    handoff it was meant to allow. So each is refused here, with the file,
    line and closest name.

    One policy may govern several teams (the τ-bench team shares retail's),
    so a grant for an agent this team does not have is not an error in
    itself, and neither is a handoff to an agent the policy grants: they
    govern nothing here and are logged. A grant key is refused when it is
    close to an agent of the team that has no grant of its own (the agent it
    was meant for); a handoff target, when it is neither an agent of the
    team nor one the policy grants (no agent anywhere could receive it).
    Agents brought as graphs (or remote A2A agents) are members like any
    other. Their own tools are out of sight, so a tool their grant names that
    no server or spec provides is refused only a typo away from a known
    tool, and said otherwise; a card or spec agent's grant must name tools
    there are. Tool names that are glob patterns (``get_*``) are not checked
    by name; one matching no tool is said. Said too: an agent of the team
    with no grant (it may call no tool and hand work to no one), and a grant
    for, or a handoff to, the ``supervisor`` (which calls no tools, may
    assign to any agent, and gets every step's work back): they govern
    nothing.

    Args:
        policy: The policy in force.
        agents: Every agent of the team (cards, specs and brought), in team order.
        brought: Those of them brought as graphs or over A2A.
        tools: Every tool an MCP server or spec provides; ``None`` when not
            known (no toolbox is open): only agent names are checked then.

    Raises:
        ConfigError: Naming the policy file and line of each problem, the
            name, and the closest agent or tool (or the ones there are).
    """
    grants = policy.grants
    if not grants:
        return
    team = set(agents)
    ungranted = [name for name in agents if name not in grants]
    problems: list[tuple[Loc, str]] = []
    notes: list[tuple[Loc, str]] = []
    elsewhere: list[tuple[Loc, str]] = []
    for key, grant in grants.items():
        loc: Loc = ("grants", key)
        if key == SUPERVISOR:
            notes.append((loc, "the supervisor calls no tools and may assign work to any agent: this grant governs "
                               "nothing"))  # fmt: skip
            continue
        member: str | None = key  # whose grant this is: the key, or the agent a misspelt key was meant for
        if key not in team:
            meant = get_close_matches(key, ungranted, n=1)
            member = meant[0] if meant else None
            if meant:
                ungranted.remove(meant[0])
                problems.append((loc, f"no agent of the team is named {key!r}, and {meant[0]} has no grant, so it "
                                      f"may call no tool; did you mean {meant[0]}?"))  # fmt: skip
            else:
                elsewhere.append((loc, key))
        for index, target in enumerate(grant.handoffs):
            where: Loc = ("grants", key, "handoffs", index)
            if target in team:
                continue
            if target == SUPERVISOR:
                notes.append((where, "every step hands its work back to the supervisor; naming it governs nothing"))
            elif target in grants:
                elsewhere.append((where, target))
            else:
                problems.append((where, f"{key} may hand work to {target!r}, which is no agent of the team nor one "
                                        f"the policy grants, so each handoff meant pauses the run for a human; "
                                        f"{_agent_meant(target, agents)}"))  # fmt: skip
        if tools is None or member is None:
            continue
        for index, tool in enumerate(grant.tools):
            where = ("grants", key, "tools", index)
            if is_pattern(tool):
                if not any(fnmatchcase(name, tool) for name in tools):
                    notes.append((where, f"{tool!r} matches no tool an MCP server or spec provides"))
                continue
            if tool in tools:
                continue
            close = get_close_matches(tool, sorted(tools), n=1, cutoff=0.8 if member in brought else 0.6)
            if member in brought and not close:
                notes.append((where, f"{key} is granted {tool!r}, which no MCP server or spec provides; unless it "
                                     "is one of the brought agent's own tools, this grants nothing"))  # fmt: skip
                continue
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append((where, f"{key} is granted {tool!r}, which no MCP server or spec provides, so the tool "
                                    f"meant is refused at every call{hint}"))  # fmt: skip
    notes += [
        (("grants",), f"{name} has no grant: the guard lets it call no tool, and the run pauses for a human "
                      f"whenever its work would pass to another agent; add grants.{name}")
        for name in ungranted
    ]  # fmt: skip
    if not (problems or notes or elsewhere):
        return
    place = _key_positions(policy)
    what = _what(policy)
    for loc, note in notes:
        log.warning("%s: %s: %s", place(loc), ".".join(str(p) for p in loc), note)
    if elsewhere:
        log.info(
            "%s grants agents this team does not have (%s): agents of another team sharing the policy, or names a "
            "brought agent's SwitchboardGuard uses; they govern nothing here: %s",
            what, ", ".join(sorted({name for _, name in elsewhere})),
            "; ".join(f"{place(loc)}: {'.'.join(str(p) for p in loc)}" for loc, _ in elsewhere),
        )  # fmt: skip
    _refuse(
        policy, problems, place,
        "names agents or tools in its grants that the team does not have, so the grants would refuse at run "
        "time what they were written to allow; fix the names",
    )  # fmt: skip


def _what(policy: PolicyFile) -> str:
    return f"policy file {policy.source}" if policy.source is not None else f"policy {policy.name!r}"


def _refuse(
    policy: PolicyFile,
    problems: Sequence[tuple[Loc, str]],
    place: Callable[[Loc], str],
    headline: str,
) -> None:
    """Raise one ``ConfigError`` naming every problem with its file and line; nothing if there is none."""
    if problems:
        raise ConfigError(
            f"{_what(policy)} {headline}:\n"
            + "\n".join(f"{place(loc)}: {'.'.join(str(p) for p in loc)}: {problem}" for loc, problem in problems)
        )  # fmt: skip


def _agent_meant(name: str, agents: Sequence[str]) -> str:
    """The closest agent to ``name``, or the agents there are."""
    if is_pattern(name):
        return f"handoffs name agents one by one, not patterns: list them ({_some(list(agents), 20)})"
    close = get_close_matches(name, list(agents), n=1)
    hint = f"did you mean {close[0]}?" if close else f"the team has {_some(list(agents), 20)}"
    if name.startswith("workflow_"):
        hint += " (a workflow is granted nothing itself: work routed to one passes to the agents of its first steps)"
    return hint


def _unknown(named: NamedArgument, takes: ToolArguments) -> str | None:
    """Why ``named`` is no argument of its tools, or ``None`` when one takes it (or cannot tell)."""
    known = [takes.get(tool) for tool in named.tools]
    arguments = [args for args in known if args is not None]
    if len(arguments) < len(known) or any(named.name in args for args in arguments):
        return None
    offered = sorted(set().union(*arguments))
    close = get_close_matches(named.name, offered, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{named.rule} names argument {named.name!r}, which {_takers(named.tools, offered)}{hint}"


def _takers(tools: Sequence[str], offered: Sequence[str]) -> str:
    """What the tools take instead, said for one tool or several."""
    taken = _some(offered, 20) or "no arguments"
    if len(tools) == 1:
        return f"{tools[0]} does not take: {tools[0]} takes {taken}"
    return f"none of {_some(tools, 5)} takes: they take {taken}"


def _some(names: Sequence[str], limit: int) -> str:
    """The first ``limit`` names, and how many more: a rule may list dozens of tools."""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _apart(rule: DenyRule, takes: ToolArguments) -> str | None:
    """Why a deny rule whose conditions each name some tool's argument can still never apply."""
    known = [takes.get(tool) for tool in matching_tools(rule.tools, takes)]
    arguments = [args for args in known if args is not None]
    wanted = set(rule.when)
    if len(wanted) < 2 or len(arguments) < len(known) or any(wanted <= args for args in arguments):
        return None
    if not all(any(name in args for args in arguments) for name in wanted):
        return None  # a name no tool takes is reported as such
    return (
        f"deny rule {rule.id!r} can never apply: its `when` conditions must hold in one call, and no tool among "
        f"{_some(rule.tools, 5)} takes all of {', '.join(sorted(wanted))}; split it into one rule per tool"
    )


def _positions(policy: PolicyFile) -> Callable[[Loc], str]:
    """``FILE:LINE`` of a place in the policy's file, for problems found after it was loaded."""
    root = read_tree(policy.source) if policy.source is not None else None

    def where(loc: Loc) -> str:
        if policy.source is None:
            return f"policy {policy.name!r}"
        return f"{policy.source}:{line_of(root, loc)}" if root is not None else str(policy.source)

    return where


def _key_positions(policy: PolicyFile) -> Callable[[Loc], str]:
    """``FILE:LINE`` of a place in the policy's file; for a mapping key (a grant's agent), the key's own line."""
    if policy.source is None:
        return _positions(policy)
    root = read_tree(policy.source)

    def where(loc: Loc) -> str:
        if root is None:
            return str(policy.source)
        parent = _node(root, loc[:-1])
        if isinstance(parent, yaml.MappingNode):
            for key, _ in parent.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(loc[-1]):
                    return f"{policy.source}:{key.start_mark.line + 1}"
        return f"{policy.source}:{line_of(root, loc)}"

    return where


def _node(root: yaml.Node, loc: Loc) -> yaml.Node | None:
    """The node at ``loc``, or ``None`` when a part names none."""
    node: yaml.Node | None = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return None
    return node
