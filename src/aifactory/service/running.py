"""`factory run`: attempts of a plan in worktrees, verified, with the ledger recording everything."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aifactory.domain import planfile
from aifactory.domain.run import Role, new_run_id
from aifactory.engine.context import Factory
from aifactory.engine.run import RunOutcome, RunRequest, run_plan
from aifactory.engine.runners.local import LocalRunner
from aifactory.errors import UserError
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
    session: Session, start: RunStart, *, attempts: int, answer: Answerer, notice: Notice
) -> RunOutcome:
    """Plan if needed, then run `attempts` attempts of the plan from HEAD."""
    project = session.project
    base = await project.git.require_head()
    session.kit.catalog.check(list(Role))
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
    request = RunRequest(
        run_id=new_run_id(plan.title),
        plan=plan,
        plan_text=planfile.render(plan),
        plan_path=_shown(project.root, plan_path),
        base_commit=base,
        attempts=attempts,
        worktree_root=project.worktree_root(),
    )
    factory = Factory(
        kit=session.kit,
        git=project.git,
        sink=session.events,
        logs=project.logs_dir,
        command_env=project.command_env(),
    )
    return await run_plan(factory, request, LocalRunner(project.config.run.max_parallel))


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


def _shown(root: Path, path: Path) -> str:
    resolved = path.resolve()
    return (
        resolved.relative_to(root.resolve()).as_posix()
        if resolved.is_relative_to(root.resolve())
        else str(resolved)
    )
