"""Attempts as asyncio tasks in this process: model calls are I/O, commands are subprocesses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

Job = TypeVar("Job")
Outcome = TypeVar("Outcome")


class LocalRunner:
    """Runs up to `max_parallel` jobs at once; cancelling the caller cancels every job."""

    def __init__(self, max_parallel: int) -> None:
        self._max_parallel = max_parallel

    async def run_all(self, jobs: Sequence[Job], work: Callable[[Job], Awaitable[Outcome]]) -> list[Outcome]:
        slots = asyncio.Semaphore(self._max_parallel)

        async def one(job: Job) -> Outcome:
            async with slots:
                return await work(job)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(job)) for job in jobs]
        return [task.result() for task in tasks]
