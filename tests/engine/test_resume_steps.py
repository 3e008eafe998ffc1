"""A resumed attempt goes on from its branch's first step without a commit.

What a stopped step left uncommitted is dropped and the step done again; a step commit the ledger
never recorded (the factory killed between the two) counts as done; a branch that no longer
matches the plan stops the attempt with what to do.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aifactory.domain import stepcommit
from aifactory.domain.events import ProviderCooled, RunResumed, StepFinished, StepStarted
from aifactory.domain.run import AttemptState, RunState, StepState
from aifactory.engine.restore import RECOVERED
from aifactory.engine.run import RunOutcome
from aifactory.ledger.queries import AttemptDetail, RunDetail
from aifactory.service import resuming
from aifactory.service.inspect import show
from aifactory.testing.scenario import HttpError, SimRequest, call_tool
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import attempt_of, scripted_team, step_of
from tests.engine.runs import plan_and_run
from tests.sim import SimProject, sim_project
from tests.support import git


def _second_turn_of_step_two(request: SimRequest) -> bool:
    """Step 2's agent has written its file and asks the model again: the step is half done."""
    return request.offers("step_done") and step_of(request) == 2 and request.turns_since_user() > 0


@pytest.fixture
def stopped(tmp_path: Path) -> Iterator[tuple[SimProject, AttemptDetail]]:
    """A one-attempt run of three steps whose executor's provider cooled longer than `max_wait`
    in the middle of step 2: step 1 committed, step 2's file written but not committed."""
    limit = HttpError(429, headers={"retry-after": "2"})
    scenario = FaultsWhen(scripted_team(steps=3), _second_turn_of_step_two, limit, times=1)
    with sim_project(tmp_path, scenario, run={"attempts": 1, "max_wait": 1}) as sim:
        finished = plan_and_run(sim, attempts=1)
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
        time.sleep(max((cooled.until - datetime.now(UTC)).total_seconds(), 0) + 0.2)
        sim.events.clear()
        yield sim, attempt


def _resume(sim: SimProject, run_id: str) -> tuple[RunOutcome, RunDetail]:
    async def go() -> RunOutcome:
        found = resuming.stopped(await sim.project(), run_id)
        with sim.session(found.project) as current:
            return await resuming.resume(current, found, notice=lambda message: None)

    outcome = asyncio.run(go())
    return outcome, show(asyncio.run(sim.project()), run_id)


def _subjects(worktree: Path, base: str) -> list[str]:
    return git(worktree, "log", "--reverse", "--format=%s", f"{base}..HEAD").splitlines()


def test_a_half_done_step_is_dropped_and_done_again_once(
    stopped: tuple[SimProject, AttemptDetail],
) -> None:
    sim, attempt = stopped
    worktree = Path(attempt.worktree)
    assert git(worktree, "status", "--porcelain").splitlines() == ["?? notes/step-2.txt"]
    (worktree / "README.md").write_text("edited by the stopped step\n")
    (worktree / "stray.txt").write_text("left by the stopped step\n")
    served = len(sim.claude.requests)

    outcome, detail = _resume(sim, attempt.run_id)

    assert outcome.state is RunState.PASSED
    base = detail.base_commit
    assert _subjects(worktree, base) == [f"step {k}/3: Write note {k}" for k in (1, 2, 3)]
    assert git(worktree, "status", "--porcelain") == ""
    assert git(worktree, "show", "HEAD:README.md") == "# sample\n"
    assert "stray.txt" not in git(worktree, "ls-tree", "-r", "--name-only", "HEAD")
    assert [e.index for e in sim.events if isinstance(e, StepStarted)] == [2, 3]
    executed = [step_of(r.sim) for r in sim.claude.requests[served:] if r.sim.offers("step_done")]
    assert executed == [2, 2, 3, 3], "each remaining step: write its file, then say it is done"
    [resumed] = detail.attempts
    assert [(s.index, s.state, s.reason) for s in resumed.steps] == [
        (k, StepState.COMMITTED, "") for k in (1, 2, 3)
    ]


def test_a_step_committed_but_never_recorded_counts_as_done_even_with_its_worktree_gone(
    stopped: tuple[SimProject, AttemptDetail],
) -> None:
    sim, attempt = stopped
    worktree = Path(attempt.worktree)
    message = stepcommit.message(
        stepcommit.StepCommit(
            number=2,
            total=3,
            title="Write note 2",
            summary="Wrote notes/step-2.txt.",
            run_id=attempt.run_id,
            attempt=attempt.name,
        )
    )
    git(worktree, "add", "--all")
    git(worktree, "commit", "-q", "-m", message)
    committed = git(worktree, "rev-parse", "HEAD").strip()
    shutil.rmtree(worktree)
    served = len(sim.claude.requests)

    outcome, detail = _resume(sim, attempt.run_id)

    assert outcome.state is RunState.PASSED
    assert _subjects(worktree, detail.base_commit) == [f"step {k}/3: Write note {k}" for k in (1, 2, 3)]
    assert [e.index for e in sim.events if isinstance(e, StepStarted)] == [3]
    assert {step_of(r.sim) for r in sim.claude.requests[served:] if r.sim.offers("step_done")} == {3}
    [recovered] = [e for e in sim.events if isinstance(e, StepFinished) and e.index == 2]
    assert (recovered.commit, recovered.reason) == (committed, RECOVERED)
    step = detail.attempts[0].steps[1]
    assert (step.state, step.commit, step.summary) == (
        StepState.COMMITTED,
        committed,
        "Wrote notes/step-2.txt.",
    )


def test_a_branch_that_no_longer_matches_the_plan_stops_the_attempt_and_says_why(
    stopped: tuple[SimProject, AttemptDetail],
) -> None:
    sim, attempt = stopped
    worktree = Path(attempt.worktree)
    git(worktree, "add", "--all")
    git(worktree, "commit", "-q", "-m", "my own change")

    outcome, detail = _resume(sim, attempt.run_id)

    assert outcome.state is RunState.FAILED
    [again] = detail.attempts
    assert again.state is AttemptState.FAILED
    assert f"{again.branch} holds" in again.reason
    assert "('my own change') where the plan has step 2/3 (Write note 2)" in again.reason
    assert f"`factory resume {attempt.run_id}`" in detail.reason


def test_a_resumed_round_keeps_an_attempt_with_a_verdict_and_does_not_learn_from_it_twice(
    tmp_path: Path,
) -> None:
    finding = {
        "severity": "error",
        "file": "notes/step-1.txt",
        "what": "names its attempt",
        "why": "anonymous",
    }
    team = scripted_team(steps=2).first(
        lambda request: request.offers("submit_plan_verdict") and "written by a1" in request.prompt,
        call_tool("submit_plan_verdict", verdict="reject", summary="Not as planned.", findings=[finding]),
    )
    refused = FaultsWhen(
        team,
        lambda request: request.offers("step_done") and attempt_of(request) == "a2" and step_of(request) == 2,
        HttpError(400),
        times=1,
    )
    with sim_project(tmp_path, refused, run={"attempts": 2}) as sim:
        finished = plan_and_run(sim, attempts=2)
        assert [(a.name, a.state) for a in finished.detail.attempts] == [
            ("a1", AttemptState.REJECTED),
            ("a2", AttemptState.FAILED),
        ]
        assert "a2 stopped before a verdict" in finished.detail.reason
        distilled = len(sim.requests_for("submit_lessons"))
        assert distilled > 0, "round 1 taught a1's finding (or tried to)"
        sim.events.clear()

        outcome, detail = _resume(sim, finished.outcome.run_id)

        assert (outcome.state, outcome.ranking) == (RunState.PASSED, ["a2"])
        [resumed] = [e for e in sim.events if isinstance(e, RunResumed)]
        assert (resumed.continued, resumed.kept) == (("a2",), ("a1",))
        assert len(sim.requests_for("submit_lessons")) == distilled, "a1's finding is not taught again"
        a1, a2 = detail.attempts
        assert (a1.state, len(a1.verdicts)) == (
            AttemptState.REJECTED,
            len(finished.detail.attempts[0].verdicts),
        )
        assert a2.state is AttemptState.PASSED
        assert [e.index for e in sim.events if isinstance(e, StepStarted)] == [2]
