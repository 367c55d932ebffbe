"""Untrusted text into documents: JSON and YAML from clients, read so that nothing in them can hurt
later. JSON must be UTF-8, nested at most MAX_DEPTH deep, with finite numbers, integers a double
can hold, and strings without NUL (PostgreSQL cannot store it) or lone surrogates (which cannot be
encoded). YAML may use aliases only within a small budget (no "billion laughs")."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Iterator, Mapping

import yaml

from hub.core.errors import FieldError, UnreadableInput

MAX_DEPTH = 32
MAX_INT = 2**53  # beyond this a JSON number is not exact in JavaScript, nor storable as BIGINT
MAX_ALIASES = 64
MAX_NODES = 100_000  # YAML nodes once aliases are expanded
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


class YamlTooLarge(yaml.YAMLError):
    """YAML whose aliases go over the budget; `problem` says which limit (as PyYAML errors do)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = None


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored and shown as it is, or None."""
    found = _BAD_CHARS.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (U+0000), which cannot be stored"
    return f"contains a lone surrogate (U+{ord(found.group()):04X}), which is not valid Unicode text"


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]" if parent != "$" else f"[{key}]"
    return key if parent == "$" else f"{parent}.{key}"


def _walk(doc: Any) -> Iterator[FieldError]:
    """Every value that would hurt, by field path; iterative, so depth cannot exhaust the stack."""
    stack: list[tuple[str, Any, int]] = [("$", doc, 0)]
    while stack:
        path, value, depth = stack.pop()
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                yield FieldError(path, "must be a finite number (NaN and Infinity are not numbers)")
        elif isinstance(value, int):
            if abs(value) > MAX_INT:
                yield FieldError(path, f"is too large (the limit is ±{MAX_INT})")
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                yield FieldError(path, problem)
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                yield FieldError(path, f"is nested too deeply (at most {MAX_DEPTH} levels)")
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                if isinstance(key, str) and text_problem(key):
                    yield FieldError(_path(path, "?"), f"a field name {text_problem(key)}")
                    continue
                stack.append((_path(path, key), child, depth + 1))


def problems(doc: Any) -> list[FieldError]:
    """What in a parsed document would hurt (see the module docstring), sorted by field."""
    return sorted(_walk(doc), key=lambda e: e.field)


def parse_json(raw: bytes) -> Any:
    """The JSON document in `raw`, or UnreadableInput saying why it cannot be read. Values that
    parse but would hurt are left to `problems` (a 422 naming each field)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableInput("the body is not UTF-8 text",
                              [FieldError("$", f"not UTF-8 at byte {exc.start}; send JSON as UTF-8")]) from None
    if text.startswith("\ufeff"):
        raise UnreadableInput("the body starts with a byte order mark",
                              [FieldError("$", "starts with a byte order mark; send UTF-8 without one")])
    try:
        return json.loads(text)
    except RecursionError:  # the C parser stops cleanly at the interpreter's recursion limit
        raise UnreadableInput("the body is nested too deeply",
                              [FieldError("$", f"nested more than {MAX_DEPTH} levels deep")]) from None
    except ValueError as exc:
        raise UnreadableInput("the body is not valid JSON", [FieldError("$", f"not valid JSON: {exc}")]) from None


def form_problems(form: Mapping[str, str]) -> list[FieldError]:
    """The same text rules for form fields (Open311 posts)."""
    found = []
    for key, value in form.items():
        problem = text_problem(key) or text_problem(value)
        if problem:
            found.append(FieldError(key if not text_problem(key) else "?", problem))
    return found


class _BudgetLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases as it composes, then the nodes they expand to."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:  # PyYAML's hook, called per node
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise YamlTooLarge(f"more than {MAX_ALIASES} aliases (*name); write the values out")
        return super().compose_node(parent, index)


def _expanded_size(node: yaml.Node) -> int:
    """Nodes once every alias is expanded; shared nodes counted each time they are used."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack = [node]
    seen: set[int] = set()
    while stack:  # post-order without recursion
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        order.append(n)
        if isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            stack.extend(x for pair in n.value for x in pair)
    for n in reversed(order):
        if isinstance(n, yaml.SequenceNode):
            children = n.value
        elif isinstance(n, yaml.MappingNode):
            children = [x for pair in n.value for x in pair]
        else:
            children = []
        sizes[id(n)] = min(1 + sum(sizes.get(id(c), 1) for c in children), MAX_NODES + 1)
    return sizes[id(node)]


def load_yaml(text: str) -> Any:
    """A YAML (or JSON) document; YamlTooLarge when aliases go over the budget."""
    loader = _BudgetLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            raise YamlTooLarge(f"aliases expand to more than {MAX_NODES} values; write the document out")
        return loader.construct_document(node)
    finally:
        loader.dispose()
