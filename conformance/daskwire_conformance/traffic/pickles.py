"""What a pickle would import and do, read with `pickletools.genops` only: it is never loaded."""

from __future__ import annotations

import pickletools
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "COMPUTED",
    "MAX_GLOBALS",
    "MAX_OPCODES",
    "MAX_SHOWN",
    "MAX_STACK",
    "PickleSketch",
    "sketch",
]

#: Opcodes read at most; a longer pickle is reported as read only this far.
MAX_OPCODES: Final = 100_000
#: Opcodes listed in a disassembly at most.
MAX_SHOWN: Final = 40
#: Distinct global names kept at most.
MAX_GLOBALS: Final = 32
#: Characters of an opcode's argument shown in a disassembly line.
ARG_CHARS: Final = 48
#: Opcodes that push a str which STACK_GLOBAL may take as a module or a name.
_STRING_OPS: Final = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING"}
)
#: Opcodes that copy the top of the stack into the memo, and that push a memo entry.
_PUT_OPS: Final = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GET_OPS: Final = frozenset({"GET", "BINGET", "LONG_BINGET"})
#: Stack entries the sketch follows at most; a deeper stack's bottom is forgotten.
MAX_STACK: Final = 10_000
#: What the globals list says for a STACK_GLOBAL whose operands are not both known strings.
COMPUTED: Final = "(a global whose name is computed)"


class _Mark:
    """The MARK opcode's entry on the sketch's stack."""


_MARK: Final = _Mark()


@dataclass(frozen=True, slots=True, kw_only=True)
class PickleSketch:
    """A pickle as seen without loading it: its size, the globals it names, a short listing."""

    size: int
    protocol: int | None
    #: The `module.name` of each global it would import, in order of first use.
    globals: tuple[str, ...]
    #: `offset: OPCODE arg` lines, at most `MAX_SHOWN` of them.
    listing: tuple[str, ...]
    #: How many opcodes were read, and whether that was all of them.
    opcodes: int
    complete: bool
    #: Why the disassembly stopped early, if it did: not a pickle, or cut short.
    problem: str | None = None

    @property
    def first_global(self) -> str | None:
        """The first global it names, the one a user most often wants."""
        return self.globals[0] if self.globals else None


def _arg_text(arg: Any) -> str:
    if arg is None:
        return ""
    if isinstance(arg, bytes | bytearray):
        text = bytes(arg[:ARG_CHARS]).hex()
        return f"<{len(arg)} bytes> {text}" + ("..." if len(arg) > ARG_CHARS else "")
    text = repr(arg)
    return text if len(text) <= ARG_CHARS else text[: ARG_CHARS - 3] + "..."


class _Stack:
    """What the pickle's stack holds, as far as the sketch can tell: each entry a str the
    pickle pushed, `_MARK`, or None for any other value (or one the sketch lost track of)."""

    def __init__(self) -> None:
        self.items: list[str | _Mark | None] = []
        self.memo: dict[int, str | _Mark | None] = {}

    def push(self, item: str | _Mark | None) -> None:
        self.items.append(item)
        if len(self.items) > MAX_STACK:
            del self.items[: len(self.items) - MAX_STACK]

    def pop(self) -> str | _Mark | None:
        return self.items.pop() if self.items else None

    def pop_mark(self) -> None:
        while self.items and self.items.pop() is not _MARK:
            pass

    def top(self) -> str | _Mark | None:
        return self.items[-1] if self.items else None

    def memoize(self, key: int) -> None:
        if len(self.memo) < MAX_OPCODES or key in self.memo:
            self.memo[key] = self.top()

    def step(self, opcode: pickletools.OpcodeInfo, arg: Any) -> str | None:
        """Apply one opcode; the global it names, `COMPUTED`, or None."""
        name = opcode.name
        found: str | None = None
        if name in _STRING_OPS:
            self.push(arg if isinstance(arg, str) else None)
        elif name == "MEMOIZE":
            self.memoize(len(self.memo))
        elif name in _PUT_OPS and isinstance(arg, int):
            self.memoize(arg)
        elif name in _GET_OPS:
            self.push(self.memo.get(arg) if isinstance(arg, int) else None)
        elif name == "DUP":
            self.push(self.top())
        elif name == "MARK":
            self.push(_MARK)
        elif name == "POP":
            self.pop()
        elif name == "POP_MARK":
            self.pop_mark()
        elif name == "STACK_GLOBAL":
            qualname, module = self.pop(), self.pop()
            if isinstance(module, str) and isinstance(qualname, str):
                found = f"{module}.{qualname}"
            else:
                found = COMPUTED
            self.push(None)
        else:
            if name in ("GLOBAL", "INST") and isinstance(arg, str):
                found = arg.replace(" ", ".", 1)
            before = opcode.stack_before
            if pickletools.markobject in before:
                self.pop_mark()
                before = before[: before.index(pickletools.markobject)]
            for _ in before:
                self.pop()
            for _ in opcode.stack_after:
                self.push(None)
        return found


def sketch(data: bytes, total: int | None = None, *, first_only: bool = False) -> PickleSketch:
    """Disassemble `data` with `pickletools.genops` (never loading it), in bounded time and
    output: the globals it names (GLOBAL, INST, and STACK_GLOBAL, whose operands are followed
    on a sketch of the stack through the memo, POP, DUP and MARK; when they are not both
    known strings, `COMPUTED` says so), and the first `MAX_SHOWN` opcodes. `total` is the
    pickle's length when `data` holds only its start. With `first_only` the reading stops at
    the first global (the one a one-line summary names), as incomplete."""
    names: list[str] = []
    listing: list[str] = []
    stack = _Stack()
    protocol: int | None = None
    count = 0
    problem: str | None = None
    complete = False
    cut = total is not None and total > len(data)
    try:
        for opcode, arg, pos in pickletools.genops(data):
            name = opcode.name
            count += 1
            if len(listing) < MAX_SHOWN:
                where = pos if pos is not None else -1
                listing.append(f"{where:6d}: {name} {_arg_text(arg)}".rstrip())
            if name == "PROTO" and isinstance(arg, int):
                protocol = arg
            found = stack.step(opcode, arg)
            if found is not None and found not in names and len(names) < MAX_GLOBALS:
                names.append(found)
                if first_only:
                    problem = "read up to its first global"
                    break
            if name == "STOP":
                complete = True
                break
            if count >= MAX_OPCODES:
                problem = f"read stopped after {MAX_OPCODES} opcodes"
                break
    except Exception as exc:
        if cut:
            problem = f"only the first {len(data)} of its {total} bytes read"
        else:
            problem = f"not a valid pickle past here: {exc}"[:200]
    if not complete and problem is None:
        problem = (
            f"only the first {len(data)} of its {total} bytes read"
            if cut
            else "the pickle ends without STOP"
        )
    return PickleSketch(
        size=total if cut and total is not None else len(data),
        protocol=protocol,
        globals=tuple(names),
        listing=tuple(listing),
        opcodes=count,
        complete=complete,
        problem=problem,
    )
