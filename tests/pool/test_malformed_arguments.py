"""A tool call whose arguments are not JSON, from the provider that took over: the model is asked again."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aifactory.domain.run import AttemptState
from aifactory.testing import Answer, FaultsWhen, HttpError, SimRequest, call_tool, call_tool_raw
from aifactory.testing.team import attempt_of, scripted_team, step_file, step_of
from tests.engine.runs import plan_and_run
from tests.pool.seats import KINDS, Seat, choices, executor_step
from tests.support import git

MALFORMED = '{"path": "notes/step-1.txt", "content": "note 1'
"""A `write_file` call cut off inside a string: what a model's broken JSON looks like."""


def _told_to_fix(request: SimRequest) -> bool:
    results = request.results_since_user()
    return bool(results) and "json_invalid" in results[-1].content


class CarelessOnce:
    """The scripted team, but its first write is malformed JSON; told so, it writes the note again."""

    def __init__(self) -> None:
        self._team = scripted_team(steps=2)
        self._careless = True
        self._lock = threading.Lock()

    def respond(self, request: SimRequest) -> Answer:
        if executor_step(request) and _told_to_fix(request):
            number = step_of(request)
            content = f"note {number} written by {attempt_of(request)}\n"
            return call_tool("write_file", path=step_file(number), content=content)
        if executor_step(request) and request.turns_since_user() == 0:
            with self._lock:
                careless, self._careless = self._careless, False
            if careless:
                return call_tool_raw("write_file", MALFORMED)
        return self._team.respond(request)


@pytest.mark.parametrize("kind", list(KINDS))
def test_malformed_arguments_from_the_next_choice_are_sent_back_and_the_step_completes_once(
    tmp_path: Path, kind: str
) -> None:
    limited = FaultsWhen(scripted_team(steps=2), executor_step, HttpError(429, headers={"retry-after": "30"}))
    first = Seat("openai" if kind == "anthropic" else "anthropic", limited)
    with choices(tmp_path, first, Seat(kind, CarelessOnce())) as project:
        finished = plan_and_run(project.sim, attempts=1)
        second = [r.sim for r in project.servers[1].requests if executor_step(r.sim)]

    [attempt] = finished.detail.attempts
    assert attempt.state is AttemptState.PASSED, attempt.reason
    assert project.step_subjects(attempt.branch) == ["step 1/2: Write note 1", "step 2/2: Write note 2"]
    assert git(project.sim.repo, "show", f"{attempt.branch}:{step_file(1)}") == "note 1 written by a1\n"
    [retry] = [request for request in second if _told_to_fix(request)]
    assert "EOF while parsing a string" in retry.results_since_user()[-1].content
    assert step_of(retry) == 1 and retry.turns_since_user() == 1, "the same conversation, one turn on"
    assert [(provider, step) for provider, step, _ in project.calls()] == [
        ("first", 1),
        *[("second", 1)] * 3,
        *[("second", 2)] * 2,
    ], "step 1: the refused call, then the malformed write, the write again and step_done"
    assert ("provider-switched", "first", "second", 1) in project.provider_events()
