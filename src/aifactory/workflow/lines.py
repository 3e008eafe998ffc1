"""Finding the line of a workflow file that a problem is about, by scanning its TOML text.

`[[steps]]` is an array of tables, which `config.load.locate` does not count, so steps are found by
their position; inputs and outputs are plain tables and use it.
"""

from __future__ import annotations

import re

from aifactory.config.load import locate

_STEPS = re.compile(r"^\s*\[\[\s*steps\s*\]\]\s*(#.*)?$")
_HEADER = re.compile(r"^\s*\[")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def step_line(text: str, index: int, key: str | None = None) -> int | None:
    """The line of the `index`-th `[[steps]]` table (0-based), or of `key` inside it when set there."""
    lines = text.splitlines()
    headers = [number for number, line in enumerate(lines, start=1) if _STEPS.match(line)]
    if index >= len(headers):
        return None
    start = headers[index]
    if key is None:
        return start
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if _HEADER.match(line):
            break
        found = _KEY.match(line)
        if found and found.group(1) == key:
            return number
    return start


def table_line(text: str, *loc: str) -> int | None:
    """The line setting `loc` (`inputs`, `api`, `type`) or its nearest enclosing table."""
    return locate(text, loc)
