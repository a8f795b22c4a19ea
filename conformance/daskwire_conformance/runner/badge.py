"""An SVG status badge of a conformance run, from the summary of its JSON report."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape

__all__ = ["GREEN", "GREY", "RED", "Badge", "badge_of", "render_svg"]

GREEN: Final = "#4c1"
RED: Final = "#e05d44"
GREY: Final = "#9f9f9f"
_LABEL_FILL: Final = "#555"
#: Approximate advance widths of Verdana at 11 px; the SVG's textLength makes them exact.
_NARROW: Final = frozenset("fijlrt.,:;|!'()[] ")
_WIDE: Final = frozenset("mwMW%@")
_PADDING: Final = 10
#: Characters XML 1.0 cannot hold, even escaped.
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: The longest label or message shown; longer ones are cut with an ellipsis.
MAX_TEXT: Final = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class Badge:
    """What a badge says: a grey label on the left, a coloured message on the right."""

    label: str
    message: str
    color: str


def badge_of(report: Mapping[str, Any], *, label: str | None = None) -> Badge:
    """The badge of a report that follows report.schema.json.

    Green with `passed/total` when the run passed (exit 0); red with the number of failed
    and errored vectors when it failed; grey when it is incomplete, which is never a pass.
    """
    summary = report["summary"]
    run = report["run"]
    profile = report["suite"].get("profile") or "placeholder-v1"
    label = f"daskwire {profile}" if label is None else label
    passed, total = summary["passed"], summary["total"]
    if not run["complete"] or summary["exit_code"] not in (0, 1):
        return Badge(label=label, message=f"incomplete {total}/{run['selected']}", color=GREY)
    if summary["exit_code"] == 0:
        xfailed = f", {summary['xfailed']} xfailed" if summary["xfailed"] else ""
        return Badge(label=label, message=f"{passed}/{total}{xfailed}", color=GREEN)
    failed = summary["failed"] + summary["errored"]
    what = f"{failed} failed" if failed else "baseline broken"
    return Badge(label=label, message=f"{passed}/{total}, {what}", color=RED)


def _clean(text: str) -> str:
    text = _NOT_XML.sub("\ufffd", " ".join(text.split()))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "\u2026"


def _width(text: str) -> int:
    return round(sum(4 if c in _NARROW else 10 if c in _WIDE else 7 for c in text)) + _PADDING


def _text(x: float, text: str, width: int) -> str:
    body = escape(text)
    length = (width - _PADDING) * 10
    common = f'x="{x * 10:.0f}" transform="scale(.1)" textLength="{length}"'
    return (
        f'<text aria-hidden="true" {common} y="150" fill="#010101" fill-opacity=".3">{body}</text>'
        f'<text {common} y="140">{body}</text>'
    )


def render_svg(badge: Badge) -> str:
    """The badge as a standalone SVG document; every text in it is escaped."""
    label, message = _clean(badge.label), _clean(badge.message)
    color = badge.color if re.fullmatch(r"#[0-9a-fA-F]{3,6}", badge.color) else GREY
    left, right = _width(label), _width(message)
    total = left + right
    title = escape(f"{label}: {message}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{escape(f"{label}: {message}", {chr(34): "&quot;"})}">'
        f"<title>{title}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="{_LABEL_FILL}"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{color}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110">'
        f"{_text(left / 2, label, left)}{_text(left + right / 2, message, right)}</g></svg>\n"
    )
