"""Every fault the issue names, on every provider kind: the run completes on the next choice.

The provider under test is each role's first choice; its server answers every executor request with
the fault. For each fault and kind the run passes, the ledger shows the cooldown and the switch,
and each step is committed exactly once. A provider alone gets the fault once: it is retried, or
rested until its reset while the step waits, and the run passes on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from aifactory.domain.run import AttemptState
from aifactory.testing import Delay, DropStream, ErrorEvent, Fault, FaultsWhen, HttpError, SimRequest
from aifactory.testing.team import scripted_team, step_file
from tests.engine.runs import plan_and_run
from tests.pool.seats import KINDS, Seat, choices, executor_step
from tests.support import git

TIMEOUT = 0.8
"""The first provider's client timeout: short, so a slow first token costs about a second per try."""
COOLDOWN = 45.0
"""`[run] cooldown`: the rest after a limit or failure that named no reset time."""


@dataclass(frozen=True)
class Case:
    """A fault, how many requests it takes before the pool gives up on the provider, and the rest it gets."""

    fault: Fault
    tries: int
    rest: float
    reason: str


RETRIED = 3
"""`model_retries = 2`: a transient failure is tried three times on one provider, then the next choice."""

QUOTA = "insufficient_quota"
SPEND_LIMIT: dict[str, tuple[HttpError, str]] = {
    "anthropic": (HttpError(402), "HTTP 402 billing_error"),
    "openai": (HttpError(429, QUOTA, "You exceeded your current quota.", code=QUOTA), f"HTTP 429 {QUOTA}"),
    "azure-openai": (
        HttpError(429, QUOTA, "You exceeded your current quota.", code=QUOTA),
        f"HTTP 429 {QUOTA}",
    ),
    "bedrock": (
        HttpError(400, "ServiceQuotaExceededException", "Your request exceeds the service quota."),
        "HTTP 400 ServiceQuotaExceededException",
    ),
}
"""How each provider says the account's quota or credit is spent (waiting minutes will not help), and
how the ledger words it."""

CASES: dict[str, Case] = {
    "429-retry-after": Case(HttpError(429, headers={"retry-after": "30"}), 1, 30, "HTTP 429"),
    "529": Case(HttpError(529), 1, COOLDOWN, "HTTP 529"),
    "500": Case(HttpError(500), RETRIED, COOLDOWN, "HTTP 500"),
    "stream-cut": Case(DropStream(after_events=2), RETRIED, COOLDOWN, "ModelConnectionError"),
    "error-event": Case(ErrorEvent(after_events=2), 1, COOLDOWN, "verloaded"),
    "slow-first-token": Case(Delay(TIMEOUT * 4), RETRIED, COOLDOWN, "Timeout"),
}


def _run_on_first_then_second(tmp_path: Path, kind: str, case: Case) -> None:
    faulty = FaultsWhen(scripted_team(steps=2), executor_step, case.fault)
    first = Seat(kind, faulty, timeout=TIMEOUT)
    second = Seat("openai" if kind != "openai" else "anthropic", scripted_team(steps=2))
    with choices(tmp_path, first, second, run={"cooldown": COOLDOWN}) as project:
        finished = plan_and_run(project.sim, attempts=1)
        refused = [r for r in project.first.requests if executor_step(r.sim)]

    [attempt] = finished.detail.attempts
    assert attempt.state is AttemptState.PASSED, attempt.reason
    assert project.step_subjects(attempt.branch) == ["step 1/2: Write note 1", "step 2/2: Write note 2"]
    for number in (1, 2):
        written = git(project.sim.repo, "show", f"{attempt.branch}:{step_file(number)}")
        assert written == f"note {number} written by a1\n"

    assert len(refused) == case.tries, "after its tries the provider rests: step 2 never asks it"
    calls = project.calls()
    assert calls[: case.tries] == [("first", 1, True)] * case.tries
    assert {(provider, failed) for provider, _, failed in calls[case.tries :]} == {("second", False)}
    [(provider, rest, reason)] = project.cooled()
    assert provider == "first" and case.reason in reason
    assert case.rest - 5 < rest <= case.rest
    assert project.provider_events() == [
        ("provider-cooled", "first", None, 1),
        ("provider-switched", "first", "second", 1),
    ], "the ledger shows the switch once, where it happened; model_calls show who did each step"


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("fault", list(CASES))
def test_a_fault_on_the_first_choice_moves_the_step_to_the_next_and_the_run_passes(
    tmp_path: Path, fault: str, kind: str
) -> None:
    _run_on_first_then_second(tmp_path, kind, CASES[fault])


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_spent_quota_is_not_retried_and_rests_the_provider_for_an_hour(tmp_path: Path, kind: str) -> None:
    fault, reason = SPEND_LIMIT[kind]
    _run_on_first_then_second(tmp_path, kind, Case(fault, 1, 3600, reason))


ALONE: dict[str, Fault] = {
    **{name: case.fault for name, case in CASES.items()},
    "429-retry-after": HttpError(429, headers={"retry-after": "1"}),
}
"""The faults again, the 429 asking for one second of rest: a provider alone waits for its reset."""


def _first_executor_request(request: SimRequest) -> bool:
    return (
        executor_step(request) and request.turns_since_user() == 0 and "# Your step: 1 of" in request.prompt
    )


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("fault", list(ALONE))
def test_a_fault_once_on_a_provider_alone_is_retried_or_waited_out_and_the_run_passes(
    tmp_path: Path, fault: str, kind: str
) -> None:
    once = FaultsWhen(scripted_team(steps=2), _first_executor_request, ALONE[fault], times=1)
    with choices(tmp_path, Seat(kind, once, timeout=TIMEOUT), run={"cooldown": 1}) as project:
        finished = plan_and_run(project.sim, attempts=1)

    [attempt] = finished.detail.attempts
    assert attempt.state is AttemptState.PASSED, attempt.reason
    assert project.step_subjects(attempt.branch) == ["step 1/2: Write note 1", "step 2/2: Write note 2"]
    calls = project.calls()
    assert calls[0] == ("first", 1, True)
    assert {(provider, failed) for provider, _, failed in calls[1:]} == {("first", False)}
    waited = [("provider-cooled", "first", None, 1), ("pool-waiting", "*", None, 1)]
    assert project.provider_events() == (waited if CASES[fault].tries == 1 else []), (
        "a limit rests the provider and the step waits for it; a transient failure is simply retried"
    )


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_spent_quota_on_a_provider_alone_stops_the_attempt_with_the_reason_without_retrying(
    tmp_path: Path, kind: str
) -> None:
    spent = FaultsWhen(scripted_team(steps=2), executor_step, SPEND_LIMIT[kind][0])
    with choices(tmp_path, Seat(kind, spent), run={"max_wait": 5}) as project:
        finished = plan_and_run(project.sim, attempts=1)
        refused = [r for r in project.first.requests if executor_step(r.sim)]

    [attempt] = finished.detail.attempts
    assert attempt.state is AttemptState.FAILED
    assert "every model choice of role executor is cooling down (first until" in attempt.reason
    assert "max_wait = 5s" in attempt.reason
    assert len(refused) == 1, "a spent quota is never retried"
    assert project.step_subjects(attempt.branch) == []
