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
from aifactory.engine.run import Learned, RunOutcome, RunRequest, run_plan
from aifactory.engine.runners.local import LocalRunner
from aifactory.errors import UserError
from aifactory.roles.executor import check_agents
from aifactory.service import injection, planning
from aifactory.service.planning import Answerer, plan_ask, read_plan
from aifactory.service.project import FACTORY_DIR, PLANS_DIR, Session

Notice = Callable[[str], None]


@dataclass(frozen=True)
class RunStart:
    """What to run: an existing plan file, or (without one) the ask to plan first."""

    plan_path: Path | None = None
    ask: str = ""
    context: Sequence[Path] = ()


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
    base = await project.git.require_head()
    session.kit.catalog.check(list(Role))
    await check_agents(session.kit)
    plan_path = start.plan_path
    if plan_path is None:
        planned = await plan_ask(session, start.ask, start.context, answer)
        notice(f"plan written to {planned.path}")
        plan_path = planned.path
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
    await _warn_if_dirty(session, base, notice)
    run_id = new_run_id(plan.title)
    factory = Factory(
        kit=session.kit,
        git=project.git,
        sink=session.events,
        logs=project.logs_dir,
        command_env=project.command_env(),
    )
    first_path = plan_path

    async def replan(number: int) -> RoundPlan:
        planned = await planning.replan(session, plan, first_path, number, run_id)
        notice(f"round {number}: the plan was written again from the changed blueprint: {planned.path}")
        return _round_plan(session, planned.plan, planned.path)

    async def learn_from(outcome: RoundOutcome) -> Learned:
        if not learning:
            return Learned(changed=False, summary="learning is off for this run")
        return await learn(factory, run_id, base, outcome)

    request = RunRequest(
        run_id=run_id,
        base_commit=base,
        attempts=attempts,
        rounds=(rounds or project.config.run.rounds) if learning else 1,
        worktree_root=project.worktree_root(),
        first=_round_plan(session, plan, plan_path),
    )
    runner = LocalRunner(project.config.run.max_parallel)
    return await run_plan(factory, request, runner, replan=replan, learn=learn_from)


def _round_plan(session: Session, plan: Plan, path: Path) -> RoundPlan:
    return RoundPlan(
        plan=plan,
        plan_text=planfile.render(plan),
        plan_path=planning.shown_path(session.project.root, path),
        blueprint=injection.version_in_view(session),
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
