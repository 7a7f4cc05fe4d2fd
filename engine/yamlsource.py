"""Safe YAML loading that remembers where every mapping came from (file and line).

Only plain YAML is accepted (no Python tags). Booleans follow YAML 1.2, as editors do: only
``true`` / ``false`` are booleans, so keys and values such as ``on``, ``yes`` or ``off`` stay text.
Duplicate keys are an error, not a silent overwrite."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import RuleError


class LocatedDict(dict):
    """A mapping read from YAML, with the file and 1-based line it starts on."""

    __slots__ = ("file", "line", "key_lines")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.file: str | None = None
        self.line: int | None = None
        self.key_lines: dict[str, int] = {}


class LocatedList(list):
    """A sequence read from YAML, with the file and 1-based line it starts on."""

    __slots__ = ("file", "line")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.file: str | None = None
        self.line: int | None = None


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when installed: same nodes, faster
    pass


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    merged = len(node.value) - own  # YAML merge keys (<<) put the merged pairs first
    result = LocatedDict()
    result.file = loader.source_name
    result.line = node.start_mark.line + 1
    own_keys: set[str] = set()
    for position, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if position >= merged:
            if key in own_keys:
                raise RuleError(f"duplicate key {key!r}", file=loader.source_name,
                                line=key_node.start_mark.line + 1)
            own_keys.add(key)
            result.pop(key, None)  # a key given here overrides a merged one and takes its own place
        elif key in result:
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.file = loader.source_name
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def load_yaml_text(text: str, source_name: str = "<string>") -> Any:
    """Parse YAML text; a syntax error names the source, line and column, and shows that line with a
    caret under the column."""
    if len(text) > MAX_YAML_CHARACTERS:
        raise RuleError(f"a YAML file of more than {MAX_YAML_CHARACTERS} characters is not read", file=source_name)
    loader = _Loader(text)
    loader.source_name = source_name
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, source_name)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, source_name) from None
    except yaml.YAMLError as exc:
        raise RuleError(f"invalid YAML: {exc}", file=source_name) from None
    finally:
        loader.dispose()


# Bounds on one YAML document: its text, and the values its aliases (``*name``) expand to, so that
# a small hostile file (nested aliases: "billion laughs") cannot take the time and memory of a load.
MAX_YAML_CHARACTERS = 16 * 1024 * 1024
MAX_YAML_VALUES = 200_000


def _check_expansion(root: yaml.Node, source_name: str) -> None:
    """Refuse a document whose values, each alias counted as a copy of what it names, are more than
    ``MAX_YAML_VALUES``, or whose alias is inside what it names; at the line of the first value
    that alone is too big. Counted without recursion, each distinct node once."""
    sizes: dict[int, int] = {}
    pending: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while pending:
        node, children_done = pending.pop()
        key = id(node)
        if children_done:
            if isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            else:
                children = node.value
            size = 1 + sum(sizes[id(child)] for child in children)
            open_nodes.discard(key)
            if size > MAX_YAML_VALUES:
                raise RuleError(f"this value expands (through aliases) to more than {MAX_YAML_VALUES} values",
                                file=source_name, line=node.start_mark.line + 1)
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise RuleError("an alias refers to a value that contains it", file=source_name,
                            line=node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        open_nodes.add(key)
        pending.append((node, True))
        children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) \
            else node.value
        pending.extend((child, False) for child in children)


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, source_name: str) -> RuleError:
    """A YAML error where the parser found the problem, with what it was reading when it did
    (``while parsing a flow mapping ... started at``)."""
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return RuleError(f"invalid YAML: {exc}", file=source_name)
    message = f"invalid YAML: {exc.problem or exc.context or exc}"
    context = exc.context_mark
    if exc.problem and exc.context and context is not None and context is not mark:
        message += f" ({exc.context}, which starts at line {context.line + 1}, column {context.column + 1})"
    return RuleError(message + _excerpt(text, mark.line, mark.column), file=source_name, line=mark.line + 1,
                     column=mark.column + 1)


def _excerpt(text: str, line: int, column: int) -> str:
    """Line ``line`` (0-based) of ``text`` and a caret under ``column``, each on its own indented
    line; nothing past the end of the text."""
    lines = text.splitlines()
    if line >= len(lines):
        return ""
    shown = lines[line]
    caret = "".join(c if c == "\t" else " " for c in shown[:column]) + "^"
    return f"\n    {shown}\n    {caret}"


def load_yaml_file(path: Path) -> Any:
    """Parse a YAML file; errors name the file and line."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RuleError(f"cannot read: {exc.strerror}", file=str(path)) from None
    text, line, reason = decode_utf8(data)
    if text is None:
        raise RuleError(reason, file=str(path), line=line)
    return load_yaml_text(text, str(path))


def decode_utf8(data: bytes) -> tuple[str | None, int | None, str]:
    """``data`` as UTF-8 text (a byte order mark at the start is dropped), or (None, the 1-based
    line of the first byte that is not UTF-8, why)."""
    try:
        return data.decode("utf-8-sig"), None, ""
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
        reason = (f"not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line})"
                  + ("; this looks like UTF-16: save it as UTF-8" if utf16 else ": save it as UTF-8"))
        return None, line, reason


def plain(value: Any) -> Any:
    """The same data as plain dicts and lists (located containers are for error messages only)."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def line_of(document: Any, path: list) -> int | None:
    """The line of the deepest located node on ``path`` (a list of keys and indexes) in a document."""
    line = getattr(document, "line", None)
    node = document
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(node, "line", None) or line
    return line
