"""Bounded subprocesses: a time limit, an output cap, and no process left behind.

Commands a model asks for (and the project's own test and lint commands) can hang, print
gigabytes, or start background servers. Each child therefore runs in its own process group, its
merged output is read as it streams and kept as head and tail, and the whole group is killed when
the command ends, times out, or the caller is cancelled (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

KILL_GRACE_S = 2.0
"""How long a process group may take to exit after SIGTERM before it gets SIGKILL."""

_CREDENTIAL_PATTERNS = (
    "*_API_KEY",
    "*_TOKEN",
    "*SECRET*",
    "*PASSWORD*",
    "AWS_*",
    "ANTHROPIC_*",
    "OPENAI_*",
    "AZURE_*",
    "GOOGLE_*",
    "GEMINI_*",
)


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """What a bounded command did; `output` is stdout and stderr interleaved, possibly elided."""

    exit_code: int
    """The command's exit status, or minus the signal number that ended it (-15 after a timeout)."""
    output: str
    timed_out: bool
    duration_s: float
    omitted_bytes: int


class _HeadTail:
    """Keeps the first and last bytes of a stream, so a huge output costs at most `cap` bytes.

    The start of an output usually says what ran and the end says how it finished; the middle
    is what a person (or a model) can most afford to lose.
    """

    def __init__(self, cap: int) -> None:
        if cap < 0:
            raise ValueError(f"output cap must be >= 0, got {cap}")
        self._head_cap = cap // 2
        self._tail_cap = cap - self._head_cap
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    def write(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_cap - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk or self._tail_cap == 0:
            return
        self._tail += chunk[-self._tail_cap :]
        excess = len(self._tail) - self._tail_cap
        if excess > 0:
            del self._tail[:excess]

    @property
    def omitted(self) -> int:
        return self.total - len(self._head) - len(self._tail)

    def text(self) -> str:
        head = self._head.decode(errors="replace")
        tail = self._tail.decode(errors="replace")
        if self.omitted == 0:
            return head + tail
        return f"{head}\n[… {self.omitted} bytes omitted …]\n{tail}"


OutputSink = Callable[[bytes], bool]
"""Receives each chunk of output as it arrives; returning False means "enough": the command is stopped
and the sink is not called again. An exception from the sink stops the command and is re-raised."""


@dataclass(frozen=True, slots=True)
class GroupExit:
    """How a command in its own process group ended."""

    exit_code: int
    timed_out: bool
    stopped: bool
    """An output sink said it had enough, so the group was killed early."""


async def run_process(
    command: str | Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None,
    timeout_s: float,
    output_cap: int,
    log_path: Path | None = None,
) -> ProcessResult:
    """Run `command` (a string goes through `/bin/sh -c`) with a time limit and an output cap.

    Running out of time is a result (`timed_out`, with the output so far), not an exception.
    Everything the command prints is also appended to `log_path` as it arrives, so a person can
    read what the cap left out. Cancelling the caller kills the command's whole process group.
    """
    argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
    output = _HeadTail(output_cap)
    started = time.monotonic()
    with _log_file(log_path) as log:

        def take(chunk: bytes) -> bool:
            output.write(chunk)
            if log is not None:
                log.write(chunk)
                log.flush()
            return True

        ended = await run_in_group(argv, cwd=cwd, env=env, output=take, timeout_s=timeout_s)
    return ProcessResult(
        exit_code=ended.exit_code,
        output=output.text(),
        timed_out=ended.timed_out,
        duration_s=time.monotonic() - started,
        omitted_bytes=output.omitted,
    )


async def run_in_group(
    argv: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str] | None,
    output: OutputSink,
    errors: OutputSink | None = None,
    timeout_s: float | None = None,
) -> GroupExit:
    """Run `argv` as the leader of a new process group, streaming its output into sinks.

    Stderr goes to `errors`, or is merged into `output` when that is None. However the call ends
    (exit, timeout, a sink's "enough", cancellation), the whole group is killed: a `server &`
    left behind by a shell command does not outlive the call that started it.
    """
    loop = asyncio.get_running_loop()
    transport, pipes = await loop.subprocess_exec(
        lambda: _Pipes(output, errors or output),
        *argv,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT if errors is None else asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = False
    try:
        async with asyncio.timeout(timeout_s):
            await pipes.settled.wait()
    except TimeoutError:
        timed_out = True
    finally:
        await _end_group(transport, pipes)
    if pipes.failure is not None:
        raise pipes.failure
    exit_code = transport.get_returncode()
    if exit_code is None:
        raise RuntimeError(f"{argv[0]} was reaped without an exit status")
    return GroupExit(exit_code=exit_code, timed_out=timed_out, stopped=pipes.enough)


class _Pipes(asyncio.SubprocessProtocol):
    """Feeds the child's pipes to the sinks and tells the caller when to stop waiting.

    asyncio's own `Process.wait()` also waits for the pipes to close, which a backgrounded
    grandchild can put off forever; process exit and pipe closing are told apart here.
    """

    def __init__(self, output: OutputSink, errors: OutputSink) -> None:
        self._sinks = {1: output, 2: errors}
        self.enough = False
        self.failure: Exception | None = None
        self.exited = asyncio.Event()
        self.settled = asyncio.Event()
        self.closed = asyncio.Event()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if self.enough:
            return
        try:
            wanted = self._sinks[fd](data)
        except Exception as error:
            # Raised here it would only reach the event loop's log; the caller must see it.
            self.failure = error
            wanted = False
        if not wanted:
            self.enough = True
            self.settled.set()

    def process_exited(self) -> None:
        self.exited.set()
        self.settled.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def _end_group(transport: asyncio.SubprocessTransport, pipes: _Pipes) -> None:
    """SIGTERM the group, SIGKILL it after the grace, then collect what is still in the pipes.

    SIGKILL is sent even when cancellation cuts the grace short, so Ctrl-C leaves no orphan; and
    a grandchild that left the group and keeps a pipe open delays us by one grace at most.
    """
    pgid = transport.get_pid()
    try:
        try:
            _signal_group(pgid, signal.SIGTERM)
            await _wait_at_most(KILL_GRACE_S, pipes.exited)
        finally:
            _signal_group(pgid, signal.SIGKILL)
        await pipes.exited.wait()
        await _wait_at_most(KILL_GRACE_S, pipes.closed)
    finally:
        transport.close()


async def _wait_at_most(seconds: float, event: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


@contextlib.contextmanager
def _log_file(path: Path | None) -> Iterator[BinaryIO | None]:
    if path is None:
        yield None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as log:
        yield log


@dataclass(slots=True)
class Stream:
    """A running child whose stdout is read as it comes, so what it prints is never held whole.

    The pipe applies back-pressure: a child that prints faster than the reader waits for it.
    `stdin` is None unless the stream was opened with `stdin=True`.
    """

    stdout: asyncio.StreamReader
    stdin: asyncio.StreamWriter | None
    _process: asyncio.subprocess.Process
    _errors: _HeadTail
    _drained: asyncio.Task[None]

    async def wait(self) -> int:
        """Wait for the child itself to exit, not for what it left running; its exit code."""
        return await self._process.wait()

    def errors(self) -> str:
        """The head and tail of what the child wrote to stderr so far."""
        return self._errors.text()

    async def finish(self) -> tuple[int, str]:
        """Wait for the child to exit after its output was read; its exit code and (capped) stderr."""
        code = await self._process.wait()
        await self._drained
        return code, self._errors.text()


@contextlib.asynccontextmanager
async def open_stream(
    argv: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str] | None,
    stdin: bool = False,
    errors_cap: int = 8_000,
) -> AsyncIterator[Stream]:
    """Start `argv` in its own process group and hand back its pipes; leaving the block kills the group.

    For outputs too big to hold (a whole diff, every blob of a tree): the caller reads `stdout` at
    its own pace. Stderr is drained alongside (keeping head and tail) so the child never blocks on it.
    """
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    errors = _HeadTail(errors_cap)
    drained = asyncio.create_task(_drain(process.stderr, errors))
    try:
        yield Stream(process.stdout, process.stdin, process, errors, drained)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        # Also after the leader exited: what it left running in its group (a `server &`) goes too.
        _signal_group(process.pid, signal.SIGKILL)
        await process.wait()
        drained.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drained


async def _drain(reader: asyncio.StreamReader, into: _HeadTail) -> None:
    while chunk := await reader.read(65_536):
        into.write(chunk)


def scrubbed_env(
    base: Mapping[str, str] | None = None,
    *,
    secret_names: Iterable[str] = (),
    allow: Iterable[str] = (),
) -> dict[str, str]:
    """The environment for model-driven commands: no provider keys, tokens or passwords.

    Names in `secret_names` always go; names that merely look like credentials stay only if they
    are in `allow` (matching is case-insensitive, as people spell these names both ways).
    """
    source = os.environ if base is None else base
    secrets = set(secret_names)
    allowed = set(allow)
    return {
        name: value
        for name, value in source.items()
        if name not in secrets and (name in allowed or not _looks_like_credential(name))
    }


def _looks_like_credential(name: str) -> bool:
    upper = name.upper()
    return any(fnmatch.fnmatchcase(upper, pattern) for pattern in _CREDENTIAL_PATTERNS)
