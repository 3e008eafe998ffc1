"""Claude Code as an executor: `claude -p` headless in the attempt's worktree, one run per step.

The prompt goes in on stdin (a plan can outgrow one command-line argument), the role's instructions
are appended to Claude Code's own system prompt, and `--resume` carries the session of the
attempt's previous step on, so the agent keeps its context between steps. Its stream-json output is
read line by line as it arrives (`claude_stream.py` judges it); the process group is killed at the
step's time limit, on Ctrl-C, and when the run ends, so nothing it started outlives the step.
The CLI retries a 429 or 529 itself only `retries` times: the factory's pool decides what comes next.

MCP servers that `[roles.executor] mcp_tools` grants are started by Claude Code itself: their
configuration is written to a private temporary folder, outside the worktree, and passed with
`--mcp-config` and `--strict-mcp-config` (only those servers, not the user's own), and the granted
tools are added to `--allowedTools` as `mcp__NAME__TOOL` (`mcp__NAME` for a whole server).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from aifactory.agents.base import AgentFailed, StepJob, StepOutcome
from aifactory.agents.claude_stream import ClaudeStream, conclude
from aifactory.agents.headless import run_headless, settle
from aifactory.agents.mcp_offer import McpOffer
from aifactory.agents.release import Release, check_version
from aifactory.agents.state import writable_state
from aifactory.config.agents import AgentConfig

TESTED_VERSION = "2.1.331"
"""The release the factory's tests run (CI installs it); older 2.x releases stream the same events."""
RELEASE = Release(
    product="Claude Code",
    minimum=(2, 0, 0),
    install=f"npm install -g @anthropic-ai/claude-code@{TESTED_VERSION}",
)
"""The release the parser was recorded from; older ones are refused."""
MCP_ENV = {"ENABLE_TOOL_SEARCH": "false"}
"""Claude Code hides MCP tools behind its ToolSearch tool unless told not to; offer them at once."""
_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]")


class ClaudeCodeAgent:
    """Runs one step with the Claude Code CLI; see the module docstring."""

    def __init__(self, name: str, config: AgentConfig, model: str, env: Mapping[str, str]) -> None:
        self.name = name
        self._config = config
        self._model = model
        self._env = {
            **env,
            "CLAUDE_CODE_MAX_RETRIES": str(config.retries),
            "DISABLE_AUTOUPDATER": "1",
        }

    async def check(self) -> str:
        """The CLI's version, once per binary per process; refuses a missing or too old one."""
        return await check_version(self.name, self._config.binary, self._env, RELEASE)

    async def run_step(self, job: StepJob) -> StepOutcome:
        await self.check()
        if job.mcp is None:
            return await self._run(job, self._argv(job), self._env)
        if job.mcp.problem is not None:
            raise AgentFailed(job.mcp.problem, StepOutcome(summary=job.mcp.problem))
        with tempfile.TemporaryDirectory(prefix="aifactory-mcp-") as folder:
            config = Path(folder) / "mcp.json"
            config.write_text(job.mcp.config_json(), encoding="utf-8")
            argv = self._argv(job, allowed=mcp_allowed(job.mcp))
            argv += ["--mcp-config", str(config), "--strict-mcp-config"]
            milliseconds = str(round(job.mcp.timeout * 1000))
            env = {**self._env, **MCP_ENV, "MCP_TIMEOUT": milliseconds, "MCP_TOOL_TIMEOUT": milliseconds}
            return await self._run(job, argv, env)

    async def _run(self, job: StepJob, argv: list[str], env: Mapping[str, str]) -> StepOutcome:
        stream = ClaudeStream(on_tool=job.on_tool, root=str(job.worktree))
        ran = await run_headless(
            job,
            argv,
            stream,
            prompt=job.prompt,
            env=env,
            writable=writable_state(self._config, self._env),
            limit_s=self._config.timeout,
            name=self.name,
        )
        stream.flush()
        ending = conclude(stream, ran.exited, ran.stderr)
        outcome = StepOutcome(
            summary=ending.text,
            tool_calls=stream.tool_calls,
            usage=stream.usage,
            duration_ms=ran.duration_ms,
            session_id=stream.session_id,
        )
        return settle(
            ending,
            outcome,
            who=f"{self.name} ({self._model})",
            login_fix=self._login_fix,
            retry_after=stream.retry_delay_s,
        )

    def _argv(self, job: StepJob, allowed: tuple[str, ...] = ()) -> list[str]:
        tools = ",".join((*self._config.allowed_tools, *allowed))
        argv = [self._config.binary, "-p", "--output-format", "stream-json", "--verbose"]
        argv += ["--model", self._model, "--permission-mode", self._config.permission_mode]
        argv += ["--allowedTools", tools, "--max-turns", str(job.max_turns)]
        argv += ["--append-system-prompt", job.instructions]
        return [*argv, "--resume", job.resume] if job.resume else argv

    def _login_fix(self, said: str) -> str:
        if self._env.get("CLAUDE_CODE_USE_BEDROCK") == "1":
            return (
                f"{self.name} could not authenticate with AWS ({said}): export AWS credentials (AWS_PROFILE, "
                f"or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and AWS_REGION, which [agents.{self.name}] "
                'passes on with pass_env = ["AWS_*"], and check the account\'s access to the model'
            )
        return (
            f"{self.name} could not log in ({said}): run `claude login` for the subscription, or "
            f"`claude setup-token` and export CLAUDE_CODE_OAUTH_TOKEN; for an API key export "
            f"ANTHROPIC_API_KEY and add it to [agents.{self.name}] pass_env (Bedrock: the AWS_* "
            "variables and env.AWS_REGION)"
        )


def mcp_allowed(offer: McpOffer) -> tuple[str, ...]:
    """The granted tools as Claude Code names them: `mcp__NAME__TOOL`, or `mcp__NAME` for a server."""
    return tuple(
        f"mcp__{grant.server}"
        if grant.tool is None
        else f"mcp__{grant.server}__{_TOOL_NAME.sub('_', grant.tool)}"
        for grant in offer.granted()
    )
