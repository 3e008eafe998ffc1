"""A workflow run's lifecycle as data: the states of the run and of each step instance.

A step with `for_each` runs once per item; each instance has its own key (`cases[2]`), state and
outputs, so the ledger and a resume treat instances like any other step.
"""

from __future__ import annotations

from enum import StrEnum


class WorkflowState(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


class WorkflowStepState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    """A step it needs failed or was skipped, so it never started."""


def instance_key(step: str, index: int | None) -> str:
    """The ledger's name of one step instance: `split`, or `code[0]` for a fan-out's first item."""
    return step if index is None else f"{step}[{index}]"
