"""The subscription-to-Bedrock switch with the real Claude Code CLI: `claude-code` → `claude-code@bedrock`
→ the built-in agent, each stage against its own fake (Anthropic, then Bedrock's InvokeModel)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from aifactory.domain.events import ProviderCooled, ProviderSwitched
from aifactory.domain.run import AttemptState
from aifactory.testing import ErrorEvent, FakeServer, HttpError, SimRequest
from aifactory.testing.scenarios import FaultsWhen, Scenario
from aifactory.testing.team import scripted_team, step_file, step_of
from tests.agents.claude import (
    BEDROCK_CREDENTIALS,
    BEDROCK_MODEL,
    RESET,
    USAGE_LIMIT_HEADERS,
    agent_table,
    bedrock_agent_table,
    claude_binary,
)
from tests.engine.runs import Finished, plan_and_run
from tests.sim import KEY, KEY_VARIABLE, SimProject, sim_project
from tests.support import git

CHOICES = f'["claude-code:claude-sonnet-5-5", "claude-code@bedrock:{BEDROCK_MODEL}", "sim:claude-sonnet-5-5"]'
THROTTLED = ErrorEvent(3, "throttlingException", "Too many tokens, please wait before trying again.")
"""Bedrock's throttling inside the stream of InvokeModelWithResponseStream, after a few events."""


def _cli(request: SimRequest) -> bool:
    return request.headers.get("user-agent", "").startswith("claude-cli/")


def _on_subscription(request: SimRequest) -> bool:
    return request.protocol == "anthropic" and _cli(request)


def _on_bedrock_step_2(request: SimRequest) -> bool:
    return request.protocol == "bedrock" and step_of(request) == 2


@contextmanager
def _switch_project(tmp_path: Path, scenario: Scenario) -> Iterator[tuple[SimProject, FakeServer]]:
    """A project whose executor tries the subscription, then Bedrock, then the built-in agent."""
    with (
        sim_project(tmp_path, scenario, run={"attempts": 1}) as sim,
        FakeServer(
            scenario, "bedrock", known_models={BEDROCK_MODEL}, keys={BEDROCK_CREDENTIALS["AWS_ACCESS_KEY_ID"]}
        ) as bedrock,
    ):
        config = sim.repo / ".factory" / "config.toml"
        text = config.read_text(encoding="utf-8").replace(
            '[roles.executor]\nmodel = "sim:claude-sonnet-5-5"', f"[roles.executor]\nmodel = {CHOICES}"
        )
        binary = claude_binary()
        subscription = agent_table(
            "claude-code", sim.claude.base_url, pass_env="CLAUDE_CODE_OAUTH_TOKEN", binary=binary
        )
        config.write_text(text + subscription + bedrock_agent_table(bedrock.base_url, binary=binary))
        yield sim, bedrock


def _run(sim: SimProject) -> Finished:
    env = {
        **os.environ,
        KEY_VARIABLE: KEY,
        "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01-fake",
        **BEDROCK_CREDENTIALS,
    }
    return plan_and_run(sim, attempts=1, env=env)


def _rows(sim: SimProject, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        return db.execute(sql).fetchall()


def test_the_subscriptions_limit_moves_the_step_to_claude_code_on_bedrock_then_throttling_to_the_builtin(
    tmp_path: Path,
) -> None:
    limited = HttpError(429, "rate_limit_error", "usage limit", headers=USAGE_LIMIT_HEADERS)
    scenario = FaultsWhen(
        FaultsWhen(scripted_team(steps=2), _on_subscription, limited), _on_bedrock_step_2, THROTTLED
    )
    with _switch_project(tmp_path, scenario) as (sim, bedrock):
        finished = _run(sim)

        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.PASSED, attempt.reason
        branch = f"factory/{finished.outcome.run_id}/a1"
        assert git(sim.repo, "show", f"{branch}~1:{step_file(1)}") == "note 1 written by a1\n"
        assert f"Factory-Executor: claude-code@bedrock:{BEDROCK_MODEL}" in git(
            sim.repo, "log", "-1", "--format=%B", f"{branch}~1"
        ), "the CLI on Bedrock carried out step 1"
        assert "Factory-Executor: sim:claude-sonnet-5-5" in git(sim.repo, "log", "-1", "--format=%B", branch)

        cooled = [(e.provider, e.step) for e in sim.events if isinstance(e, ProviderCooled)]
        assert cooled == [("claude-code", 1), ("claude-code@bedrock", 2)]
        [subscription] = [
            e for e in sim.events if isinstance(e, ProviderCooled) and e.provider == "claude-code"
        ]
        assert subscription.until == datetime.fromtimestamp(RESET, UTC)
        [throttled] = [e for e in sim.events if isinstance(e, ProviderCooled) and e.step == 2]
        assert "API error 429" in throttled.reason and "Too many tokens" in throttled.reason
        switched = [
            (e.from_provider, e.to_provider, e.step) for e in sim.events if isinstance(e, ProviderSwitched)
        ]
        assert switched == [
            ("claude-code", "claude-code@bedrock", 1),
            ("claude-code", "claude-code@bedrock", 2),
            ("claude-code@bedrock", "sim", 2),
        ], "the ledger shows who took over each step"
        assert len([r for r in sim.claude.requests if _cli(r)]) == 1, "step 2 skips the cooling subscription"

        streamed = [r for r in bedrock.requests if r.sim.stream]
        assert streamed and all(
            _cli(r) and r.body["anthropic_version"] == "bedrock-2023-05-31" for r in streamed
        )
        assert all("# The plan" in r.sim.prompt for r in streamed), "the CLI on Bedrock gets the plan"
        calls = _rows(
            sim,
            "select step, model, input_tokens, output_tokens, error from model_calls "
            "where provider = 'claude-code@bedrock' and role = 'executor' order by step",
        )
        assert [(step, model) for step, model, *_ in calls] == [(1, BEDROCK_MODEL), (2, BEDROCK_MODEL)]
        step_1, step_2 = calls
        assert step_1[2] and step_1[3] and step_1[4] is None, "usage recorded for the Bedrock step"
        assert step_2[4], "the throttled step is recorded as failed"


def test_aws_refusing_the_agents_credentials_fails_the_step_naming_the_aws_variables(tmp_path: Path) -> None:
    with _switch_project(tmp_path, scripted_team(steps=1)) as (sim, bedrock):
        config = sim.repo / ".factory" / "config.toml"
        config.write_text(config.read_text().replace(CHOICES, f'"claude-code@bedrock:{BEDROCK_MODEL}"'))
        env = {**os.environ, KEY_VARIABLE: KEY, **BEDROCK_CREDENTIALS, "AWS_ACCESS_KEY_ID": "AKIDUNKNOWN"}
        finished = plan_and_run(sim, attempts=1, env=env)

        [attempt] = finished.detail.attempts
        assert attempt.state is AttemptState.FAILED
        assert (
            "claude-code@bedrock could not authenticate with AWS (AWS authentication failed" in attempt.reason
        )
        assert 'pass_env = ["AWS_*"]' in attempt.reason
        assert not [e for e in sim.events if isinstance(e, ProviderCooled)], "a setup problem, not a limit"
        assert not bedrock.requests, "AWS refused the signature before any model request"
