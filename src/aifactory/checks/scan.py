"""Scanning: every lesson check of a set run over one source, fast, with sorted hits.

    scan(checks, source) ─▶ compile (validate rules; group ast-grep rules by language)
                         ├▶ source.files(wanted) ─▶ batches ─▶ worker processes ─▶ hits
                         └▶ source.checkout() ─▶ command checks, one after another ─▶ hits

ast-grep and regex checks read files; they run in a pool of processes (`workers=0`: one per core)
fed batches as the source streams them, at most two batches per worker in flight, so a tree of any
size costs a few batches of memory. Fewer than `IN_PROCESS_FILES` files are scanned in a thread
instead: starting processes would cost more than the work. Commands run at the same time as the
files are scanned. `LessonChecks` puts a scan behind the `Check` seam, on an attempt's diff.

Workers come from a multiprocessing fork server, and each worker runs the calling program's main
module: a script that calls `scan` must keep its work under `if __name__ == "__main__":` and its
module-level imports light (`aifactory.__main__` defers the CLI's for that reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from aifactory.checks import ast_grep, regex
from aifactory.checks.base import CheckTarget, FileChecks, SourceFile
from aifactory.checks.command import run_lesson_command
from aifactory.checks.hits import SOURCE, Hit, verdict
from aifactory.checks.sources import DiffSource, Source
from aifactory.checks.worker import install, scan_batch, scan_files
from aifactory.domain.lesson import AstGrepSpec, CheckSpec, CommandSpec, RegexSpec
from aifactory.domain.verdict import Verdict

IN_PROCESS_FILES = 50
BATCH_FILES = 32
BATCH_BYTES = 4 << 20
"""A batch ends at this many files or bytes of carried content, whichever comes first."""


@dataclass(frozen=True)
class CompiledChecks:
    """A set of lesson checks, validated and arranged for scanning."""

    lessons: tuple[str, ...]
    files: tuple[FileChecks, ...]
    commands: tuple[tuple[str, CommandSpec], ...]

    def wanted(self, path: str) -> bool:
        return any(check.wants(path) for check in self.files)


def compile_checks(checks: Sequence[tuple[str, CheckSpec]]) -> CompiledChecks:
    """Validate every check (a `CheckError` names the lesson and the fix) and group them for a scan."""
    by_language: dict[str, list[ast_grep.AstGrepRule]] = {}
    patterns: list[regex.RegexRule] = []
    commands: list[tuple[str, CommandSpec]] = []
    for lesson, spec in checks:
        if isinstance(spec, AstGrepSpec):
            by_language.setdefault(spec.language, []).append(ast_grep.compile_rule(lesson, spec))
        elif isinstance(spec, RegexSpec):
            patterns.append(regex.compile_rule(lesson, spec))
        else:
            commands.append((lesson, spec))
    files: list[FileChecks] = list(ast_grep.group(by_language))
    if patterns:
        files.append(regex.RegexChecks(tuple(patterns)))
    lessons = tuple(dict.fromkeys(lesson for lesson, _ in checks))
    return CompiledChecks(lessons, tuple(files), tuple(commands))


@dataclass(frozen=True)
class ScanReport:
    """What a scan found: hits sorted by path, line and column; how many files it read."""

    hits: tuple[Hit, ...]
    files: int
    commands: int
    seconds: float
    counts: Mapping[str, int] = field(default_factory=dict)
    """Hits per lesson, every scanned lesson listed (0 when its check did not fire)."""

    def verdict(self, source: str = SOURCE) -> Verdict:
        return verdict(self.hits, source=source)


async def scan(
    checks: Sequence[tuple[str, CheckSpec]],
    source: Source,
    *,
    workers: int = 0,
    command_timeout: float,
    env: Mapping[str, str],
) -> ScanReport:
    """Run each lesson's check (`(lesson id, spec)` pairs) on `source`.

    `workers=0` uses one process per core. `env` is the whole environment of command checks (pass
    `scrubbed_env()`). An invalid check raises `CheckError` before anything is read.
    """
    compiled = compile_checks(checks)
    started = time.monotonic()
    async with asyncio.TaskGroup() as group:
        reading = group.create_task(_scan_files(compiled, source, workers or os.cpu_count() or 1))
        commanding = group.create_task(_run_commands(compiled, source, command_timeout, env))
    file_hits, files = reading.result()
    hits = tuple(sorted([*file_hits, *commanding.result()]))
    counts = Counter(dict.fromkeys(compiled.lessons, 0))
    counts.update(hit.lesson for hit in hits)
    return ScanReport(
        hits=hits,
        files=files,
        commands=len(compiled.commands),
        seconds=time.monotonic() - started,
        counts=dict(counts),
    )


@dataclass(frozen=True)
class LessonChecks:
    """Lesson checks as a `Check`: a scan of what the attempt added since its base."""

    checks: tuple[tuple[str, CheckSpec], ...]
    workers: int
    command_timeout: float

    @property
    def source(self) -> str:
        return SOURCE

    async def run(self, target: CheckTarget) -> Verdict:
        return (await self.report(target)).verdict(self.source)

    async def report(self, target: CheckTarget) -> ScanReport:
        """The scan itself, for callers that also count hits per lesson."""
        return await scan(
            self.checks,
            DiffSource(target.worktree, target.base, target.head),
            workers=self.workers,
            command_timeout=self.command_timeout,
            env=target.env,
        )


async def _scan_files(compiled: CompiledChecks, source: Source, workers: int) -> tuple[list[Hit], int]:
    if not compiled.files:
        return [], 0
    async with contextlib.aclosing(source.files(compiled.wanted)) as files:
        first: list[SourceFile] = []
        async for file in files:
            first.append(file)
            if len(first) >= IN_PROCESS_FILES:
                break
        else:
            return await asyncio.to_thread(scan_files, compiled.files, first)
        return await _in_pool(compiled.files, _batches(first, files), workers)


async def _in_pool(
    checks: tuple[FileChecks, ...], batches: AsyncIterator[list[SourceFile]], workers: int
) -> tuple[list[Hit], int]:
    loop = asyncio.get_running_loop()
    pool = ProcessPoolExecutor(workers, mp_context=_context(), initializer=install, initargs=(checks,))
    hits: list[Hit] = []
    scanned = 0
    running: set[asyncio.Future[tuple[list[Hit], int]]] = set()

    def collect(done: set[asyncio.Future[tuple[list[Hit], int]]]) -> None:
        nonlocal scanned
        for future in done:
            found, count = future.result()
            hits.extend(found)
            scanned += count

    try:
        async for batch in batches:
            if len(running) >= 2 * workers:
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                collect(done)
            running.add(loop.run_in_executor(pool, scan_batch, batch))
        if running:
            done, running = await asyncio.wait(running)
            collect(done)
    finally:
        for future in running:
            future.cancel()
        await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
    return hits, scanned


async def _batches(
    first: list[SourceFile], rest: AsyncIterator[SourceFile]
) -> AsyncIterator[list[SourceFile]]:
    batch: list[SourceFile] = []
    size = 0

    async def files() -> AsyncIterator[SourceFile]:
        for file in first:
            yield file
        async for file in rest:
            yield file

    async for file in files():
        batch.append(file)
        size += len(file.data or b"")
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _context() -> multiprocessing.context.BaseContext:
    """Workers come from a fork server: forking this (threaded, asyncio) process itself is unsafe."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["aifactory.checks.worker", "aifactory.checks.scan"])
    return context


async def _run_commands(
    compiled: CompiledChecks, source: Source, time_limit: float, env: Mapping[str, str]
) -> list[Hit]:
    if not compiled.commands:
        return []
    hits = []
    async with source.checkout() as directory:
        for lesson, spec in compiled.commands:
            hit = await run_lesson_command(lesson, spec, cwd=directory, time_limit=time_limit, env=env)
            if hit is not None:
                hits.append(hit)
    return hits
