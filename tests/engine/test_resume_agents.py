"""A resumed attempt whose branch holds its steps and some small agents' commits goes on after them.

The branch is trusted: an agent whose `agent: NAME` commit is on it is not run again, even when the
factory was killed before the ledger recorded that run; the agents after it run once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aifactory.domain.events import ProviderCooled
from aifactory.domain.run import AttemptState
from aifactory.ledger.queries import AttemptDetail
from aifactory.service import resuming
from aifactory.service.inspect import show
from aifactory.testing.agent_team import small_agent_of
from aifactory.testing.scenario import HttpError, SimRequest
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import scripted_team
from tests.engine.runs import plan_and_run
from tests.sim import SimProject, sim_project
from tests.support import git

AGENTS = '[small_agents]\nafter_execution = ["doc-writer", "test-writer"]\n'


def _test_writer(request: SimRequest) -> bool:
    return request.offers("agent_done") and small_agent_of(request) == "test-writer"


def _asked(sim: SimProject, agent: str) -> int:
    return sum(
        1 for r in sim.claude.requests if r.sim.offers("agent_done") and small_agent_of(r.sim) == agent
    )


@pytest.fixture
def stopped(tmp_path: Path) -> Iterator[tuple[SimProject, AttemptDetail]]:
    """A one-attempt run whose steps and doc-writer committed, then whose provider cooled longer than
    `max_wait` as the test-writer began."""
    limit = HttpError(429, headers={"retry-after": "2"})
    scenario = FaultsWhen(scripted_team(steps=2), _test_writer, limit, times=1)
    with sim_project(tmp_path, scenario, run={"attempts": 1, "max_wait": 1}) as sim:
        config = sim.repo / ".factory" / "config.toml"
        config.write_text(config.read_text(encoding="utf-8") + AGENTS, encoding="utf-8")
        git(sim.repo, "commit", "-qam", "run two small agents after the steps")
        finished = plan_and_run(sim, attempts=1)
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED, attempt.reason
        [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
        time.sleep(max((cooled.until - datetime.now(UTC)).total_seconds(), 0) + 0.2)
        yield sim, attempt


def _resume(sim: SimProject, run_id: str) -> AttemptDetail:
    async def go() -> None:
        found = resuming.stopped(await sim.project(), run_id)
        with sim.session(found.project) as current:
            await resuming.resume(current, found, notice=lambda message: None)

    asyncio.run(go())
    [attempt] = show(asyncio.run(sim.project()), run_id).attempts
    return attempt


def _subjects(attempt: AttemptDetail) -> list[str]:
    return git(Path(attempt.worktree), "log", "--reverse", "--format=%s", "HEAD~4..HEAD").splitlines()


def test_agents_that_committed_are_not_run_again_and_the_rest_run_once(
    stopped: tuple[SimProject, AttemptDetail],
) -> None:
    sim, attempt = stopped
    assert _subjects(attempt)[-1] == "agent: doc-writer"
    asked = _asked(sim, "doc-writer")

    resumed = _resume(sim, attempt.run_id)

    assert resumed.state is AttemptState.PASSED, resumed.reason
    assert _subjects(resumed) == [
        "step 1/2: Write note 1",
        "step 2/2: Write note 2",
        "agent: doc-writer",
        "agent: test-writer",
    ]
    assert _asked(sim, "doc-writer") == asked, "the doc-writer's commit was on the branch"
    assert [ran.agent for ran in resumed.agents] == ["doc-writer", "test-writer"]


def test_the_branch_is_trusted_when_the_ledger_missed_an_agents_commit(
    stopped: tuple[SimProject, AttemptDetail],
) -> None:
    sim, attempt = stopped
    with closing(sqlite3.connect(sim.repo / ".factory" / "ledger.db")) as db, db:
        db.execute("delete from small_agent_runs")  # as if killed between the commit and its record
    asked = _asked(sim, "doc-writer")

    resumed = _resume(sim, attempt.run_id)

    assert resumed.state is AttemptState.PASSED, resumed.reason
    assert _subjects(resumed)[-2:] == ["agent: doc-writer", "agent: test-writer"]
    assert _asked(sim, "doc-writer") == asked
