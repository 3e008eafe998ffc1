"""Hits as findings: only an error blocks, and each finding names its lesson."""

from __future__ import annotations

from aifactory.checks.hits import NO_PATH, Hit, verdict
from aifactory.domain.verdict import Severity


def test_a_verdict_fails_only_on_an_error_hit() -> None:
    warning = Hit("a.py", 3, 5, "no-print", "log instead of printing", Severity.WARNING)
    error = Hit("b.py", 1, 1, "close-files", "open files in a with block", Severity.ERROR)
    assert verdict([]).passed
    assert verdict([warning]).passed
    assert not verdict([warning, error]).passed


def test_findings_read_as_lesson_and_message_at_the_hit() -> None:
    hits = [
        Hit("b.py", 9, 2, "close-files", "open files in a with block", Severity.ERROR),
        Hit(NO_PATH, 0, 0, "types", "mypy must pass (`mypy` exited with 1)", Severity.ERROR),
    ]
    result = verdict(hits, source="checks")
    assert result.source == "checks"
    assert [(f.what, f.file, f.line) for f in result.findings] == [
        ("types: mypy must pass (`mypy` exited with 1)", None, None),
        ("close-files: open files in a with block", "b.py", 9),
    ]
    assert "b.py:9:2" in result.findings[1].why
