"""Which lessons a task receives, and when a new rule repeats a held one: pure decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from aifactory.domain.lesson import (
    Counters,
    Lesson,
    LessonStatus,
    RegexSpec,
    Scope,
    TaskProfile,
    closest,
    patch_like,
    retirement_reason,
    select,
    similarity,
)
from aifactory.domain.plan import TaskKind

NOW = datetime(2026, 11, 24, tzinfo=UTC)
ANYWHERE = Scope()


def lesson(
    id: str, *, scope: Scope = ANYWHERE, status: LessonStatus = LessonStatus.ACTIVE, flagged: int = 0
) -> Lesson:
    return Lesson(
        id=id,
        rule=f"Rule {id}.",
        status=status,
        scope=scope,
        counters=Counters(flagged=flagged),
        created=NOW,
    )


PYTHON = Scope(languages=("python",))


def test_scope_keeps_a_python_lesson_out_of_a_go_task() -> None:
    held = [lesson("python-only", scope=PYTHON), lesson("everywhere")]
    go_task = TaskProfile.of(["cmd/report/main.go"])
    python_task = TaskProfile.of(["shop/report.py"])
    assert [item.id for item in select(held, go_task, cap=8)] == ["everywhere"]
    assert [item.id for item in select(held, python_task, cap=8)] == ["python-only", "everywhere"]


def test_path_globs_and_task_kinds_narrow_a_scope() -> None:
    held = [
        lesson("in-migrations", scope=Scope(paths=("db/migrations/*.sql",))),
        lesson("for-fixes", scope=Scope(kinds=(TaskKind.FIX,))),
    ]
    assert select(held, TaskProfile.of(["db/migrations/002.sql"], TaskKind.FEATURE), cap=8) == [held[0]]
    assert select(held, TaskProfile.of(["src/a.py"], TaskKind.FIX), cap=8) == [held[1]]
    assert select(held, TaskProfile.of(["src/a.py"]), cap=8) == []


def test_only_active_lessons_are_injected() -> None:
    held = [
        lesson("waiting", status=LessonStatus.PROPOSED),
        lesson("gone", status=LessonStatus.RETIRED),
        lesson("live"),
    ]
    assert [item.id for item in select(held, TaskProfile.of(["a.py"]), cap=8)] == ["live"]


def test_the_cap_keeps_the_most_specific_then_best_evidenced() -> None:
    held = [
        lesson("general-weak"),
        lesson("general-strong", flagged=5),
        lesson("python", scope=PYTHON),
        lesson("general-middle", flagged=2),
    ]
    chosen = select(held, TaskProfile.of(["a.py"]), cap=3)
    assert [item.id for item in chosen] == ["python", "general-strong", "general-middle"]
    assert select(held, TaskProfile.of(["a.py"]), cap=0) == []


def test_the_same_rule_in_other_words_is_close_and_an_unrelated_one_is_not() -> None:
    first = "Read CSV input as a stream, row by row; never load a whole CSV file into memory."
    again = "Never load a whole CSV file into memory: read the CSV input row by row, as a stream."
    other = "Use parameterized SQL queries; never build SQL by concatenating strings."
    assert similarity(first, again) == 1.0
    assert similarity(first, other) < 0.2
    held = [
        lesson("sql").model_copy(update={"rule": other}),
        lesson("csv").model_copy(update={"rule": first}),
    ]
    found = closest(again, held)
    assert found is not None
    assert found[0].id == "csv"


def test_a_rule_that_names_a_line_is_a_patch_not_a_lesson() -> None:
    assert patch_like("In report.py line 12 use csv.reader.") is not None
    assert patch_like("Fix shop/report.py:12.") is not None
    assert patch_like("Read CSV input row by row.") is None


def test_a_check_with_a_broken_regex_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        RegexSpec(pattern="(unclosed", message="m")
    with pytest.raises(ValidationError, match="unknown language 'cobol'"):
        Scope(languages=("cobol",))
    with pytest.raises(ValidationError, match="not a relative path glob"):
        Scope(paths=("../outside/*",))


def _guarded(injected: int) -> Lesson:
    check = RegexSpec(pattern=r"\.read\(\)", message="m")
    return lesson("guarded").model_copy(update={"check": check, "counters": Counters(injected=injected)})


def test_a_lesson_no_plan_needs_is_proposed_for_retirement() -> None:
    limits = {"idle_limit": 5, "findings_since_active": 0, "checked_limit": 10}
    assert retirement_reason(lesson("idle"), plans_idle=4, **limits) is None
    reason = retirement_reason(lesson("idle"), plans_idle=5, **limits)
    assert reason == "no plan carried it in the last 5 plans"


def test_a_lesson_whose_check_stood_guard_long_enough_has_its_prose_proposed_for_retirement() -> None:
    limits = {"plans_idle": 0, "idle_limit": 25, "checked_limit": 10}
    assert retirement_reason(_guarded(9), findings_since_active=0, **limits) is None
    assert retirement_reason(_guarded(10), findings_since_active=1, **limits) is None, "its topic came back"
    assert "keeps the check" in (retirement_reason(_guarded(10), findings_since_active=0, **limits) or "")
    without_check = lesson("prose").model_copy(update={"counters": Counters(injected=50)})
    assert retirement_reason(without_check, findings_since_active=0, **limits) is None


def test_only_an_active_lesson_without_a_pending_proposal_is_proposed() -> None:
    limits = {"plans_idle": 99, "idle_limit": 5, "findings_since_active": 0, "checked_limit": 10}
    proposed = lesson("new", status=LessonStatus.PROPOSED)
    pending = lesson("old").model_copy(update={"retirement": "already proposed"})
    assert retirement_reason(proposed, **limits) is None
    assert retirement_reason(pending, **limits) is None
