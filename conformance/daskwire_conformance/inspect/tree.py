"""A message as an indented tree in the spec's value notation, offloaded values in one line."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from daskwire.model import EnumValue, Materialized, Offloaded, Pickled, SetValue
from daskwire.notation import frame_to_notation, to_notation

from daskwire_conformance.common.text import escape
from daskwire_conformance.common.words import counted

__all__ = [
    "BIN_BYTES",
    "INLINE_CHARS",
    "ITEMS",
    "SHOWN_JSON_DEPTH",
    "STR_CHARS",
    "compact",
    "nesting",
    "safe",
    "scalar_text",
    "shown_notation",
    "tree_lines",
]

#: Characters of a str, and bytes of a bin, shown before the rest is cut (`--full` shows all).
STR_CHARS: Final = 120
BIN_BYTES: Final = 32
#: Entries of a map, elements of an array or set, shown before the rest is cut.
ITEMS: Final = 50
#: A map or array whose notation fits in this many characters is written on one line.
INLINE_CHARS: Final = 72
_WIRE: Final = (Offloaded, Materialized, Pickled)

#: describe(node) -> the one-line summary of an offloaded or pickled value, and the lines
#: to show under it (a pickle's disassembly).
Describe = Callable[[Any], tuple[str, list[str]]]


@dataclass(frozen=True, slots=True)
class _More:
    """Stands in the walk for the items of a container that are not shown."""

    text: str


def safe(text: str) -> str:
    """`text` with every character that could act on a terminal written as an escape
    (`common.text.escape`, shared by every tool)."""
    return escape(text)


def _json(node: Any) -> str:
    return json.dumps(node, ensure_ascii=False)


def _is_str(value: Any) -> bool:
    return type(value) is str


def scalar_text(value: Any, full: bool) -> str | None:
    """The notation of a value that is not a container, cut when long; None for a container."""
    if _is_str(value):
        if full or len(value) <= STR_CHARS:
            return _json(to_notation(value))
        head = _json(to_notation(value[:STR_CHARS]))
        return f"{head}... (str of {counted(len(value), 'character')}; --full shows it)"
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value) if full else bytes(value[:BIN_BYTES])
        text = _json({"bin": data.hex()})
        if full or len(value) <= BIN_BYTES:
            return text
        return f"{text}... (bin of {counted(len(value), 'byte')}; --full shows it)"
    if isinstance(value, Mapping | list | tuple | SetValue | Offloaded | Materialized | Pickled):
        return None
    if isinstance(value, EnumValue):
        return _json(to_notation(value))
    try:
        return _json(to_notation(value))
    except ValueError:
        return f"(a {type(value).__name__} with no notation)"


def compact(value: Any, budget: int = INLINE_CHARS) -> str | None:
    """The one-line notation of `value` when it fits `budget` characters and holds no
    offloaded value; else None. The work done is bounded by `budget`."""
    if budget < 2 or isinstance(value, _WIRE):  # nothing fits in fewer than two characters
        return None
    if isinstance(value, Mapping):
        parts = []
        used = 10
        for key, item in value.items():
            k = compact(key, budget - used)
            v = compact(item, budget - used) if k is not None else None
            if k is None or v is None:
                return None
            parts.append(f"[{k}, {v}]")
            used += len(k) + len(v) + 6
            if used > budget:
                return None
        return '{"map": [' + ", ".join(parts) + "]}"
    if isinstance(value, list | tuple | SetValue):
        items = value.items if isinstance(value, SetValue) else value
        parts = []
        used = 2 if not isinstance(value, SetValue) else 11
        for item in items:
            v = compact(item, budget - used)
            if v is None:
                return None
            parts.append(v)
            used += len(v) + 2
            if used > budget:
                return None
        joined = "[" + ", ".join(parts) + "]"
        return '{"set": ' + joined + "}" if isinstance(value, SetValue) else joined
    if _is_str(value) and len(value) > budget:
        return None
    if isinstance(value, bytes | bytearray | memoryview) and 2 * len(value) > budget:
        return None
    text = scalar_text(value, full=True)
    return text if text is not None and len(text) <= budget else None


def _container(value: Any, limit: int | None) -> tuple[str, list[tuple[str, Any]], int]:
    """A container's head line, its first `limit` children (all for None) as (label, value)
    pairs, and how many children it has."""
    if isinstance(value, Mapping):
        children = []
        for key, item in itertools.islice(value.items(), limit):
            label = compact(key, STR_CHARS) or f"(a key: {scalar_text(key, False) or 'array'})"
            children.append((label, item))
        return f"map, {counted(len(value), 'entry', 'entries')}", children, len(value)
    items = value.items if isinstance(value, SetValue) else value
    kind = "set" if isinstance(value, SetValue) else "array"
    shown = [(f"[{i}]", v) for i, v in enumerate(itertools.islice(items, limit))]
    return f"{kind}, {counted(len(items), 'element')}", shown, len(items)


def tree_lines(value: Any, describe: Describe, *, full: bool, indent: str = "  ") -> list[str]:
    """The message as lines: containers as a head line with their children indented under
    it, short containers and scalars in notation, offloaded values as `describe` says. The
    walk keeps its own stack, so any depth the limits allow is fine."""
    lines: list[str] = []
    stack: list[tuple[int, str, Any]] = [(0, "", value)]
    while stack:
        depth, label, node = stack.pop()
        pad = indent * (depth + 1)
        prefix = f"{label}: " if label else ""
        if isinstance(node, _More):
            lines.append(f"{pad}{node.text}")
            continue
        if isinstance(node, _WIRE):
            head, more = describe(node)
            lines.append(f"{pad}{prefix}{head}")
            lines.extend(f"{pad}{indent}{line}" for line in more)
            continue
        text = scalar_text(node, full)
        if text is None:
            text = compact(node)
        if text is not None:
            lines.append(f"{pad}{prefix}{text}")
            continue
        head, shown, total = _container(node, None if full else ITEMS)
        lines.append(f"{pad}{prefix}{head}")
        pending: list[tuple[int, str, Any]] = [(depth + 1, k, v) for k, v in shown]
        if len(shown) < total:
            rest = total - len(shown)
            note = f"... {counted(rest, 'more item')} (--full shows them)"
            pending.append((depth + 1, "", _More(note)))
        stack.extend(reversed(pending))
    return lines


#: The deepest JSON nesting `shown_notation` writes: a value nested deeper (the limits allow
#: up to 1024 levels, LM-4) is cut there to `{"cut": {"levels": n}}`, n the levels of
#: nesting not shown, so that writing the record as JSON never runs out of stack.
SHOWN_JSON_DEPTH: Final = 400
_TAGS: Final = {Offloaded: "offloaded", Materialized: "materialized", Pickled: "pickled"}


def _is_container(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple | SetValue | Offloaded | Materialized | Pickled)


def _children(value: Any) -> list[Any]:
    """The values directly inside a container (keys and values of a map)."""
    if isinstance(value, Mapping):
        return [x for pair in value.items() for x in pair]
    if isinstance(value, SetValue):
        return list(value.items)
    if isinstance(value, _WIRE):
        return [value.header]
    return list(value)


def nesting(value: Any) -> int:
    """How many levels of containers `value` is: 0 for a scalar (walked without recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if _is_container(node):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in _children(node))
    return deepest


def _shown_scalar(value: Any, full: bool) -> Any:
    """The notation of a value that is not a container, long str and bin cut unless `full`."""
    if not full:
        if _is_str(value) and len(value) > STR_CHARS:
            return {"cut": {"str": to_notation(value[:STR_CHARS]), "length": len(value)}}
        if isinstance(value, bytes | bytearray | memoryview) and len(value) > BIN_BYTES:
            return {"cut": {"bin": bytes(value[:BIN_BYTES]).hex(), "length": len(value)}}
    return to_notation(value)


def shown_notation(value: Any, full: bool, max_depth: int = SHOWN_JSON_DEPTH) -> Any:
    """The notation of `value` for `--json`: exact with `full`; otherwise long str and bin
    are `{"cut": ...}` and each offloaded value's frames are `{"length": n}`. Built without
    recursion; a container deeper than `max_depth` levels of JSON is `{"cut": {"levels": n}}`
    (n: its levels of nesting), with or without `full`."""
    root: list[Any] = [None]
    # (value, the list or dict its notation goes into, at which index or key, JSON depth)
    stack: list[tuple[Any, Any, Any, int]] = [(value, root, 0, 0)]
    while stack:
        node, into, at, depth = stack.pop()
        if not _is_container(node):
            into[at] = _shown_scalar(node, full)
        elif depth >= max_depth:
            into[at] = {"cut": {"levels": nesting(node)}}
        elif isinstance(node, Mapping):
            pairs = [[None, None] for _ in range(len(node))]
            into[at] = {"map": pairs}
            for pair, (k, v) in zip(pairs, node.items(), strict=True):
                stack.append((k, pair, 0, depth + 3))
                stack.append((v, pair, 1, depth + 3))
        elif isinstance(node, SetValue):
            items = [None] * len(node.items)
            into[at] = {"set": items}
            stack.extend((v, items, i, depth + 2) for i, v in enumerate(node.items))
        elif isinstance(node, _WIRE):
            frames = [
                frame_to_notation(f) if full else {"length": len(memoryview(f).cast("B"))}
                for f in node.frames
            ]
            record: dict[str, Any] = {"header": None, "frames": frames}
            into[at] = {_TAGS[type(node)]: record}
            stack.append((node.header, record, "header", depth + 2))
        else:
            items = [None] * len(node)
            into[at] = items
            stack.extend((v, items, i, depth + 1) for i, v in enumerate(node))
    return root[0]
