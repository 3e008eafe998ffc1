"""Lessons for tests: a plain one to vary, and hypothesis strategies for any valid lesson."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from aifactory.domain.lesson import (
    LANGUAGES,
    LESSON_ID,
    AstGrepSpec,
    CommandSpec,
    Counters,
    Lesson,
    LessonStatus,
    Origin,
    RegexSpec,
    Scope,
    Sighting,
    TaskKind,
)
from aifactory.domain.verdict import Severity

CREATED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def lesson(lesson_id: str = "close-files", rule: str = "Close every file you open.", **fields: Any) -> Lesson:
    return Lesson(id=lesson_id, rule=rule, created=CREATED, **fields)


_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
_line = _text.filter(lambda value: bool(value.split()))
_times = st.datetimes(
    min_value=datetime(1970, 1, 2),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30))]),
)
_globs = st.from_regex(r"[a-z]{1,8}(/[a-z*]{1,5}){0,2}(\.[a-z]{1,3})?", fullmatch=True)
_languages = st.sampled_from(sorted(set(LANGUAGES.values())))
_keys = st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True)
_leaves = st.one_of(_text, st.integers(-(2**63), 2**63 - 1), st.booleans(), st.lists(_text, max_size=3))
_rules = st.dictionaries(
    _keys, st.one_of(_leaves, st.dictionaries(_keys, _leaves, min_size=1, max_size=2)), min_size=1, max_size=3
)
_checks = st.one_of(
    st.none(),
    st.builds(
        AstGrepSpec,
        language=_languages,
        rule=_rules,
        message=_line,
        severity=st.sampled_from(Severity),
    ),
    st.builds(
        RegexSpec,
        pattern=st.sampled_from([r"\bprint\(", r"time\.sleep\(\d+\)", "TODO"]),
        paths=st.lists(_globs, max_size=2).map(tuple),
        message=_line,
    ),
    st.builds(CommandSpec, command=_line, message=_line),
)
_sightings = st.builds(Sighting, run=_text, attempt=_text, finding=_line, location=_text, at=_times)

lessons = st.builds(
    Lesson,
    id=st.from_regex(LESSON_ID, fullmatch=True),
    rule=_text.filter(lambda value: bool(value.strip())),
    status=st.sampled_from(LessonStatus),
    scope=st.builds(
        Scope,
        paths=st.lists(_globs, max_size=3).map(tuple),
        languages=st.lists(_languages, max_size=2).map(tuple),
        kinds=st.lists(st.sampled_from(TaskKind), max_size=2).map(tuple),
    ),
    origin=st.none() | st.builds(Origin, run=_text, attempt=_text, finding=_line, location=_text),
    check=_checks,
    counters=st.builds(
        Counters,
        injected=st.integers(0, 10**6),
        fired=st.integers(0, 10**6),
        flagged=st.integers(0, 10**6),
    ),
    seen=st.lists(_sightings, max_size=3).map(tuple),
    created=_times,
    activated=st.none() | _times,
    retirement=st.none() | _text,
)
"""Any valid lesson, with text in the rule and fields that TOML and Markdown must carry intact."""
