"""A step's commit message gives the step back, and nothing else passes for one."""

from __future__ import annotations

import pytest

from aifactory.domain.stepcommit import StepCommit, message, parse

STEP = StepCommit(
    number=2,
    total=5,
    title="Add the parser",
    summary="Wrote it.\n\nWith tests.",
    run_id="r-1f2e",
    attempt="a3",
)


def test_a_step_message_parses_back_to_its_step() -> None:
    assert parse(message(STEP)) == STEP


def test_the_whitespace_git_tidies_does_not_change_the_step() -> None:
    tidied = message(STEP).replace("\n\n\n", "\n\n").strip() + "\n"
    assert parse(tidied) == STEP
    assert parse(message(StepCommit(1, 1, "Only", "", "r", "a1"))) == StepCommit(1, 1, "Only", "", "r", "a1")


@pytest.mark.parametrize(
    "text",
    [
        "my own change",
        "step 2/5: Add the parser\n\nno trailers",
        "step two: Add the parser\n\nFactory-Run: r\nFactory-Attempt: a1\n",
        "Merge branch 'x'\n\nFactory-Run: r\nFactory-Attempt: a1\n",
    ],
)
def test_other_messages_are_not_steps(text: str) -> None:
    assert parse(text) is None
