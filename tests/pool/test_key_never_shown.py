"""A provider that echoes the caller's key in its error (as some do: "invalid x-api-key sk-…") never gets it
into the ledger, the plans, the logs, the command's output or an error message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aifactory.testing import Answer, HttpError, Rules, SimRequest
from aifactory.testing.team import scripted_team
from tests.pool.seats import Choices, Seat, choices, executor_step
from tests.sim import KEY

KINDS = ("anthropic", "openai", "azure-openai")
"""The kinds whose key travels with each request. Bedrock signs requests: its secret key never
travels, so there is nothing to echo."""


def _presented(request: SimRequest) -> str:
    """The key the request carries, in whichever header its kind's client sends it."""
    headers = request.headers
    return (
        headers.get("x-api-key") or headers.get("api-key") or headers["authorization"].removeprefix("Bearer ")
    )


def _echoing(status: int) -> Rules:
    """The scripted team, but every executor request gets `status` with the presented key in the message."""

    def refuse(request: SimRequest) -> Answer:
        return HttpError(status, message=f"invalid x-api-key {_presented(request)} for this request")

    return scripted_team(steps=1).first(executor_step, refuse)


def _assert_nowhere(project: Choices, *outputs: str) -> None:
    for output in outputs:
        assert KEY not in output
    factory = project.sim.repo / ".factory"
    for path in [*factory.rglob("*"), *(project.sim.repo / "plans").rglob("*")]:
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_echoed_in_a_rate_limit_is_kept_out_of_the_ledger_and_every_output(
    tmp_path: Path, kind: str
) -> None:
    first = Seat(kind, _echoing(429))
    with choices(
        tmp_path, first, Seat("openai" if kind != "openai" else "anthropic", scripted_team(steps=1))
    ) as project:
        ran = project.sim.cli("run", "Write a note", "--no-interactive", "-n", "1")
        assert ran.returncode == 0, ran.stdout + ran.stderr
        models = project.sim.cli("models")
        run_id = re.search(r"run (\S+): 1 attempt", ran.stdout)
        assert run_id, ran.stdout
        shown = project.sim.cli("show", run_id.group(1))
        assert {_presented(r.sim) for r in project.first.requests} == {KEY}

    assert "invalid x-api-key" in " ".join(reason for _, _, reason in project.cooled()), "the error is kept"
    assert "cooling down" in models.stdout
    _assert_nowhere(project, ran.stdout, ran.stderr, models.stdout, models.stderr, shown.stdout, shown.stderr)


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_echoed_in_a_refusal_is_kept_out_of_the_error_that_stops_the_attempt(
    tmp_path: Path, kind: str
) -> None:
    with choices(tmp_path, Seat(kind, _echoing(401))) as project:
        ran = project.sim.cli("run", "Write a note", "--no-interactive", "-n", "1")
        assert {_presented(r.sim) for r in project.first.requests} == {KEY}

    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "refused the credentials (HTTP 401" in ran.stdout
    assert "invalid x-api-key" in ran.stdout
    _assert_nowhere(project, ran.stdout, ran.stderr)
