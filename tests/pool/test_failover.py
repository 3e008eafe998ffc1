"""The pool keeps a role working while providers' limits come and go: real runs, real fake servers."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aifactory.domain.events import PoolWaiting, ProviderCooled, ProviderSwitched
from aifactory.domain.run import AttemptState, StepState
from aifactory.service.planning import no_answers, plan_ask
from aifactory.testing.scenario import ErrorEvent, HttpError, SimRequest
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import scripted_team
from tests.engine.runs import plan_and_run
from tests.sim import SimProject, sim_project

BOTH = '["sim:claude-sonnet-5-5", "sim-openai:gpt-6.1-sol"]'


def _executor_on(protocol: str) -> object:
    def matches(request: SimRequest) -> bool:
        return request.protocol == protocol and request.offers("step_done")

    return matches


def _route(sim: SimProject, models: str, roles: tuple[str, ...] = ("executor",)) -> None:
    """Give `roles` (all on the Anthropic server in the simulated config) the model choices `models`."""
    config = sim.repo / ".factory" / "config.toml"
    text = config.read_text(encoding="utf-8")
    for role in roles:
        text = text.replace(
            f'[roles.{role}]\nmodel = "sim:claude-sonnet-5-5"', f"[roles.{role}]\nmodel = {models}"
        )
    config.write_text(text, encoding="utf-8")


EVERY_ROLE_ON_SIM = ("planner", "plan-reviewer", "executor", "plan-verifier", "distiller")


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[SimProject]:
    """The Anthropic server answers every executor request with a 429 asking for 30 s of rest."""
    limit = HttpError(429, headers={"retry-after": "30"})
    scenario = FaultsWhen(scripted_team(steps=2), _executor_on("anthropic"), limit)
    with sim_project(tmp_path, scenario, run={"attempts": 1}) as sim:
        # Cooldowns are per provider: every role that uses it moves on, not only the one that hit it.
        _route(sim, BOTH, EVERY_ROLE_ON_SIM)
        yield sim


def _calls(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        return db.execute(sql).fetchall()


def test_a_rate_limit_moves_the_role_to_its_next_choice_and_the_run_goes_on(limited: SimProject) -> None:
    finished = plan_and_run(limited, attempts=1)
    [attempt] = finished.detail.attempts
    assert attempt.state is AttemptState.PASSED
    assert [step.state for step in attempt.steps] == [StepState.COMMITTED, StepState.COMMITTED]
    [cooled] = [e for e in limited.events if isinstance(e, ProviderCooled)]
    assert cooled.provider == "sim"
    assert 25 < (cooled.until - cooled.at).total_seconds() <= 30
    switched = [e for e in limited.events if isinstance(e, ProviderSwitched)]
    assert {(e.from_provider, e.to_provider) for e in switched} == {("sim", "sim-openai")}
    assert [(e.role.value, e.step) for e in switched if e.role.value == "executor"] == [("executor", 1)], (
        "the switch is recorded once, where it happened, not again at every step"
    )
    served = _calls(
        limited, "select step, provider from model_calls where role = 'executor' and error is null"
    )
    assert sorted(set(served)) == [(1, "sim-openai"), (2, "sim-openai")], "the ledger shows who did each step"
    assert not [e for e in limited.events if isinstance(e, PoolWaiting)], "a choice had capacity: no wait"
    executed = _calls(limited, "select provider, error is null from model_calls where role = 'executor'")
    assert executed[0] == ("sim", 0)
    assert {provider for provider, ok in executed[1:]} == {"sim-openai"}
    assert all(ok for _, ok in executed[1:])


def test_a_second_run_respects_the_cooldown_the_first_one_recorded(limited: SimProject) -> None:
    plan_and_run(limited, attempts=1)
    refused = len([r for r in limited.claude.requests if r.sim.offers("step_done")])
    second = limited.cli("run", "Write the notes", "--no-interactive")
    assert second.returncode == 0, second.stdout + second.stderr
    assert len([r for r in limited.claude.requests if r.sim.offers("step_done")]) == refused, (
        "no executor request may reach a provider that is cooling down"
    )


def test_a_role_with_one_choice_waits_for_the_reset_then_goes_on(tmp_path: Path) -> None:
    once = FaultsWhen(
        scripted_team(steps=1),
        _executor_on("anthropic"),
        HttpError(429, headers={"retry-after": "1"}),
        times=1,
    )
    with sim_project(tmp_path, once, run={"attempts": 1}) as sim:
        started = time.monotonic()
        finished = plan_and_run(sim, attempts=1)
        assert time.monotonic() - started >= 1.0
        assert finished.detail.attempts[0].state is AttemptState.PASSED
        [waiting] = [e for e in sim.events if isinstance(e, PoolWaiting)]
        assert waiting.role.value == "executor"


def test_a_wait_longer_than_allowed_stops_the_attempt_with_the_reason(tmp_path: Path) -> None:
    always = FaultsWhen(
        scripted_team(steps=1), _executor_on("anthropic"), HttpError(429, headers={"retry-after": "600"})
    )
    with sim_project(tmp_path, always, run={"attempts": 1, "max_wait": 5}) as sim:
        finished = plan_and_run(sim, attempts=1)
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert "every model choice of role executor is cooling down" in attempt.reason
        assert "max_wait = 5s" in attempt.reason
        assert f"or run `factory resume {finished.outcome.run_id}` after the reset" in attempt.reason


def test_an_overloaded_provider_fails_over_too(tmp_path: Path) -> None:
    overloaded = FaultsWhen(scripted_team(steps=1), _executor_on("anthropic"), HttpError(529))
    with sim_project(tmp_path, overloaded, run={"attempts": 1}) as sim:
        _route(sim, BOTH, EVERY_ROLE_ON_SIM)
        finished = plan_and_run(sim, attempts=1)
        assert finished.detail.attempts[0].state is AttemptState.PASSED
        switched = [e for e in sim.events if isinstance(e, ProviderSwitched)]
        assert [e.to_provider for e in switched if e.role.value == "executor"] == ["sim-openai"]


def test_complex_steps_run_on_the_models_configured_for_them(tmp_path: Path) -> None:
    team = scripted_team(steps=1)
    with sim_project(tmp_path, team, run={"attempts": 1}) as sim:
        _route(sim, '"sim:claude-sonnet-5-5"\ncomplex = ["sim-openai:gpt-6.1-sol"]')
        plan = next(iter(asyncio.run(_plan(sim))))
        text = plan.read_text(encoding="utf-8").replace("- Complexity: simple", "- Complexity: complex")
        plan.write_text(text, encoding="utf-8")
        ran = sim.cli("run", str(plan))
        assert ran.returncode == 0, ran.stdout + ran.stderr
        executed = _calls(sim, "select distinct provider from model_calls where role = 'executor'")
        assert executed == [("sim-openai",)]


async def _plan(sim: SimProject) -> list[Path]:
    project = await sim.project()
    with sim.session(project) as current:
        planned = await plan_ask(current, "Write the notes", [], no_answers)
    return [planned.path]


def test_models_lists_each_provider_its_state_and_its_roles(limited: SimProject) -> None:
    plan_and_run(limited, attempts=1)
    listed = limited.cli("models", "--json")
    assert listed.returncode == 0, listed.stderr
    states = {state["provider"]: state for state in json.loads(listed.stdout)["providers"]}
    assert states["sim"]["state"].startswith("cooling down until")
    assert "HTTP 429" in states["sim"]["state"]
    assert states["sim-openai"]["state"] == "ready"
    executor = [use for use in states["sim-openai"]["uses"] if use["role"] == "executor"]
    assert executor == [{"role": "executor", "model": "gpt-6.1-sol", "choice": 2, "complex_steps": False}]
    unset = limited.cli("models", env={"FACTORY_TEST_KEY": ""})
    assert "no key: FACTORY_TEST_KEY is not set" in unset.stdout


def test_a_token_budget_stops_new_work_and_says_so(tmp_path: Path) -> None:
    """Planned apart, so the run's budget meets its first executor request (`run ASK` charges planning)."""
    with sim_project(tmp_path, scripted_team(steps=2), run={"attempts": 1}) as sim:
        assert sim.cli("plan", "Write the notes", "--no-interactive").returncode == 0
        plan = next((sim.repo / "plans").glob("*-plan.md"))
        ran = sim.cli("run", str(plan), "--max-tokens", "1")
        assert ran.returncode == 1
        assert "budget reached: the run has used" in ran.stdout
        assert "(set by --max-tokens)" in ran.stdout
        executed = _calls(sim, "select count(*) from model_calls where role = 'executor'")
        assert executed == [(1,)], "the request after the budget was spent never went out"


def test_an_error_in_the_middle_of_a_stream_fails_over_without_losing_the_step(tmp_path: Path) -> None:
    midway = FaultsWhen(
        scripted_team(steps=2), _executor_on("anthropic"), ErrorEvent(after_events=2), times=1
    )
    with sim_project(tmp_path, midway, run={"attempts": 1}) as sim:
        _route(sim, BOTH, EVERY_ROLE_ON_SIM)
        finished = plan_and_run(sim, attempts=1)
        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED
        assert [step.index for step in attempt.steps if step.state is StepState.COMMITTED] == [1, 2]
        [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
        assert "overloaded" in cooled.reason.lower()


def test_planning_an_ask_to_run_counts_against_the_run_budget(tmp_path: Path) -> None:
    with sim_project(tmp_path, scripted_team(steps=2), run={"attempts": 1}) as sim:
        ran = sim.cli("run", "Write the notes", "--no-interactive", "--max-tokens", "1")
        assert ran.returncode == 1
        assert "budget reached: the run has used" in ran.stderr and "(set by --max-tokens)" in ran.stderr
        planned = _calls(sim, "select count(*) from model_calls where role = 'planner'")
        assert planned == [(1,)], "the planner's second request never went out"
        assert _calls(sim, "select count(*) from model_calls where role = 'executor'") == [(0,)]
