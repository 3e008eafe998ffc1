"""Structured answers: validation errors go back to the model, bounded; verdicts decide attempts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aifactory.domain.run import AttemptState, RunState
from aifactory.errors import ConfigError, ModelError, RoleOutputError
from aifactory.service.planning import no_answers, plan_ask
from aifactory.testing import Answer, Rules, SimRequest, call_tool, offers_tool
from aifactory.testing.team import scripted_team
from tests.engine.runs import plan_and_run
from tests.sim import SimProject, sim_project


def _plan(sim: SimProject) -> None:
    async def go() -> None:
        project = await sim.project()
        with sim.session(project) as current:
            await plan_ask(current, "Write the notes", [], no_answers)

    asyncio.run(go())


def _bad_then_good(request: SimRequest) -> Answer:
    if not request.results_since_user():
        broken = [{"title": "Step", "description": "## Not allowed here", "files": []}]
        return call_tool("submit_task_list", review="ok", steps=broken)
    return call_tool("submit_task_list", review="ok", steps=[{"title": "Write note 1"}])


def test_an_invalid_answer_is_sent_back_with_its_validation_error_and_the_corrected_one_is_used(
    tmp_path: Path,
) -> None:
    team = Rules((offers_tool("submit_task_list"), _bad_then_good)).when(
        lambda r: True, scripted_team(steps=1).respond
    )
    with sim_project(tmp_path, team) as sim:
        finished = plan_and_run(sim, attempts=1)
        retry = [r.sim for r in sim.claude.requests if r.sim.offers("submit_task_list")][-1]
    assert finished.outcome.state is RunState.PASSED
    feedback = retry.results_since_user()[0]
    assert "headings up to ### delimit the plan file" in feedback.content


def test_a_model_that_keeps_answering_garbage_stops_with_a_clear_reason(tmp_path: Path) -> None:
    garbage = call_tool("submit_task_list", review="ok", steps="not a list")
    team = Rules((offers_tool("submit_task_list"), garbage)).when(
        lambda r: True, scripted_team(steps=1).respond
    )
    with (
        sim_project(tmp_path, team) as sim,
        pytest.raises(RoleOutputError, match="the plan reviewer kept answering"),
    ):
        _plan(sim)


def test_a_failing_test_command_rejects_every_attempt_and_the_run_fails(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), test="test -f notes/missing.txt") as sim:
        finished = plan_and_run(sim, attempts=2)
    assert finished.outcome.state is RunState.FAILED
    for attempt in finished.detail.attempts:
        assert attempt.state is AttemptState.REJECTED
        command = next(v for v in attempt.verdicts if v.source == "command:test")
        assert not command.passed
        assert "`test -f notes/missing.txt` failed with exit code 1" in command.findings[0].what


def test_a_verifier_error_finding_rejects_even_when_it_says_pass(tmp_path: Path) -> None:
    finding = {
        "severity": "error",
        "file": "notes/step-1.txt",
        "line": 1,
        "what": "says nothing",
        "why": "empty",
    }
    lenient = call_tool("submit_ask_verdict", verdict="pass", summary="fine", findings=[finding])
    team = Rules((offers_tool("submit_ask_verdict"), lenient)).when(
        lambda r: True, scripted_team(steps=1).respond
    )
    with sim_project(tmp_path, team) as sim:
        finished = plan_and_run(sim, attempts=1)
    attempt = finished.detail.attempts[0]
    assert attempt.state is AttemptState.REJECTED
    assert "ask-verifier: 1 blocking finding(s)" in attempt.reason


def test_an_unknown_model_names_the_model_and_the_setting_to_fix(tmp_path: Path) -> None:
    with (
        sim_project(tmp_path, scripted_team(), known_models={"gpt-6.1-sol"}) as sim,
        pytest.raises(ModelError) as caught,
    ):
        _plan(sim)
    message = str(caught.value)
    assert "model 'claude-sonnet-5-5', role planner" in message
    assert "does not know this model" in message
    assert "[roles.planner] model in .factory/config.toml" in message


def test_a_missing_key_variable_is_named_before_any_work(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team()) as sim:

        async def go() -> None:
            project = await sim.project()
            with sim.session(project, env={}) as current:
                await plan_ask(current, "x", [], no_answers)

        with pytest.raises(ConfigError, match="environment variable FACTORY_TEST_KEY is not set") as caught:
            asyncio.run(go())
    assert "role planner" in str(caught.value)
    assert sim.claude.requests == []


def test_an_executor_that_never_finishes_its_step_properly_fails_only_its_attempt(tmp_path: Path) -> None:
    def broken_for_a2(request: SimRequest) -> Answer:
        if "(Attempt a2 on branch" in request.prompt:
            return call_tool("step_done", summary=["not", "a", "string"])
        return scripted_team(steps=1).respond(request)

    team = Rules((offers_tool("step_done"), broken_for_a2)).when(
        lambda r: True, scripted_team(steps=1).respond
    )
    with sim_project(tmp_path, team) as sim:
        finished = plan_and_run(sim, attempts=2)
    states = {a.name: (a.state, a.reason) for a in finished.detail.attempts}
    assert states["a1"][0] is AttemptState.PASSED
    assert states["a2"][0] is AttemptState.FAILED
    assert "step 1 (Write note 1) failed: the executor kept answering in the wrong shape" in states["a2"][1]
