"""The codex agent's own checks with real processes: the installed version, and a refused login."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from aifactory.agents.base import AgentFailed, StepJob
from aifactory.agents.codex import CodexAgent
from aifactory.config.agents import AgentConfig, AgentKind
from aifactory.errors import ConfigError
from aifactory.testing import FakeServer, HttpError, Rules, SimRequest, always, reply_text
from aifactory.testing.scenario import SimReply
from tests.agents.codex import KEY_VARIABLE, codex_binary, codex_home


def _agent(binary: Path, home: Path | None = None) -> CodexAgent:
    config = AgentConfig.model_validate({"kind": AgentKind.CODEX, "binary": str(binary), "timeout": 60})
    env = {"PATH": os.environ["PATH"], "HOME": str(binary.parent), KEY_VARIABLE: "sk-refused"}
    return CodexAgent(
        "codex", config, "gpt-5.1-codex", {**env, **({"CODEX_HOME": str(home)} if home else {})}
    )


def _job(worktree: Path) -> StepJob:
    return StepJob(
        worktree=worktree,
        instructions="You are the executor.",
        task="Write hello.txt",
        max_turns=5,
        command_timeout=30,
        output_cap=10_000,
        env={},
    )


def test_a_release_older_than_the_oldest_supported_is_refused_naming_the_install(tmp_path: Path) -> None:
    old = tmp_path / "codex"
    old.write_text("#!/bin/sh\necho 'codex-cli 0.44.0'\n", encoding="utf-8")
    old.chmod(0o755)
    with pytest.raises(ConfigError, match=r"Codex CLI 0\.44\.0 is too old: install it with `npm install -g "):
        asyncio.run(_agent(old, tmp_path).check())


def test_the_installed_release_passes_the_check(tmp_path: Path) -> None:
    assert asyncio.run(_agent(codex_binary(), tmp_path).check()) == "0.169.0"


def test_a_refused_key_fails_the_step_naming_codex_login(tmp_path: Path) -> None:
    refused = HttpError(401, "invalid_request_error", "Incorrect API key provided", code="invalid_api_key")
    with FakeServer(Rules((always, refused)), "openai") as server:
        agent = _agent(codex_binary(), codex_home(tmp_path / "home", server.base_url))
        (tmp_path / "work").mkdir()
        with pytest.raises(AgentFailed) as failed:
            asyncio.run(agent.run_step(_job(tmp_path / "work")))
    assert not failed.value.limited
    assert "run `codex login` for the ChatGPT plan, or export CODEX_API_KEY" in str(failed.value)
    assert "401 Unauthorized" in str(failed.value)
    assert failed.value.outcome.session_id, "what the run got to is still reported"


def test_instructions_reach_codex_verbatim_whatever_they_hold(tmp_path: Path) -> None:
    """Quotes, backslashes, newlines, emoji and control characters survive codex's `-c` parsing."""
    tricky = 'Say "done" \\ then\n\tstop 😀 \x7f \x01 = [not, toml'
    seen: list[str] = []

    def answer(request: SimRequest) -> SimReply:
        seen.append(request.system)
        return reply_text("done")

    with FakeServer(Rules((always, answer)), "openai") as server:
        agent = _agent(codex_binary(), codex_home(tmp_path / "home", server.base_url))
        (tmp_path / "work").mkdir()
        job = _job(tmp_path / "work").model_copy(update={"instructions": tricky})
        outcome = asyncio.run(agent.run_step(job))
    assert outcome.summary == "done"
    assert seen and tricky in seen[0]
