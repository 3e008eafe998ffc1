"""A writer of lessons, run as several tasks of the test's process and as other processes at once.

`python -m tests.blueprint.writers FOLDER NAME ROUNDS` says "ready", waits for a line on stdin, then
writes; every round strengthens the lesson `shared` and adds a lesson whose rule every writer also
adds, so ids collide and must be allocated under the lock.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from aifactory.blueprint.lessons import LessonBook, new_id
from aifactory.domain.lesson import Lesson, Sighting


def rule_of(round_number: int) -> str:
    return f"Keep every change, round {round_number}."


async def write(folder: Path, name: str, rounds: int) -> None:
    book = LessonBook(folder)
    for number in range(rounds):
        async with book.editing():
            shared = book.get("shared")
            await asyncio.sleep(0)
            sighting = Sighting(run=name, attempt=f"a{number}", finding="seen again", at=datetime.now(UTC))
            counters = shared.counters.model_copy(update={"flagged": shared.counters.flagged + 1})
            book.save(shared.model_copy(update={"counters": counters, "seen": (*shared.seen, sighting)}))
        async with book.editing():
            rule = rule_of(number)
            taken = book.ids()
            await asyncio.sleep(0)
            book.save(Lesson(id=new_id(rule, taken), rule=rule, created=datetime.now(UTC)))


if __name__ == "__main__":
    print("ready", flush=True)
    sys.stdin.readline()
    asyncio.run(write(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
