"""Concurrent writers of one lessons folder (runs, the user's commands) never lose each other's changes."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aifactory
from aifactory.blueprint.lessons import LessonBook
from tests.blueprint.lessons import lesson
from tests.blueprint.writers import rule_of, write

ROUNDS = 30
ROOT = Path(__file__).resolve().parents[2]


async def _processes(folder: Path, names: list[str]) -> list[asyncio.subprocess.Process]:
    """Start one writer process per name and wait until each is ready, so they all start together."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(aifactory.__file__).parents[1]), str(ROOT)])}
    children = [
        await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tests.blueprint.writers", str(folder), name, str(ROUNDS)),
            env=env,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for name in names
    ]
    for child in children:
        assert child.stdout is not None
        assert await child.stdout.readline() == b"ready\n"
    return children


async def test_tasks_and_processes_strengthening_and_adding_lessons_lose_nothing(tmp_path: Path) -> None:
    book = LessonBook(tmp_path / "lessons")
    book.save(lesson("shared", "Share nothing mutable between tasks."))
    processes, tasks = ["p1", "p2"], ["t1", "t2"]
    children = await _processes(book.directory, processes)
    for child in children:
        assert child.stdin is not None
        child.stdin.write(b"go\n")
        await child.stdin.drain()
    await asyncio.gather(*(write(book.directory, name, ROUNDS) for name in tasks))
    assert [await child.wait() for child in children] == [0, 0]

    shelf = book.load()
    assert not shelf.problems
    writers = processes + tasks
    shared = book.get("shared")
    assert shared.counters.flagged == len(writers) * ROUNDS
    assert sorted((s.run, s.attempt) for s in shared.seen) == sorted(
        (name, f"a{n}") for name in writers for n in range(ROUNDS)
    )
    added = [held for held in shelf.lessons if held.id != "shared"]
    assert len(added) == len(writers) * ROUNDS
    for number in range(ROUNDS):
        assert sum(1 for held in added if held.rule == rule_of(number)) == len(writers)
    assert sorted(p.name for p in book.directory.iterdir() if p.name.startswith(".")) == [".lock"]
