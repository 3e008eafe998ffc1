"""Live progress of a run: one line per attempt (step k/n, latest tool call, tokens, elapsed), from events.

On a terminal it redraws in place with Rich Live; elsewhere (CI logs, pipes) it prints one line
per milestone, so the output stays readable when nobody watches it live.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from aifactory.domain.events import (
    AgentToolCalled,
    AttemptChanged,
    AttemptPlanned,
    Event,
    LessonActivity,
    LessonNoted,
    ModelCalled,
    PoolWaiting,
    ProviderSwitched,
    RoundStarted,
    RunResumed,
    RunStarted,
    StepFinished,
    StepStarted,
    VerdictReached,
)
from aifactory.domain.run import AttemptState, StepState

_ANNOUNCED = frozenset(
    {
        LessonActivity.PROPOSED,
        LessonActivity.ACTIVATED,
        LessonActivity.STRENGTHENED,
        LessonActivity.MERGED,
        LessonActivity.CHECK_PROVEN,
        LessonActivity.CHECK_REJECTED,
        LessonActivity.RETIREMENT_PROPOSED,
    }
)

_STYLE = {
    AttemptState.PENDING: "dim",
    AttemptState.EXECUTING: "cyan",
    AttemptState.VERIFYING: "magenta",
    AttemptState.PASSED: "bold green",
    AttemptState.REJECTED: "bold red",
    AttemptState.FAILED: "red",
    AttemptState.INTERRUPTED: "yellow",
}


@dataclass
class _Line:
    name: str
    state: AttemptState = AttemptState.PENDING
    step: int = 0
    total: int = 0
    title: str = ""
    doing: str = ""
    """The agent's latest tool call in the current step."""
    tokens: int = 0
    started: float | None = None
    ended: float | None = None

    def elapsed(self) -> str:
        if self.started is None:
            return "-"
        seconds = int((self.ended or time.monotonic()) - self.started)
        return f"{seconds // 60}:{seconds % 60:02d}"


def tokens(count: int) -> str:
    """A token count in a few characters: 950, 12.3k, 4.6M."""
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


@dataclass
class Progress:
    """An event sink that shows attempts as they go; use as a context manager around the run."""

    console: Console
    lines: dict[str, _Line] = field(default_factory=dict)
    _live: Live | None = None

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self._live = Live(self, console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, error, tb)
            self._live = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._say(
                f"run {event.run_id}: {event.attempts} attempt(s) of {event.steps} step(s) "
                f"from {event.base_commit[:10]}"
            )
        elif isinstance(event, RunResumed):
            kept = f"; kept as they were: {', '.join(event.kept)}" if event.kept else ""
            self._announce(
                f"run {event.run_id} resumed at round {event.round}: continuing {', '.join(event.continued)}"
                f" from their last commits{kept}"
            )
        elif isinstance(event, AttemptPlanned):
            self.lines[event.attempt] = _Line(name=event.attempt)
        elif isinstance(event, AttemptChanged):
            self._attempt_changed(event)
        elif isinstance(event, StepStarted | AgentToolCalled):
            self._step_activity(event)
        elif isinstance(event, StepFinished):
            self._step_finished(event)
        elif isinstance(event, ModelCalled):
            self._model_called(event)
        elif isinstance(event, VerdictReached):
            verdict = event.verdict
            mark = "pass" if verdict.passed else "REJECT"
            self._say(f"{event.attempt}: {verdict.source} → {mark} ({len(verdict.findings)} finding(s))")
        elif isinstance(event, ProviderSwitched):
            where = f"{event.attempt} step {event.step}" if event.attempt else "planning"
            self._announce(
                f"{where}: {event.role.value} moves from {event.from_provider} to {event.to_provider} "
                f"({event.to_model}): {event.reason}"
            )
        elif isinstance(event, PoolWaiting):
            self._announce(
                f"{event.role.value}: every model choice is cooling down; waiting until "
                f"{event.until.astimezone():%H:%M:%S} (Ctrl-C stops the run; its commits are kept)"
            )
        elif isinstance(event, RoundStarted):
            carried = ", ".join(event.lessons) or "no lessons"
            self._announce(f"round {event.round} · blueprint {event.blueprint} · plan carries {carried}")
        elif isinstance(event, LessonNoted) and event.activity in _ANNOUNCED:
            detail = f": {event.detail}" if event.detail else ""
            self._announce(f"lesson {event.lesson} {event.activity.value}{detail}")

    def _attempt_changed(self, event: AttemptChanged) -> None:
        line = self.lines[event.attempt]
        line.state = event.state
        if event.state is AttemptState.EXECUTING and line.started is None:
            line.started = time.monotonic()
        if event.state.finished:
            line.ended = time.monotonic()
            self._say(
                f"{event.attempt}: {event.state.value}" + (f" — {event.reason}" if event.reason else "")
            )

    def _step_activity(self, event: StepStarted | AgentToolCalled) -> None:
        if isinstance(event, StepStarted):
            line = self.lines[event.attempt]
            line.step, line.total, line.title, line.doing = event.index, event.total, event.title, ""
        elif event.attempt in self.lines:
            self.lines[event.attempt].doing = f"{event.agent}: {event.tool} {event.target}".rstrip()

    def _step_finished(self, event: StepFinished) -> None:
        if event.state is StepState.COMMITTED and event.commit:
            self._say(f"{event.attempt}: step {event.index} committed {event.commit[:10]}")
        elif event.state is StepState.FAILED:
            self._say(f"{event.attempt}: step {event.index} failed — {event.reason}")

    def _model_called(self, event: ModelCalled) -> None:
        if event.attempt is not None:
            self.lines[event.attempt].tokens += event.usage.total_tokens

    def _announce(self, message: str) -> None:
        """How the factory's inputs change is printed even above the live table: it is the news."""
        self.console.print(message, markup=False, highlight=False, soft_wrap=True)

    def _say(self, message: str) -> None:
        """Milestones are printed only without a live display; the live table shows them otherwise."""
        if self._live is None:
            self.console.print(message, markup=False, highlight=False)

    def __rich__(self) -> Table:
        table = Table(box=None, pad_edge=False, show_header=False)
        for line in self.lines.values():
            step = f"step {line.step}/{line.total}" if line.total else ""
            table.add_row(
                Text(line.name, style="bold"),
                Text(line.state.value, style=_STYLE[line.state]),
                step,
                Text(line.title[:48], style="dim"),
                Text(line.doing[:48], style="dim italic"),
                f"{tokens(line.tokens)} tok",
                line.elapsed(),
            )
        return table
