"""A whole `factory plan` and `factory run`, as a user types them, with every role on one provider kind
(and, for the OpenAI kinds, each of OpenAI's two APIs)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aifactory.domain.run import Role
from aifactory.service.setup import create_sample
from aifactory.testing import FakeServer, WireProtocol
from aifactory.testing.team import scripted_team, step_file
from tests.support import git

AZURE = 'endpoint = "{url}"\napi_version = "%s"\napi_key_env = "AZURE_OPENAI_API_KEY"'

KINDS: dict[str, tuple[str, WireProtocol, str, str, dict[str, str]]] = {
    "openai-compatible": ("openai-compatible", "openai", "qwen3-coder:30b", 'base_url = "{url}"', {}),
    "openai": (
        "openai",
        "openai-responses",
        "gpt-5.5-pro",
        'base_url = "{url}"\napi_key_env = "OPENAI_API_KEY"',
        {"OPENAI_API_KEY": "sk-test"},
    ),
    "azure-openai": (
        "azure-openai",
        "azure-openai",
        "gpt-4o-prod",
        AZURE % "2024-10-21",
        {"AZURE_OPENAI_API_KEY": "azure-key"},
    ),
    "azure-openai-responses": (
        "azure-openai",
        "azure-openai-responses",
        "gpt-5-codex-prod",
        AZURE % "2025-04-01-preview" + '\napi = "responses"',
        {"AZURE_OPENAI_API_KEY": "azure-key"},
    ),
    "bedrock": (
        "bedrock",
        "bedrock",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        'region = "us-east-1"\nbase_url = "{url}"',
        {"AWS_ACCESS_KEY_ID": "AKIAFAKEFACTORY1", "AWS_SECRET_ACCESS_KEY": "fake-secret"},
    ),
}
"""Case → (the provider's kind, the fake server's protocol, a model, the provider table's settings, the
environment). Kind `openai` speaks the Responses API unless told otherwise."""


def _config(case: str, url: str, worktrees: Path) -> str:
    kind, _, model, settings, _ = KINDS[case]
    roles = "".join(f'[roles.{role.value}]\nmodel = "only:{model}"\n' for role in Role)
    table = f'[providers.only]\nkind = "{kind}"\n{settings.format(url=url)}\ntimeout = 10.0\n'
    return f'[run]\nmodel_retries = 2\nretry_backoff = 0.01\nworktrees = "{worktrees}"\n{roles}{table}'


def _factory(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aifactory", "--repo", str(repo), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env, "COLUMNS": "200"},
        check=False,
    )


@pytest.mark.parametrize("case", list(KINDS))
def test_a_run_plans_executes_and_verifies_on_one_provider_kind(tmp_path: Path, case: str) -> None:
    kind, protocol, model, _, env = KINDS[case]
    repo = tmp_path / "repo"
    with FakeServer(scripted_team(steps=2), protocol, known_models={model}) as server:
        config = _config(case, server.base_url, tmp_path / "worktrees")
        asyncio.run(create_sample(repo, {"README.md": "# sample\n"}, config))
        planned = _factory(repo, env, "plan", "Write two notes", "--no-interactive")
        assert planned.returncode == 0, planned.stderr
        plan = re.search(r"(\S+-plan\.md)", planned.stdout)
        assert plan, planned.stdout
        ran = _factory(repo, env, "run", plan.group(1), "--attempts", "1")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    run = re.search(r"run (\S+): 1 attempt", ran.stdout)
    assert run, ran.stdout
    branch = f"factory/{run.group(1)}/a1"
    assert git(repo, "show", f"{branch}:{step_file(2)}") == "note 2 written by a1\n"
    assert {r.sim.model for r in server.requests} == {model}
    assert {r.sim.protocol for r in server.requests} == {protocol}
    [billed] = json.loads(_factory(repo, env, "usage", "--by", "provider", "--json").stdout)["lines"]
    assert billed["key"] == "only" and billed["failed"] == 0
    assert billed["calls"] == len(server.requests)
    if kind != "bedrock":  # OpenAI's APIs cache repeated prefixes themselves; Converse only at cache points
        assert 0 < billed["cache_read_tokens"] < billed["input_tokens"], "repeated prompts read the cache"
