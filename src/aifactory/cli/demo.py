"""`factory demo`: the whole loop on a sample repository, with a simulated model, in under a minute.

Everything real except the model: git repositories and worktrees, the ledger, the project's test
command, the provider clients and their HTTP streams. The model is `aifactory.testing`'s simulated
team, served on 127.0.0.1 over the Anthropic and OpenAI wire protocols.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aifactory.cli.common import Options, console, execute
from aifactory.cli.progress import Progress
from aifactory.cli.running import print_outcome
from aifactory.domain.run import AttemptState
from aifactory.engine.run import RunOutcome
from aifactory.ledger.queries import RunDetail
from aifactory.service.inspect import show
from aifactory.service.planning import PlanResult, plan_ask
from aifactory.service.project import Project, open_project, session
from aifactory.service.running import RunStart, run
from aifactory.service.setup import create_sample
from aifactory.testing import FakeServer
from aifactory.testing.config import sim_config
from aifactory.testing.demo import ASK, SAMPLE_FILES, demo_answer, demo_scenario

KEY_VARIABLE = "FACTORY_DEMO_KEY"


def answer_as_demo_user(questions: Sequence[str]) -> list[str | None]:
    answers: list[str | None] = []
    for number, question in enumerate(questions, start=1):
        answer = demo_answer(question)
        console.print(f"  [bold]Q{number}.[/] {escape(question)}")
        console.print(f"  [dim]the demo answers as you would:[/] {escape(answer)}")
        answers.append(answer)
    return answers


def demo(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--folder", help="Where to create the sample repository (default: a new temporary folder)."
        ),
    ] = None,
) -> None:
    """See the whole loop on a sample repository with a simulated model: no network, no key needed."""
    started = time.monotonic()
    console.rule("[bold]aifactory demo[/] · simulated model (no network, no API key)")

    async def work(opts: Options) -> tuple[Project, PlanResult, RunOutcome]:
        root = folder or Path(tempfile.mkdtemp(prefix="factory-demo-"))
        repo = root / "shop"
        with FakeServer(demo_scenario(), "anthropic") as claude, FakeServer(demo_scenario(), "openai") as gpt:
            config = sim_config(
                claude.base_url,
                gpt.base_url,
                key_variable=KEY_VARIABLE,
                worktrees=root / "worktrees",
                test=f"{shlex.quote(sys.executable)} -m unittest -q",
                run={"attempts": 2},
            )
            await create_sample(repo, SAMPLE_FILES, config)
            project = await open_project(repo)
            console.print(f"sample repository: {repo}\nask: {ASK}\n")
            console.print("[bold]1. plan[/]: the planner asks, the plan reviewer writes the task list")
            with session(project, env={KEY_VARIABLE: "simulated"}) as current:
                planned = await plan_ask(current, ASK, [], answer_as_demo_user)
            console.print(f"  plan: {planned.path}")
            for number, step in enumerate(planned.plan.steps, start=1):
                console.print(f"  step {number}: {step.title}")
            console.print(
                "\n[bold]2. run[/]: two attempts in parallel worktrees, a commit per step, then verification"
            )
            with (
                Progress(console) as progress,
                session(project, progress, env={KEY_VARIABLE: "simulated"}) as current,
            ):
                outcome = await run(
                    current,
                    RunStart(plan_path=planned.path),
                    attempts=2,
                    answer=answer_as_demo_user,
                    notice=console.print,
                )
        return project, planned, outcome

    project, planned, outcome = execute(ctx, work)
    detail = show(project, outcome.run_id)
    print_outcome(detail, outcome)
    _where(project, planned, detail, time.monotonic() - started)
    expected = {AttemptState.PASSED, AttemptState.REJECTED}
    raise typer.Exit(0 if {a.state for a in detail.attempts} == expected else 1)


def _where(project: Project, planned: PlanResult, detail: RunDetail, seconds: float) -> None:
    console.rule("where everything is")
    console.print(f"repository  {project.root}")
    console.print(f"plan        {planned.path}")
    for attempt in detail.attempts:
        console.print(f"branch      {attempt.branch}  (worktree {attempt.worktree})")
    console.print(f"ledger      {project.ledger_path}")
    console.print(f"\nTry:  cd {project.root} && factory show {detail.id}")
    console.print(f"      factory diff {detail.id} a2    # the rejected attempt: see what the verifier saw")
    console.print(f"\ndemo finished in {seconds:.1f}s; every model answer above was simulated.")
