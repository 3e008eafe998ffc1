"""The little Markdown knowledge the plan file needs: fences and headings.

Plan sections are delimited by `##` and `###` headings, so every text that goes inside a section
must not contain such a heading outside a code fence. The scanner is shared by the validators
(domain) and the plan file parser, so both agree on what a heading is. Headings follow CommonMark's
ATX rules (up to three spaces of indent, an optional closing run of `#`), so what the parser reads
is what a Markdown viewer shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_CLOSING = re.compile(r"[ \t]+#+$")


class Fence(NamedTuple):
    """A fenced code block: line indexes of its opening and closing lines (`end` None: never closed)."""

    start: int
    end: int | None
    marker: str


def fences(text: str) -> list[Fence]:
    """Every fenced code block of `text`, in order; an unclosed one, if any, is the last."""
    found: list[Fence] = []
    start, marker = 0, ""
    for index, line in enumerate(text.split("\n")):
        match = _FENCE.match(line)
        if match is None:
            continue
        run = match.group(1)
        if not marker:
            start, marker = index, run
        elif run[0] == marker[0] and len(run) >= len(marker) and not line.strip()[len(run) :]:
            found.append(Fence(start, index, marker))
            marker = ""
    if marker:
        found.append(Fence(start, None, marker))
    return found


def unclosed_fence(text: str) -> Fence | None:
    """The fence that runs to the end of `text`, swallowing whatever follows it in a larger file."""
    found = fences(text)
    return found[-1] if found and found[-1].end is None else None


def _title(content: str | None) -> str:
    content = content or ""
    if content.strip("#") == "":
        return ""
    return _CLOSING.sub("", content)


def headings(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield (line index, level, title) for every ATX heading outside code fences."""
    lines = text.split("\n")
    fenced: set[int] = set()
    for fence in fences(text):
        fenced.update(range(fence.start, len(lines) if fence.end is None else fence.end + 1))
    for index, line in enumerate(lines):
        heading = None if index in fenced else _HEADING.match(line)
        if heading:
            yield index, len(heading.group(1)), _title(heading.group(2))


def heading(level: int, title: str) -> str:
    """The heading line that reads back as `title`: a closing `#` protects a title ending in `#`s."""
    line = f"{'#' * level} {title}"
    match = _HEADING.match(line)
    if match is None or _title(match.group(2)) != title:
        line += " #"
    return line


def first_heading_at_or_above(text: str, level: int) -> tuple[int, str] | None:
    """The first heading of `level` or a higher rank (fewer #) outside fences, as (line index, title)."""
    for index, found, title in headings(text):
        if found <= level:
            return index, title
    return None


def fence_for(text: str) -> str:
    """A tilde fence longer than any tilde run that opens a line of `text`, so `text` fits inside."""
    longest = max((len(m.group(1)) for m in re.finditer(r"^ {0,3}(~{3,})", text, re.MULTILINE)), default=0)
    return "~" * max(4, longest + 1)
