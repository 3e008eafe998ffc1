"""`factory plan`: ask → clarifying questions → plan → reviewed task list, written to plans/."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aifactory.domain import planfile
from aifactory.domain.plan import Plan, Question, slugify
from aifactory.domain.run import Role
from aifactory.errors import NotFoundError, PlanFileError
from aifactory.roles import planner, reviewer
from aifactory.roles.kit import ContextDoc
from aifactory.service import injection
from aifactory.service.project import Session

Answerer = Callable[[Sequence[str]], list[str | None]]
"""Given questions, returns an answer for each, or None to leave it open."""


def no_answers(questions: Sequence[str]) -> list[str | None]:
    """The answerer for non-interactive use: every question stays open in the plan file."""
    return [None for _ in questions]


@dataclass(frozen=True)
class PlanResult:
    path: Path
    plan: Plan


def ask_title(ask: str) -> str:
    """A plan's title until the planner names it: the ask's first line."""
    return next(iter(ask.strip().splitlines()), "")[:80]


async def plan_ask(
    session: Session, ask: str, context: Sequence[Path], answer: Answerer, run_id: str | None = None
) -> PlanResult:
    """Plan `ask` from scratch; the file is written even when questions stay open.

    `run_id` is the run the planning is for (`factory run "ASK"`), so its calls are charged to it.
    """
    project = session.project
    session.kit.catalog.check([Role.PLANNER, Role.PLAN_REVIEWER])
    paths = [_display_path(project.root, path) for path in context]
    docs = read_context(project.root, paths, cap=project.config.plan.context_cap)
    questions = await planner.clarify(session.kit, ask, docs, run_id)
    answers = answer(questions)
    plan = Plan(
        title=ask_title(ask),
        ask=ask,
        context=tuple(paths),
        questions=tuple(Question(text=q, answer=a) for q, a in zip(questions, answers, strict=True)),
    )
    path = _new_plan_path(project.plans_dir, ask)
    return await _complete(session, plan, path, docs, run_id=run_id)


async def answer_plan(session: Session, path: Path, answer: Answerer) -> PlanResult:
    """Fill in the open questions of an existing plan, then plan and review what is missing."""
    plan = read_plan(path)
    open_questions = plan.open_questions
    if open_questions:
        answers = iter(answer([q.text for q in open_questions]))
        plan = plan.model_copy(
            update={
                "questions": tuple(
                    Question(text=q.text, answer=next(answers)) if q.is_open else q for q in plan.questions
                )
            }
        )
    docs = read_context(session.project.root, plan.context, cap=session.project.config.plan.context_cap)
    return await _complete(session, plan, path, docs)


async def replan(session: Session, plan: Plan, path: Path, number: int, run_id: str) -> PlanResult:
    """Round `number`'s plan: the same ask and answers, drafted and reviewed again from the blueprint
    as it is now, so the lessons the last round taught are in it. Written beside the first plan."""
    fresh = Plan(title=plan.title, ask=plan.ask, context=plan.context, questions=plan.questions)
    docs = read_context(session.project.root, plan.context, cap=session.project.config.plan.context_cap)
    target = path.with_name(f"{path.stem}-round{number}{path.suffix}")
    return await _complete(session, fresh, target, docs, run_id=run_id)


async def _complete(
    session: Session, plan: Plan, path: Path, docs: Sequence[ContextDoc], run_id: str | None = None
) -> PlanResult:
    """Draft and review whatever the plan still lacks, unless a question is open; write the file.

    The planner drafts with the lessons matching what the ask names; once the task list names the
    files, the lessons are chosen again against them, and that final choice is what the plan carries.
    """
    reviewed = False
    if not plan.open_questions:
        if not plan.body:
            lessons = injection.carried(session, await injection.before_drafting(session, plan, docs))
            draft = await planner.draft(session.kit, plan.ask, docs, plan.questions, lessons, run_id=run_id)
            plan = plan.model_copy(
                update={"title": draft.title, "body": draft.body, "kind": draft.kind, "lessons": lessons}
            )
        if not plan.steps:
            plan = await reviewer.review(session.kit, plan, docs, run_id)
            task = await injection.after_review(session, plan)
            plan = plan.model_copy(update={"lessons": injection.carried(session, task)})
            reviewed = True
    write_plan(path, plan)
    if reviewed:
        await injection.record_plan(session, plan, shown_path(session.project.root, path))
    return PlanResult(path=path, plan=plan)


def shown_path(root: Path, path: Path) -> str:
    """A path as the ledger and messages show it: relative to the repository when inside it."""
    resolved = path.resolve()
    return (
        resolved.relative_to(root.resolve()).as_posix()
        if resolved.is_relative_to(root.resolve())
        else str(resolved)
    )


def read_plan(path: Path) -> Plan:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f'no plan file at {path}: create one with `factory plan "ASK"`') from None
    except (OSError, UnicodeDecodeError) as error:
        raise PlanFileError(f"cannot read the plan file: {error}", path=path) from None
    return planfile.parse(text, path=path)


def write_plan(path: Path, plan: Plan) -> None:
    """Write atomically, so a crash never leaves half a plan."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".md.partial")
    partial.write_text(planfile.render(plan), encoding="utf-8")
    partial.replace(path)


def read_context(root: Path, paths: Sequence[str], *, cap: int) -> list[ContextDoc]:
    """Read each context document up to `cap` characters, streaming, so a huge file is not loaded whole."""
    docs = []
    for name in paths:
        path = root / name
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                text = handle.read(cap + 1)
        except OSError as error:
            raise NotFoundError(f"cannot read context document {name}: {error.strerror}") from None
        if len(text) > cap:
            text = text[:cap] + f"\n… (cut at {cap} characters)"
        docs.append(ContextDoc(path=name, text=text))
    return docs


def _display_path(root: Path, path: Path) -> str:
    resolved = path.resolve()
    if not resolved.is_file():
        raise NotFoundError(f"--context {path}: no such file")
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(resolved)


def _new_plan_path(plans_dir: Path, ask: str) -> Path:
    slug = slugify(ask)
    path = plans_dir / f"{slug}-plan.md"
    number = 2
    while path.exists():
        path = plans_dir / f"{slug}-{number}-plan.md"
        number += 1
    return path
