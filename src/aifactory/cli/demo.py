"""`factory demo`: the whole loop on a sample repository, with a simulated model, in under a minute.

Everything real except the model: git repositories and worktrees, the ledger, the lesson files and
their checks, the project's test command, the provider clients and their HTTP streams. The model
is `aifactory.testing`'s simulated team, served on 127.0.0.1 over the Anthropic and OpenAI wire
protocols. Two tasks show the factory learn: the first is rejected in round 1, its finding becomes
a lesson with a proven check, and round 2 passes; the second passes at once because its plan
carries the lesson.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aifactory.cli.checking import print_findings
from aifactory.cli.common import Options, console, execute
from aifactory.cli.progress import Progress
from aifactory.cli.running import print_outcome
from aifactory.cli.stats import print_curve
from aifactory.engine.run import RunOutcome
from aifactory.service.branches import merge
from aifactory.service.checking import CheckRequest, check
from aifactory.service.inspect import show
from aifactory.service.planning import PlanResult, plan_ask
from aifactory.service.project import Project, open_project, session
from aifactory.service.running import RunStart, run
from aifactory.service.setup import create_sample
from aifactory.service.stats import learning_curve
from aifactory.testing import FakeServer
from aifactory.testing.config import sim_config
from aifactory.testing.demo import ASKS, demo_answer, demo_scenario
from aifactory.testing.democode import SAMPLE_FILES

KEY_VARIABLE = "FACTORY_DEMO_KEY"
_ENV = {KEY_VARIABLE: "simulated"}


def answer_as_demo_user(questions: Sequence[str]) -> list[str | None]:
    answers: list[str | None] = []
    for number, question in enumerate(questions, start=1):
        answer = demo_answer(question)
        console.print(f"  [bold]Q{number}.[/] {escape(question)}")
        console.print(f"  [dim]the demo answers as you would:[/] {escape(answer)}")
        answers.append(answer)
    return answers


@dataclass(frozen=True)
class _Task:
    planned: PlanResult
    outcome: RunOutcome


def demo(
    ctx: typer.Context,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--folder", help="Where to create the sample repository (default: a new temporary folder)."
        ),
    ] = None,
) -> None:
    """See the whole loop, learning included, on a sample repository with a simulated model: no key needed."""
    started = time.monotonic()
    console.rule("[bold]aifactory demo[/] · simulated model (no network, no API key)")

    async def work(opts: Options) -> tuple[Project, list[_Task]]:
        root = folder or Path(tempfile.mkdtemp(prefix="factory-demo-"))
        repo = root / "shop"
        with FakeServer(demo_scenario(), "anthropic") as claude, FakeServer(demo_scenario(), "openai") as gpt:
            config = sim_config(
                claude.base_url,
                gpt.base_url,
                key_variable=KEY_VARIABLE,
                worktrees=root / "worktrees",
                test=f"{shlex.quote(sys.executable)} -m unittest -q",
                run={"attempts": 2, "rounds": 3},
            )
            await create_sample(repo, SAMPLE_FILES, config)
            project = await open_project(repo)
            console.print(f"sample repository: {repo}\n")
            tasks = []
            for number, ask in enumerate(ASKS, start=1):
                tasks.append(await _task(project, number, ask))
                if number == 1:
                    await _show_check(project, tasks[0].outcome.run_id)
                best = tasks[-1].outcome.ranking
                if best:
                    merged = await merge(project, tasks[-1].outcome.run_id, best[0])
                    console.print(f"\nmerged {best[0]} into {merged.into} ({merged.commit[:10]})")
        return project, tasks

    project, tasks = execute(ctx, work)
    console.rule("the learning curve ([bold]factory stats[/])")
    print_curve(console, learning_curve(project))
    _where(project, tasks, time.monotonic() - started)
    first, second = (task.outcome for task in tasks)
    learned = len(first.rounds) == 2 and first.ranking and len(second.rounds) == 1 and second.ranking
    raise typer.Exit(0 if learned else 1)


async def _task(project: Project, number: int, ask: str) -> _Task:
    console.rule(f"task {number}")
    console.print(f"ask: {escape(ask)}\n")
    console.print(
        "[bold]plan[/]: the planner asks, the plan reviewer writes the task list; lessons ride along"
    )
    with session(project, env=_ENV) as current:
        planned = await plan_ask(current, ask, [], answer_as_demo_user)
    console.print(f"  plan: {planned.path}")
    carried = ", ".join(lesson.id for lesson in planned.plan.lessons) or "none yet"
    console.print(f"  lessons the plan carries: {escape(carried)}")
    for step_number, step in enumerate(planned.plan.steps, start=1):
        console.print(f"  step {step_number}: {escape(step.title)}")
    console.print(
        "\n[bold]run[/]: rounds of two attempts in parallel worktrees, a commit per step, then verification"
    )
    with Progress(console) as progress, session(project, progress, env=_ENV) as current:
        outcome = await run(
            current,
            RunStart(plan_path=planned.path),
            attempts=2,
            answer=answer_as_demo_user,
            notice=console.print,
        )
    print_outcome(show(project, outcome.run_id), outcome)
    return _Task(planned=planned, outcome=outcome)


async def _show_check(project: Project, run_id: str) -> None:
    """The learned check as a linter, on the code round 1 was rejected for: it fires."""
    rejected = f"{run_id}/a1"
    console.print(f"\n[bold]the learned check[/]: factory check --on {rejected}")
    with session(project, env=_ENV) as current:
        print_findings(await check(current, CheckRequest(attempt=rejected)))


def _where(project: Project, tasks: list[_Task], seconds: float) -> None:
    console.rule("where everything is")
    console.print(f"repository  {project.root}")
    console.print(f"lessons     {project.blueprint_dir / 'lessons'}")
    console.print(f"ledger      {project.ledger_path}")
    for task in tasks:
        console.print(f"run         {task.outcome.run_id}  (plan {task.planned.path})")
    first = tasks[0].outcome
    console.print(f"\nTry:  cd {project.root} && factory stats")
    console.print("      factory lessons                # what the factory learned, as files to review")
    console.print(f"      factory show {first.run_id}")
    console.print(f"      factory diff {first.run_id} a1    # round 1: the code the verifier rejected")
    console.print("      factory check                   # the learned check, as a linter on the tree")
    console.print(f"\ndemo finished in {seconds:.1f}s; every model answer above was simulated.")
