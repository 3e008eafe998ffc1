"""Test projects on the simulated model: a real repository set up by `factory init`, real fake servers.

`SimProject.cli` runs the real `factory` command in a subprocess; `SimProject.session` gives the
service layer in-process, for tests that need to look inside. Both use the same configuration, which
points every role at local fake servers speaking the Anthropic and OpenAI wire protocols.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aifactory.domain.events import Event
from aifactory.service.project import Project, Session, open_project, session
from aifactory.service.setup import create_sample
from aifactory.testing import FakeServer, Scenario
from aifactory.testing.config import sim_config

KEY_VARIABLE = "FACTORY_TEST_KEY"
KEY = "sk-test-9f8e7d6c5b4a-SECRET"
SAMPLE = {"README.md": "# sample\n", "src/app.py": "def hello():\n    return 'hello'\n"}


@dataclass
class SimProject:
    repo: Path
    claude: FakeServer
    gpt: FakeServer
    events: list[Event] = field(default_factory=list)
    credentials: Mapping[str, str] = field(default_factory=dict)
    """Variables exported besides the test key, e.g. the AWS keys a Bedrock provider signs with."""

    @property
    def env(self) -> dict[str, str]:
        return {KEY_VARIABLE: KEY, **self.credentials}

    def cli(
        self, *args: str, timeout: float = 120, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `factory --repo REPO ARGS` as a user would, with the test key exported."""
        full_env = {**os.environ, **self.env, "COLUMNS": "200", **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "aifactory", "--repo", str(self.repo), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            check=False,
        )

    async def project(self) -> Project:
        return await open_project(self.repo)

    @contextmanager
    def session(self, project: Project, env: Mapping[str, str] | None = None) -> Iterator[Session]:
        """The service's session with every event also kept in `events`; `env` replaces the test key."""
        with session(project, self.events.append, env=self.env if env is None else env) as current:
            yield current

    def requests_for(self, tool: str) -> list[str]:
        """The prompts of every model request (to either server) that offered `tool`."""
        return [
            r.sim.prompt for server in (self.claude, self.gpt) for r in server.requests if r.sim.offers(tool)
        ]


@contextmanager
def sim_project(
    root: Path,
    scenario: Scenario,
    *,
    files: Mapping[str, str] = SAMPLE,
    test: str = "",
    run: Mapping[str, int | float | str] | None = None,
    lessons: Mapping[str, int | float | bool] | None = None,
    latency: float = 0.0,
    known_models: set[str] | None = None,
    timeout: float = 5.0,
) -> Iterator[SimProject]:
    """A committed repository with `factory init` done and every role on the simulated model."""
    with ExitStack() as stack:
        claude = stack.enter_context(
            FakeServer(scenario, "anthropic", latency=latency, known_models=known_models)
        )
        gpt = stack.enter_context(FakeServer(scenario, "openai", latency=latency, known_models=known_models))
        repo = root / "repo"

        config = sim_config(
            claude.base_url,
            gpt.base_url,
            key_variable=KEY_VARIABLE,
            worktrees=root / "worktrees",
            test=test,
            run={"model_retries": 2, "retry_backoff": 0.01, **(run or {})},
            lessons=lessons,
            timeout=timeout,
        )
        asyncio.run(create_sample(repo, files, config))
        yield SimProject(repo=repo, claude=claude, gpt=gpt)
