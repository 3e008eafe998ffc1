"""The runner seam: where attempts execute. Locally with asyncio now; on a cluster later."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

Job = TypeVar("Job")
Outcome = TypeVar("Outcome")


class Runner(Protocol):
    """Runs `work` on every job, at most as many at once as the runner allows; results in job order."""

    async def run_all(
        self, jobs: Sequence[Job], work: Callable[[Job], Awaitable[Outcome]]
    ) -> list[Outcome]: ...
