"""Text from the wire made safe for a terminal: one escaper for every tool's output."""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["HIDDEN", "bare", "escape"]

#: Unicode categories escaped: controls, format characters (bidi overrides), line and
#: paragraph separators, surrogates. Nothing from the input reaches a terminal raw.
HIDDEN: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _escaped(char: str) -> str:
    if unicodedata.category(char) not in HIDDEN:
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str) -> str:
    """`text` with every character that could act on a terminal (`HIDDEN`) written as an
    escape of fixed width, so it reads back one way: `\\u001b` (four hex digits) below
    U+10000, `\\U000e0041` (eight) above, as in Python and JSON source. Printable text, ASCII
    or not, is left as it is."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(map(_escaped, text))


def bare(message: str | None, category: str, requirement: str | None) -> str:
    """An error's message without the "category [ID]: " its text starts with (the tools
    show the category and the ID in their own fields)."""
    text = message or ""
    prefix = f"{category} [{requirement}]: " if requirement else f"{category}: "
    return text.removeprefix(prefix)
