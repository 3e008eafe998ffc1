"""`factory run`: attempts of a plan in worktrees, verified, with the ledger recording everything."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aifactory.domain import planfile
from aifactory.domain.lesson import enforced_checks
from aifactory.domain.plan import Plan
from aifactory.domain.run import Role, new_run_id
from aifactory.engine.context import Factory
from aifactory.engine.learn import learn
from aifactory.engine.round import RoundOutcome, RoundPlan
from aifactory.engine.run import Learn, Learned, Replan, RunOutcome, RunRequest, run_plan
from aifactory.engine.runners.local import LocalRunner
from aifactory.engine.small_agents import check_enabled
from aifactory.errors import UserError
from aifactory.roles.executor import check_agents
from aifactory.service import injection, planning
from aifactory.service.planning import Answerer, ask_title, plan_ask, read_plan
from aifactory.service.project import FACTORY_DIR, PLANS_DIR, Session, budget_of
from aifactory.workspace.sandbox import choose

Notice = Callable[[str], None]


@dataclass(frozen=True)
class RunStart:
    """What to run: an existing plan file, or (without one) the ask to plan first."""

    plan_path: Path | None = None
    ask: str = ""
    context: Sequence[Path] = ()
    base: str | None = None
    """The commit attempts branch from; None: HEAD (a workflow's step runs from its own branch)."""
    run_id: str | None = None
    """The id to record the run under; given when a launcher must name the run before it starts."""


async def run(
    session: Session,
    start: RunStart,
    *,
    attempts: int,
    rounds: int | None = None,
    learning: bool = True,
    answer: Answerer,
    notice: Notice,
) -> RunOutcome:
    """Plan if needed, then run rounds of `attempts` attempts of the plan from HEAD.

    Without `learning` (replays, which measure the blueprint rather than change it), rounds teach
    nothing, so a run is one round.
    """
    project = session.project
    base = start.base or await project.git.require_head()
    session.kit.catalog.check(list(Role))
    await check_agents(session.kit)
    choose(project.config.run.sandbox)  # a "bwrap" that cannot run is refused before any work
    check_enabled(session.kit)
    plan_path = start.plan_path
    run_id = start.run_id
    if plan_path is None:
        run_id = run_id or new_run_id(ask_title(start.ask))
        planned = await plan_ask(session, start.ask, start.context, answer, run_id)
        notice(f"plan written to {planned.path}")
        plan_path = planned.path
    plan = runnable(plan_path)
    if start.base is None:
        await _warn_if_dirty(session, base, notice)
    run_id = run_id or new_run_id(plan.title)
    factory, replan, learn_from = wired(
        session, run_id, base, plan, plan_path, learning=learning, notice=notice
    )
    budget = budget_of(project.config)
    request = RunRequest(
        run_id=run_id,
        base_commit=base,
        attempts=attempts,
        rounds=(rounds or project.config.run.rounds) if learning else 1,
        worktree_root=project.worktree_root(),
        first=round_plan(session, plan, plan_path),
        max_cost=budget.run_cost,
        max_tokens=budget.run_tokens,
        learning=learning,
    )
    runner = LocalRunner(project.config.run.max_parallel)
    return await run_plan(factory, request, runner, replan=replan, learn=learn_from)


def runnable(plan_path: Path) -> Plan:
    """The plan at `plan_path`, refused while a question is open or its task list is missing."""
    plan = read_plan(plan_path)
    if plan.open_questions:
        listed = "; ".join(
            f"Q{index}. {q.text}" for index, q in enumerate(plan.questions, start=1) if q.is_open
        )
        raise UserError(
            f"{plan_path} has {len(plan.open_questions)} open question(s) ({listed}): "
            f"answer them in the file or with `factory plan --answer {plan_path}`, then run it"
        )
    if not plan.steps:
        raise UserError(
            f"{plan_path} has no task list yet: complete it with `factory plan --answer {plan_path}`"
        )
    return plan


def wired(
    session: Session, run_id: str, base: str, first: Plan, first_path: Path, *, learning: bool, notice: Notice
) -> tuple[Factory, Replan, Learn]:
    """What the engine works with for one run, and how it rewrites the plan and learns between rounds.

    Refuses a `[run] sandbox = "bwrap"` that cannot run, and warns once when "auto" found none.
    """
    if warning := choose(session.project.config.run.sandbox).warning:
        notice(warning)
    factory = wired_factory(session)

    async def replan(number: int) -> RoundPlan:
        planned = await planning.replan(session, first, first_path, number, run_id)
        notice(f"round {number}: the plan was written again from the changed blueprint: {planned.path}")
        return round_plan(session, planned.plan, planned.path)

    async def learn_from(outcome: RoundOutcome) -> Learned:
        if not learning:
            return Learned(changed=False, summary="learning is off for this run")
        return await learn(factory, run_id, base, outcome)

    return factory, replan, learn_from


def wired_factory(session: Session) -> Factory:
    """What the engine works with in this session's repository: roles, git, events, logs, commands' env."""
    project = session.project
    return Factory(
        kit=session.kit,
        git=project.git,
        sink=session.events,
        logs=project.logs_dir,
        command_env=project.command_env(),
    )


def round_plan(session: Session, plan: Plan, path: Path, blueprint: str | None = None) -> RoundPlan:
    """A plan as a round runs it, held to the lesson checks in force now; its blueprint version is
    the one in view unless given (a resumed round keeps the one its plan was written from)."""
    return RoundPlan(
        plan=plan,
        plan_text=planfile.render(plan),
        plan_path=planning.shown_path(session.project.root, path),
        blueprint=blueprint or injection.version_in_view(session),
        checks=enforced_checks(injection.lessons_in_view(session)),
    )


async def _warn_if_dirty(session: Session, base: str, notice: Notice) -> None:
    """Attempts branch from HEAD; say so when the working tree holds changes they will not see."""
    changed = [
        path
        for path in await session.project.git.dirty_paths()
        if not path.startswith((f"{FACTORY_DIR}/", f"{PLANS_DIR}/"))
    ]
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        notice(
            f"{len(changed)} uncommitted change(s) are not included ({shown}): "
            f"attempts branch from HEAD ({base[:10]}); commit them first if the attempts need them"
        )
