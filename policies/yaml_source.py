"""Validate a YAML file against a pydantic model, with errors at file and line.

An operations person editing a policy should read "retail.yaml:42: threshold:
Input should be a valid number", not a pydantic location tuple. YAML's
composed node tree keeps the position of every value, so each error's
location is walked down that tree to the nearest node that exists.

A key given twice in one mapping is refused before anything is validated:
YAML's reader keeps the last value silently, so a reviewer reading
``threshold: 500`` in a diff could be overruled by a second ``threshold``
further down the same rule.

Numbers are read as YAML 1.2 reads them: YAML 1.1 (what PyYAML implements)
takes a plain ``4:00`` for the base-60 integer 240, so ``timeout: 4:00`` in
an escalation path meant four minutes, silently. Here ``4:00`` stays the text
"4:00", and the field that receives it says whether it means anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from switchboard.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


class _Yaml12Numbers:
    """The resolver change both readers share: never an int or float for text with a colon."""

    DEFAULT_SCALAR_TAG: str

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """The tag of a node with no explicit tag; never int or float for text with a colon."""
        tag: str = super().resolve(kind, value, implicit)  # type: ignore[misc]
        if tag in _NUMBER_TAGS and isinstance(value, str) and ":" in value:
            return self.DEFAULT_SCALAR_TAG
        return tag


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_Yaml12Numbers, _SafeLoader):  # type: ignore[valid-type,misc]
    """A safe loader without YAML 1.1's base-60 numbers: a plain ``4:00`` is the text "4:00".

    No other int or float form contains a colon, so a number resolved from
    text with one is always base 60; it is read as a string instead, as YAML
    1.2 does. An explicit ``!!int 4:00`` is still a number: whoever writes a
    tag means it. Built on libyaml's ``CSafeLoader`` where PyYAML has it
    (about a tenth of the pure-Python reader's time on the retail team),
    else on ``SafeLoader``: the resolver above runs in Python in both.
    """


def load_yaml(text: str) -> Any:
    """Read YAML text as every Switchboard file is read: team, workflow, policy, principals, monitoring, prices.

    See :class:`StrictLoader`.

    Raises:
        yaml.YAMLError: The text is not YAML.
    """
    return yaml.load(text, Loader=StrictLoader)  # a SafeLoader: constructs plain data only


def validate_yaml(model: type[M], file: Path, *, kind: str, extra: Mapping[str, Any] | None = None) -> M:
    """Read ``file`` and validate it as ``model``.

    Args:
        model: The pydantic model of the whole file.
        file: The YAML file.
        kind: What the file is, for messages ("policy file").
        extra: Fields added to the file's mapping before validation (its source path).

    Raises:
        ConfigError: The file is unreadable, not YAML, gives a key twice in
            one mapping, is not a mapping, or is invalid; each problem is
            given as ``FILE:LINE: field: message``.
    """
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {kind} {file}: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=StrictLoader)
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{kind} {file} is not valid YAML:\n{file}:{line}: {problem}") from exc
    _refuse_duplicate_keys(root, file, kind)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}:1: a {kind} must hold a mapping of fields")
    try:
        return model.model_validate({**data, **(extra or {})})
    except ValidationError as exc:
        problems = [
            f"{file}:{line_of(root, err['loc'])}: {'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigError(f"{kind} {file} is invalid:\n" + "\n".join(problems)) from exc


def refuse_duplicate_keys(text: str, file: Path, kind: str) -> None:
    """Refuse YAML text (already read by :func:`load_yaml`) that gives a key twice in one mapping.

    For the files that are not validated here (team and workflow files):
    the same check, with keys compared as :func:`load_yaml` reads them.

    Raises:
        ConfigError: Naming each duplicated key by its path, with both lines.
    """
    try:
        root = yaml.compose(text, Loader=StrictLoader)
    except yaml.YAMLError:  # its reader has loaded it already; a composer that disagrees is no reason to refuse
        return
    _refuse_duplicate_keys(root, file, kind)


def _refuse_duplicate_keys(root: yaml.Node | None, file: Path, kind: str) -> None:
    """Refuse a file where one mapping gives the same key twice.

    Raises:
        ConfigError: Naming each duplicated key by its path, with both lines.
    """
    problems = [
        f"{file}:{second}: {'.'.join(str(p) for p in loc)}: given twice, {_lines(first, second)}; "
        "YAML would silently keep only the last value: delete one of the two"
        for loc, first, second in duplicate_keys(root)
    ]
    if problems:
        raise ConfigError(f"{kind} {file} gives a key twice in the same mapping:\n" + "\n".join(problems))


def _lines(first: int, second: int) -> str:
    return f"both on line {first}" if first == second else f"on lines {first} and {second}"


def duplicate_keys(root: yaml.Node | None) -> list[tuple[tuple[int | str, ...], int, int]]:
    """Every key given twice in one mapping of the tree: its path, and the 1-based lines of both.

    Keys are compared by the value YAML reads (``1`` and ``0x1`` are the same
    key). A key brought in by a merge (``<<: *base``) and then given again is
    YAML's way to override, not a duplicate, so merged keys are not counted.
    A node shared through an alias is looked at once.
    """
    found: list[tuple[tuple[int | str, ...], int, int]] = []
    seen: set[int] = set()
    reader = yaml.SafeLoader("")
    pending: list[tuple[yaml.Node, tuple[int | str, ...]]] = [(root, ())] if root is not None else []
    while pending:  # depth first in file order, so a shared node is named where its anchor is
        node, loc = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node, tuple[int | str, ...]]] = []
        if isinstance(node, yaml.SequenceNode):
            children = [(child, (*loc, index)) for index, child in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            found.extend(_repeated(reader, node, loc))
            children = [(value, (*loc, key.value)) for key, value in node.value if isinstance(key, yaml.ScalarNode)]
        pending.extend(reversed(children))
    return sorted(found, key=lambda hit: hit[2])


def _repeated(
    reader: yaml.SafeLoader, node: yaml.MappingNode, loc: tuple[int | str, ...]
) -> list[tuple[tuple[int | str, ...], int, int]]:
    """The keys of one mapping given a second time, with the line of the first."""
    first: dict[object, int] = {}
    repeated = []
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        try:
            value: object = reader.construct_object(key, deep=True)
            hash(value)
        except (yaml.YAMLError, TypeError):
            value = (key.tag, key.value)  # not readable as a key: YAML will say so when loading
        line = key.start_mark.line + 1
        if value in first:
            repeated.append(((*loc, key.value), first[value], line))
        else:
            first[value] = line
    return repeated


def read_tree(file: Path) -> yaml.Node | None:
    """The composed node tree of a file already loaded, to give lines in later messages.

    ``None`` when it can no longer be read: the message then names the file
    without a line.
    """
    try:
        return yaml.compose(file.read_text(encoding="utf-8"), Loader=StrictLoader)
    except (OSError, yaml.YAMLError):
        return None


def line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int:
    """The 1-based line of the deepest node of ``loc`` present in the tree.

    Parts that name no node (a union's tag, a missing field) are skipped, so
    a missing field points at the mapping that lacks it.
    """
    if root is None:
        return 1
    node: yaml.Node = root
    for part in loc:
        child = _child(node, part)
        if child is not None:
            node = child
    return node.start_mark.line + 1


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None
