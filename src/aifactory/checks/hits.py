"""What a lesson check found, and how it becomes findings in a verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from aifactory.domain.verdict import Finding, Severity, Verdict

NO_PATH = "-"
"""The path of a hit with no location, such as a command check that failed."""
SOURCE = "checks"
"""The source of the lesson checks' verdict among an attempt's verdicts."""


@dataclass(frozen=True, slots=True, order=True)
class Hit:
    """One place a lesson's check fired: 1-based line and column (0 for both when there is no place)."""

    path: str
    line: int
    column: int
    lesson: str
    message: str
    severity: Severity

    @property
    def location(self) -> str:
        return self.path if self.path == NO_PATH else f"{self.path}:{self.line}:{self.column}"

    def finding(self) -> Finding:
        placed = self.path != NO_PATH
        return Finding(
            severity=self.severity,
            file=self.path if placed else None,
            line=self.line if placed and self.line >= 1 else None,
            what=f"{self.lesson}: {self.message}",
            why=f"the check of lesson `{self.lesson}` fired at {self.location}",
        )


def verdict(hits: Iterable[Hit], *, source: str = SOURCE) -> Verdict:
    """The verdict of a set of hits: it passes unless one of them is an error."""
    hits = sorted(hits)
    errors = sum(hit.severity is Severity.ERROR for hit in hits)
    if not hits:
        summary = "no lesson check fired"
    else:
        lessons = len({hit.lesson for hit in hits})
        summary = f"{len(hits)} hit(s) from {lessons} lesson check(s), {errors} blocking"
    return Verdict(
        source=source,
        passed=errors == 0,
        summary=summary,
        findings=tuple(hit.finding() for hit in hits),
    )


def fired(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """Hits per lesson, read back from the lesson checks' verdict as recorded (`Hit.finding`'s `what`)."""
    return dict(
        Counter(
            finding.what.partition(": ")[0]
            for recorded in verdicts
            if recorded.source == SOURCE
            for finding in recorded.findings
        )
    )
