"""Live progress of a workflow run: one line per step instance (state, kind, elapsed, what it left or
why it stopped) and the tokens its model calls spent, from events.

On a terminal it redraws in place with Rich Live, like `factory run`'s progress; elsewhere (CI logs,
pipes) it prints one line per instance as it starts and ends, so the output stays readable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from aifactory.cli.progress import tokens
from aifactory.domain.events import Event, ModelCalled, WorkflowStarted, WorkflowStepChanged
from aifactory.domain.workflow import WorkflowStepState

STYLE = {
    WorkflowStepState.RUNNING: "cyan",
    WorkflowStepState.DONE: "green",
    WorkflowStepState.FAILED: "red",
    WorkflowStepState.SKIPPED: "yellow",
}


@dataclass
class _Line:
    key: str
    kind: str
    state: WorkflowStepState
    started: float
    ended: float | None = None
    detail: str = ""

    def elapsed(self) -> str:
        seconds = int((self.ended or time.monotonic()) - self.started)
        return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass
class WorkflowProgress:
    """An event sink that shows a workflow's step instances as they go; a context manager around it."""

    console: Console
    lines: dict[str, _Line] = field(default_factory=dict)
    spent: int = 0
    title: str = ""
    _live: Live | None = None

    def __enter__(self) -> WorkflowProgress:
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
        if isinstance(event, WorkflowStarted):
            again = "resumed" if event.resumed else "started"
            self.title = f"workflow run {event.run_id} ({event.workflow}) {again} on {event.branch}"
            self.console.print(self.title, markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, WorkflowStepChanged):
            self._step_changed(event)
        elif isinstance(event, ModelCalled):
            self.spent += event.usage.total_tokens

    def _step_changed(self, event: WorkflowStepChanged) -> None:
        now = time.monotonic()
        line = self.lines.get(event.key)
        if line is None or event.state is WorkflowStepState.RUNNING:
            line = self.lines[event.key] = _Line(event.key, event.step_kind, event.state, now)
        line.state = event.state
        if event.state is not WorkflowStepState.RUNNING:
            line.ended = now
            line.detail = event.reason or (f"commit {event.commit[:10]}" if event.commit else "")
        if self._live is None:
            detail = f": {event.reason}" if event.reason else ""
            self.console.print(
                f"[{STYLE[event.state]}]{event.state.value:>8}[/] {escape(event.key)}{escape(detail)}",
                soft_wrap=True,
            )

    def __rich__(self) -> Group:
        table = Table(box=None, pad_edge=False, show_header=False)
        for line in self.lines.values():
            table.add_row(
                Text(line.key, style="bold"),
                Text(line.state.value, style=STYLE[line.state]),
                Text(line.kind, style="dim"),
                line.elapsed(),
                Text(line.detail[:80], style="dim italic"),
            )
        done = sum(line.state is WorkflowStepState.DONE for line in self.lines.values())
        summary = Text(
            f"{done}/{len(self.lines)} step instance(s) done · {tokens(self.spent)} tok", style="dim"
        )
        return Group(table, summary)
