"""Reading a unified diff the way a reviewer does: which lines were added, in which file, at which line.

The simulated verifiers judge the actual change shown in their prompt, so their findings point at
real lines of real code, not at answers written in advance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_DIFF_BLOCK = re.compile(r"```diff\n(.*?)\n```", re.DOTALL)


@dataclass(frozen=True)
class AddedLine:
    file: str
    line: int
    text: str


def diff_in(prompt: str) -> str:
    """The first fenced ```diff block of a prompt, or "" when there is none."""
    match = _DIFF_BLOCK.search(prompt)
    return match.group(1) if match else ""


def changed_files(diff: str) -> list[str]:
    return [line[6:] for line in diff.splitlines() if line.startswith("+++ b/")]


def added_lines(diff: str) -> Iterator[AddedLine]:
    """Every added line with its file and its line number in the new version of the file."""
    file = ""
    number = 0
    for line in diff.splitlines():
        if line.startswith("+++ "):
            file = line[6:] if line.startswith("+++ b/") else ""
            continue
        hunk = _HUNK.match(line)
        if hunk:
            number = int(hunk.group(1))
            continue
        if line.startswith("+") and file:
            yield AddedLine(file=file, line=number, text=line[1:])
            number += 1
        elif line.startswith(" "):
            number += 1
