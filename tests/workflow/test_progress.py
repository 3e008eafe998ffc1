"""`factory workflow run`'s live progress: on a terminal a table redrawn in place, one line per step
instance with what it left or why it stopped; in a log, one printed line per change."""

from __future__ import annotations

import io

from rich.console import Console

from aifactory.cli.workflow_progress import WorkflowProgress
from aifactory.domain.events import ModelCalled, WorkflowStarted, WorkflowStepChanged
from aifactory.domain.run import Role
from aifactory.domain.usage import Usage
from aifactory.domain.workflow import WorkflowStepState

STARTED = WorkflowStarted(
    run_id="flow-1a2b",
    workflow="flow",
    file="flow.toml",
    inputs={},
    branch="factory/workflow/flow-1a2b",
    worktree="/tmp/w",
    base_commit="0" * 40,
)


def _changed(key: str, state: WorkflowStepState, **extra: str) -> WorkflowStepChanged:
    return WorkflowStepChanged(
        run_id="flow-1a2b",
        key=key,
        step=key.split("[", maxsplit=1)[0],
        step_kind="shell",
        state=state,
        **extra,
    )


EVENTS = [
    STARTED,
    _changed("code[0]", WorkflowStepState.RUNNING),
    _changed("code[1]", WorkflowStepState.RUNNING),
    ModelCalled(role=Role.PLANNER, provider="sim", model="m", usage=Usage(input_tokens=1500), latency_ms=3),
    _changed("code[0]", WorkflowStepState.DONE, commit="abcdef1234567890"),
    _changed("code[1]", WorkflowStepState.FAILED, reason="the command exited with 3"),
    _changed("docs", WorkflowStepState.SKIPPED, reason="it needs code"),
]


def test_on_a_terminal_the_table_shows_each_instance_and_what_it_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    with WorkflowProgress(console) as progress:
        for event in EVENTS:
            progress(event)
    shown = out.getvalue()
    assert "workflow run flow-1a2b (flow) started on factory/workflow/flow-1a2b" in shown
    final = Console(file=io.StringIO(), width=120, color_system=None)
    with final.capture() as captured:
        final.print(progress)
    rows = [" ".join(line.split()) for line in captured.get().splitlines()]
    assert "code[0] done shell 0:00 commit abcdef1234" in rows
    assert "code[1] failed shell 0:00 the command exited with 3" in rows
    assert "docs skipped shell 0:00 it needs code" in rows
    assert rows[-1] == "1/3 step instance(s) done · 1.5k tok"


def test_in_a_log_each_change_is_one_line() -> None:
    out = io.StringIO()
    with WorkflowProgress(Console(file=out, width=120, color_system=None)) as progress:
        for event in EVENTS:
            progress(event)
    assert [" ".join(line.split()) for line in out.getvalue().splitlines()[1:]] == [
        "running code[0]",
        "running code[1]",
        "done code[0]",
        "failed code[1]: the command exited with 3",
        "skipped docs: it needs code",
    ]
