"""How much the factory adds to the model's own latency when attempts run in parallel.

The simulated model answers every call after a fixed latency, from another process (as a real
provider would: its time is not the factory's CPU). A plan of S steps costs each attempt 2·S
executor calls (one tool call and `step_done` per step) and one round of the two verifiers, which
run at once: that chain of calls is the critical path, the ideal wall time of a run however many
attempts run in parallel. The baseline is that same chain of calls measured in this run, straight
through the provider client, with no factory around it. Printed: wall time / ideal, and wall time /
measured baseline, for N = 1, 4, 12 attempts. Target on 2 cores: ≤ 1.15 at N = 12.

    python benchmarks/overhead.py [--steps 5] [--latency 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pydantic_ai.messages import ModelRequest, UserPromptPart
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.tools import ToolDefinition

from aifactory.domain.run import Role
from aifactory.providers.calls import CallScope
from aifactory.service.planning import no_answers, plan_ask
from aifactory.service.project import open_project, session
from aifactory.service.running import RunStart, run
from aifactory.service.setup import create_sample
from aifactory.testing.config import sim_config

KEY_VARIABLE = "FACTORY_BENCH_KEY"
ENV = {KEY_VARIABLE: "simulated"}


def serve(steps: int, latency: float) -> tuple[subprocess.Popen[str], str, str]:
    """The simulated model in its own process; returns it and its Anthropic and OpenAI URLs."""
    server = subprocess.Popen(
        [sys.executable, "-m", "aifactory.testing", "--steps", str(steps), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    urls = dict(server.stdout.readline().split() for _ in range(2))
    return server, urls["anthropic"], urls["openai"]


async def setup(root: Path, anthropic: str, openai: str) -> Path:
    repo = root / "repo"
    config = sim_config(anthropic, openai, key_variable=KEY_VARIABLE, worktrees=root / "worktrees", run={})
    await create_sample(repo, {"README.md": "# bench\n"}, config)
    project = await open_project(repo)
    with session(project, env=ENV) as current:
        planned = await plan_ask(current, "Write the notes", [], no_answers)
    return planned.path


async def baseline(repo: Path, calls: int) -> float:
    """The critical path's calls made back to back through the same client, nothing else."""
    project = await open_project(repo)
    with session(project, env=ENV) as current:
        model = current.kit.catalog.model(Role.EXECUTOR, CallScope(role=Role.EXECUTOR))
        settings = current.kit.catalog.settings(Role.EXECUTOR)
        step_done = ToolDefinition(
            name="step_done", parameters_json_schema={"type": "object", "properties": {}}
        )
        parameters = ModelRequestParameters(function_tools=[step_done])
        message = ModelRequest(parts=[UserPromptPart(content="# Your step: 1 of 1: Write note 1")])
        started = time.perf_counter()
        for _ in range(calls):
            await model.request([message], settings, parameters)
        return time.perf_counter() - started


async def timed_run(repo: Path, plan: Path, attempts: int) -> float:
    project = await open_project(repo, overrides={"run": {"max_parallel": attempts}})
    with session(project, env=ENV) as current:
        started = time.perf_counter()
        outcome = await run(
            current, RunStart(plan_path=plan), attempts=attempts, answer=no_answers, notice=print
        )
        elapsed = time.perf_counter() - started
    passed = len(outcome.ranking)
    if passed != attempts:
        raise SystemExit(f"only {passed} of {attempts} attempts passed; the benchmark measures passing runs")
    return elapsed


async def measure(steps: int, latency: float, sizes: list[int]) -> None:
    server, anthropic, openai = serve(steps, latency)
    try:
        with tempfile.TemporaryDirectory(prefix="factory-bench-") as folder:
            plan = await setup(Path(folder), anthropic, openai)
            repo = Path(folder) / "repo"
            calls = 2 * steps + 1
            ideal = calls * latency
            measured = await baseline(repo, calls)
            print(
                f"steps {steps}, latency {latency}s, critical path {calls} calls: "
                f"ideal {ideal:.2f}s, measured {measured:.2f}s"
            )
            print(f"{'attempts':>8}  {'wall s':>7}  {'/ideal':>7}  {'/measured':>9}")
            for attempts in sizes:
                wall = await timed_run(repo, plan, attempts)
                print(f"{attempts:>8}  {wall:7.2f}  {wall / ideal:7.3f}  {wall / measured:9.3f}")
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--attempts", type=int, nargs="+", default=[1, 4, 12])
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}")
    asyncio.run(measure(args.steps, args.latency, args.attempts))


if __name__ == "__main__":
    main()
