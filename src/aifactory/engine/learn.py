"""After a round: blocking findings become lessons, checks are proven, counters are kept.

This is step 5 of the loop. Nothing here touches an attempt's code: the outputs stay on their
branches, and what changes is the blueprint, one lesson file at a time, under the lessons lock so
two runs learning at once never lose each other's edits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from aifactory.blueprint.lessons import LessonBook, new_id
from aifactory.blueprint.version import blueprint_version
from aifactory.checks.proof import prove
from aifactory.checks.sources import CommitTreeSource, DiffSource, Source
from aifactory.domain.events import LessonActivity, LessonNoted
from aifactory.domain.lesson import CheckSpec, Counters, Lesson, LessonStatus, Origin, Sighting, closest
from aifactory.domain.run import AttemptState, Role
from aifactory.engine.attempt import AttemptOutcome
from aifactory.engine.context import Factory
from aifactory.engine.round import RoundOutcome
from aifactory.engine.run import Learned
from aifactory.errors import CheckError, FactoryError
from aifactory.providers.calls import CallScope
from aifactory.roles.distiller import Candidate, Observed, distill


@dataclass(frozen=True)
class _Scene:
    """What one round offers the learner: its findings, and the code known to be bad and good."""

    run_id: str
    round: int
    base: str
    observed: dict[int, Observed]
    attempts: dict[str, AttemptOutcome]
    passing: tuple[str, ...]


async def learn(factory: Factory, run_id: str, base: str, outcome: RoundOutcome) -> Learned:
    """Count check firings, then distill the round's blocking findings into lessons."""
    book = factory.kit.blueprint.lessons
    fired = Counter[str]()
    for attempt in outcome.attempts:
        fired.update(attempt.fired)
    observed = _observed(outcome)
    scene = _Scene(
        run_id=run_id,
        round=outcome.number,
        base=base,
        observed={item.number: item for item in observed},
        attempts={attempt.attempt: attempt for attempt in outcome.attempts},
        passing=tuple(outcome.ranking),
    )
    candidates: list[Candidate] = []
    failure = ""
    if observed:
        try:
            candidates = await _distill(factory, scene, outcome, book.load().lessons)
        except FactoryError as error:
            failure = f"the distiller failed ({error}); no lesson was learned"
    before = blueprint_version(factory.kit.blueprint.root)
    async with book.editing():
        lessons = {lesson.id: lesson for lesson in book.load().lessons}
        for lesson_id, count in fired.items():
            if lesson_id in lessons:
                _note(factory, scene, lesson_id, LessonActivity.FIRED, str(count))
                _save(book, lessons, _count(lessons[lesson_id], fired=count))
        notes = [
            lesson_id
            for candidate in candidates
            if (lesson_id := await _apply(factory, scene, candidate, lessons))
        ]
    after = blueprint_version(factory.kit.blueprint.root)
    waiting = {lesson_id for lesson_id in notes if lessons[lesson_id].status is LessonStatus.PROPOSED}
    learned = list(dict.fromkeys(notes))
    summary = failure or (
        f"{len(learned)} finding(s) went into lessons ({', '.join(learned)})"
        if learned
        else "no lesson learned"
    )
    return Learned(changed=after != before, proposed=len(waiting), summary=summary)


def _observed(outcome: RoundOutcome) -> list[Observed]:
    """Blocking findings of rejected attempts, numbered; the same finding in several attempts is kept
    once per attempt, because each sighting is evidence."""
    found: list[Observed] = []
    for attempt in outcome.attempts:
        if attempt.state is not AttemptState.REJECTED or attempt.verdict is None:
            continue
        for verdict in attempt.verdict.verdicts:
            found.extend(
                Observed(
                    number=len(found) + 1, attempt=attempt.attempt, source=verdict.source, finding=finding
                )
                for finding in verdict.findings
                if finding.blocking
            )
    return found


async def _distill(
    factory: Factory, scene: _Scene, outcome: RoundOutcome, held: tuple[Lesson, ...]
) -> list[Candidate]:
    first = next(iter(scene.observed.values()))
    diff = await factory.git.diff(
        scene.base, scene.attempts[first.attempt].branch, cap=factory.kit.config.verify.max_diff_chars
    )
    return await distill(
        factory.kit,
        ask=outcome.plan.plan.ask,
        plan_text=outcome.plan.plan_text,
        findings=list(scene.observed.values()),
        diff=diff.text,
        held=held,
        scope=CallScope(role=Role.DISTILLER, run_id=scene.run_id),
    )


async def _apply(factory: Factory, scene: _Scene, candidate: Candidate, lessons: dict[str, Lesson]) -> str:
    """Apply one candidate; returns the id of the lesson it went into, or "" if it was dropped."""
    observed = scene.observed.get(candidate.finding)
    if observed is None:
        return ""
    config = factory.kit.config.lessons
    target = lessons.get(candidate.lesson or "") if candidate.action != "new" else None
    if target is None:
        near = closest(candidate.rule, list(lessons.values()))
        if near is not None and near[1] >= config.duplicate_similarity:
            target = near[0]
    if target is not None:
        return await _strengthen(factory, scene, candidate, observed, target=target, lessons=lessons)
    return await _add(factory, scene, candidate, observed, lessons)


async def _strengthen(
    factory: Factory,
    scene: _Scene,
    candidate: Candidate,
    observed: Observed,
    *,
    target: Lesson,
    lessons: dict[str, Lesson],
) -> str:
    """A finding on a held lesson's topic adds evidence (and may refine its wording), never a copy."""
    sighting = Sighting(
        run=scene.run_id,
        attempt=observed.attempt,
        finding=observed.finding.what,
        location=observed.finding.location,
        at=datetime.now(UTC),
    )
    update: dict[str, object] = {
        "seen": (*target.seen, sighting),
        "counters": target.counters.model_copy(update={"flagged": target.counters.flagged + 1}),
    }
    refined = candidate.action == "refine" and candidate.rule != target.rule
    if refined:
        update["rule"] = candidate.rule
    if target.check is None and candidate.check is not None:
        update["check"] = await _proven(factory, scene, target.id, candidate.check, observed)
    lesson = target.model_copy(update=update)
    _save(factory.kit.blueprint.lessons, lessons, lesson)
    activity = LessonActivity.MERGED if refined else LessonActivity.STRENGTHENED
    _note(factory, scene, lesson.id, activity, observed.finding.what, attempt=observed.attempt)
    return lesson.id


async def _add(
    factory: Factory, scene: _Scene, candidate: Candidate, observed: Observed, lessons: dict[str, Lesson]
) -> str:
    book = factory.kit.blueprint.lessons
    auto = factory.kit.config.lessons.auto_accept
    now = datetime.now(UTC)
    lesson_id = new_id(candidate.rule, set(lessons))
    _note(factory, scene, lesson_id, LessonActivity.PROPOSED, candidate.rule, attempt=observed.attempt)
    check = (
        await _proven(factory, scene, lesson_id, candidate.check, observed)
        if candidate.check is not None
        else None
    )
    lesson = Lesson(
        id=lesson_id,
        rule=candidate.rule,
        status=LessonStatus.ACTIVE if auto else LessonStatus.PROPOSED,
        scope=candidate.scope,
        origin=Origin(
            run=scene.run_id,
            attempt=observed.attempt,
            finding=observed.finding.what,
            location=observed.finding.location,
        ),
        check=check,
        counters=Counters(),
        created=now,
        activated=now if auto else None,
    )
    _save(book, lessons, lesson)
    if auto:
        _note(factory, scene, lesson_id, LessonActivity.ACTIVATED, "lessons.auto_accept is true")
    return lesson_id


async def _proven(
    factory: Factory, scene: _Scene, lesson_id: str, check: CheckSpec, observed: Observed
) -> CheckSpec | None:
    """Keep a check only if it flags the offending attempt and nothing known to be good."""
    offending = scene.attempts[observed.attempt]
    bad = DiffSource(
        offending.worktree, scene.base, offending.branch, label=f"attempt {offending.attempt}'s change"
    )
    good: list[Source] = [
        DiffSource(
            scene.attempts[name].worktree,
            scene.base,
            scene.attempts[name].branch,
            label=f"passing attempt {name}'s change",
        )
        for name in scene.passing
    ]
    good.append(CommitTreeSource(factory.git.path, scene.base, label="base commit"))
    try:
        proof = await prove(
            lesson_id,
            check,
            bad=bad,
            good=good,
            workers=factory.kit.config.checks.workers,
            command_timeout=factory.kit.config.checks.command_timeout,
            env=factory.command_env,
        )
    except CheckError as error:
        # The model wrote a rule ast-grep cannot run: the lesson keeps its prose, the ledger says why.
        _note(factory, scene, lesson_id, LessonActivity.CHECK_REJECTED, str(error), attempt=observed.attempt)
        return None
    activity = LessonActivity.CHECK_PROVEN if proof.accepted else LessonActivity.CHECK_REJECTED
    _note(factory, scene, lesson_id, activity, proof.reason, attempt=observed.attempt)
    return check if proof.accepted else None


def _count(lesson: Lesson, *, fired: int) -> Lesson:
    counters = lesson.counters.model_copy(update={"fired": lesson.counters.fired + fired})
    return lesson.model_copy(update={"counters": counters})


def _save(book: LessonBook, lessons: dict[str, Lesson], lesson: Lesson) -> None:
    lessons[lesson.id] = lesson
    book.save(lesson)


def _note(
    factory: Factory,
    scene: _Scene,
    lesson_id: str,
    activity: LessonActivity,
    detail: str,
    *,
    attempt: str | None = None,
) -> None:
    factory.sink(
        LessonNoted(
            lesson=lesson_id,
            activity=activity,
            run_id=scene.run_id,
            round=scene.round,
            attempt=attempt,
            detail=detail,
        )
    )
