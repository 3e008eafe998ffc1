"""An agent CLI's stdout read line by line as it arrives, and its exit awaited with a grace.

Every agent CLI prints one JSON event per line; these helpers are shared so each agent module only
judges its own events. A line is never held whole past `MAX_LINE`: a tool result holding a huge file
is skipped, since nothing the factory needs is in it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any

MAX_LINE = 8 << 20
"""A longer line is skipped rather than held in memory."""
EXIT_GRACE_S = 10.0
"""How long a CLI may take to exit after printing its last event before its group is killed."""


async def lines(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """Lines of `reader` as they arrive, each at most `MAX_LINE` bytes (longer ones are skipped)."""
    pending = bytearray()
    skipping = False
    while chunk := await reader.read(65_536):
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            if not skipping:
                pending += chunk[start:end]
                yield bytes(pending)
            pending.clear()
            skipping = False
            start = end + 1
        if not skipping:
            pending += chunk[start:]
        if len(pending) > MAX_LINE:
            pending.clear()
            skipping = True
    if pending and not skipping:
        yield bytes(pending)


async def exit_code(exited: Coroutine[Any, Any, int]) -> int | None:
    """The CLI's exit code, or None when it lingers past `EXIT_GRACE_S` after its last event."""
    try:
        async with asyncio.timeout(EXIT_GRACE_S):
            return await exited
    except TimeoutError:
        return None
