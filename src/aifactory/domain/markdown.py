"""The little Markdown knowledge the plan file needs: fences and headings.

Plan sections are delimited by `##` and `###` headings, so every text that goes inside a section
must not contain such a heading outside a code fence. The scanner is shared by the validators
(domain) and the plan file parser, so both agree on what a heading is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")


def headings(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield (line index, level, title) for every ATX heading outside code fences."""
    fence: str | None = None
    for index, line in enumerate(text.split("\n")):
        match = _FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip()[len(marker) :]:
                fence = None
            continue
        if fence is None:
            heading = _HEADING.match(line)
            if heading:
                yield index, len(heading.group(1)), heading.group(2)


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
