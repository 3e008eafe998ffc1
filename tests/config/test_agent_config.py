"""`[agents.NAME]` and executor choices naming agents: read, defaulted, and refused where wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.agents.registry import agent_env
from aifactory.agents.state import writable_state
from aifactory.config import AgentKind, ModelRef, load_config
from aifactory.errors import ConfigError


def _load(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_executor_may_name_agents_before_and_after_providers(tmp_path: Path) -> None:
    path = _load(
        tmp_path,
        "[roles.executor]\n"
        'model = ["claude-code:claude-sonnet-5-5", "claude-code@bedrock:us.anthropic.claude:0", '
        '"anthropic:claude-sonnet-5-5"]\n'
        '[agents."claude-code@bedrock"]\nenv = { CLAUDE_CODE_USE_BEDROCK = "1", AWS_REGION = "eu-west-1" }\n',
    )
    config = load_config(path)
    first, bedrock, builtin = config.roles["executor"].choices()
    assert config.agent(first) == config.agents["claude-code"]
    assert config.agents["claude-code"].kind is AgentKind.CLAUDE_CODE
    assert bedrock == ModelRef(provider="claude-code@bedrock", model="us.anthropic.claude:0")
    assert config.agents["claude-code@bedrock"].pass_env == ("AWS_*",), "the shipped default stays"
    assert config.agents["claude-code@bedrock"].env["AWS_REGION"] == "eu-west-1"
    assert config.agent(builtin) is None


def test_only_the_executor_may_name_an_agent(tmp_path: Path) -> None:
    path = _load(tmp_path, '[roles.planner]\nmodel = "claude-code:claude-sonnet-5-5"\n')
    with pytest.raises(
        ConfigError, match=r":2: \[roles.planner\] model: names agent 'claude-code': an agent"
    ):
        load_config(path)


def test_a_secret_written_into_an_agents_env_is_refused(tmp_path: Path) -> None:
    path = _load(tmp_path, '[agents.claude-code]\nenv = { ANTHROPIC_API_KEY = "sk-ant-123" }\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert ":2: [agents.claude-code] env: " in str(caught.value)
    assert "list its name in pass_env" in str(caught.value)
    assert "sk-ant-123" not in str(caught.value)


def test_an_agent_named_like_a_provider_is_refused_at_its_table(tmp_path: Path) -> None:
    path = _load(tmp_path, '[agents.anthropic]\nkind = "claude-code"\n')
    with pytest.raises(ConfigError, match=r":1: \[agents\] anthropic: 'anthropic' names both an agent"):
        load_config(path)


def test_an_unknown_agent_kind_names_the_line(tmp_path: Path) -> None:
    path = _load(tmp_path, '[agents.mine]\nkind = "devin"\n')
    with pytest.raises(ConfigError, match=r":2: \[agents.mine\] kind: .*'claude-code'"):
        load_config(path)


def test_an_agent_gets_its_own_variables_and_no_other_secret(tmp_path: Path) -> None:
    config = load_config(tmp_path / "absent.toml")
    factory = {
        "PATH": "/usr/bin",
        "HOME": "/home/dev",
        "OPENAI_API_KEY": "sk-openai",
        "ANTHROPIC_API_KEY": "sk-ant",
        "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "LOCAL_MODEL_KEY": "local",
    }
    subscription = agent_env(factory, config.agents["claude-code"], secret_names=["LOCAL_MODEL_KEY"])
    assert subscription == {
        "PATH": "/usr/bin",
        "HOME": "/home/dev",
        "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat01",
    }
    bedrock = agent_env(factory, config.agents["claude-code@bedrock"], secret_names=["LOCAL_MODEL_KEY"])
    assert bedrock == {
        "PATH": "/usr/bin",
        "HOME": "/home/dev",
        "AWS_SECRET_ACCESS_KEY": "aws-secret",
        "CLAUDE_CODE_USE_BEDROCK": "1",
    }


def test_a_new_agent_table_takes_what_it_leaves_out_from_its_kind(tmp_path: Path) -> None:
    path = _load(tmp_path, '[agents.mine]\nkind = "claude-code"\nbinary = "/opt/claude/bin/claude"\n')
    mine = load_config(path).agents["mine"]
    assert mine.binary == "/opt/claude/bin/claude"
    assert "Write" in mine.allowed_tools and mine.permission_mode == "acceptEdits"
    assert mine.pass_env == ("CLAUDE_CODE_OAUTH_TOKEN",)


def test_a_permission_mode_the_kind_does_not_offer_is_refused_with_the_ones_it_does(tmp_path: Path) -> None:
    path = _load(tmp_path, '[agents.mine]\nkind = "claude-code"\npermission_mode = "yolo"\n')
    with pytest.raises(ConfigError, match=r"agents\.mine.*permission_mode.*acceptEdits.*bypassPermissions"):
        load_config(path)


def test_a_codex_table_gets_codex_names_and_its_sandbox_modes(tmp_path: Path) -> None:
    path = _load(
        tmp_path,
        '[roles.executor]\nmodel = ["codex:gpt-5.1-codex", "anthropic:claude-sonnet-5-5"]\n'
        '[agents."codex@work"]\nkind = "codex"\nenv = { CODEX_HOME = "/home/dev/.codex-work" }\n',
    )
    config = load_config(path)
    first, _ = config.roles["executor"].choices()
    shipped, work = config.agent(first), config.agents["codex@work"]
    assert shipped is not None and shipped.kind is AgentKind.CODEX
    assert (work.binary, work.permission_mode, work.allowed_tools) == ("codex", "workspace-write", ())
    assert work.pass_env == ("CODEX_API_KEY",)
    wrong = _load(tmp_path, '[agents.codex]\nkind = "codex"\npermission_mode = "acceptEdits"\n')
    with pytest.raises(
        ConfigError, match=r"agents\.codex.*permission_mode.*workspace-write.*danger-full-access"
    ):
        load_config(wrong)


def test_an_agents_writable_paths_add_to_its_own_state_and_must_be_absolute(tmp_path: Path) -> None:
    path = _load(tmp_path, '[agents.codex]\nwritable = ["~/.npm", "/var/cache/tool"]\n')
    codex = load_config(path).agents["codex"]
    env = {"HOME": str(tmp_path / "home"), "CODEX_HOME": str(tmp_path / "codex")}
    assert writable_state(codex, env) == [
        tmp_path / "codex",
        Path("~/.npm").expanduser(),
        Path("/var/cache/tool"),
    ]
    assert (tmp_path / "codex").is_dir(), "its state folder is made, so it can be bound"
    claude = load_config(_load(tmp_path, "")).agents["claude-code"]
    assert writable_state(claude, env) == [tmp_path / "home" / ".claude"], "never the whole home"
    refused = _load(tmp_path, '[agents.codex]\nwritable = ["cache"]\n')
    with pytest.raises(ConfigError, match=r":2: \[agents.codex\] writable: .*'cache' is relative"):
        load_config(refused)
