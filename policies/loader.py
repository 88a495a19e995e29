"""Reading policy files from disk."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from difflib import get_close_matches
from pathlib import Path

from switchboard.errors import ConfigError
from switchboard.policies.constraints import Loc, NamedArgument
from switchboard.policies.model import DenyRule, PolicyFile
from switchboard.policies.principals import Registry, expand_path, load_registry
from switchboard.policies.yaml_source import line_of, read_tree, validate_yaml

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
    problems = [(named.loc, problem) for named in policy.named_arguments() if (problem := _unknown(named, takes))]
    problems += [
        (("deny", i, "when"), problem) for i, rule in enumerate(policy.deny) if (problem := _apart(rule, takes))
    ]
    if not problems:
        return
    where = _positions(policy)
    what = f"policy file {policy.source}" if policy.source is not None else f"policy {policy.name!r}"
    raise ConfigError(
        f"{what} names tool arguments its rules' tools do not take, so those rules would not work as "
        "written (a deny would let the call through); fix the names:\n"
        + "\n".join(f"{where(loc)}: {'.'.join(str(p) for p in loc)}: {problem}" for loc, problem in problems)
    )


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
    if not problems:
        return
    where = _positions(policy)
    what = f"policy file {policy.source}" if policy.source is not None else f"policy {policy.name!r}"
    raise ConfigError(
        f"{what}: a tool taking an argument its data scopes name must be under scopes.tools (checked) or, "
        "deliberately, scopes.unscoped (not checked): the scopes let every other call through, on anyone's "
        "records; fix it:\n"
        + "\n".join(f"{where(loc)}: {'.'.join(str(p) for p in loc)}: {problem}" for loc, problem in problems)
    )


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
    known = [takes.get(tool) for tool in rule.tools]
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
