"""Findings, verdicts, and the pure decisions made on them: does an attempt pass, which one is best."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from aifactory.domain.plan import OneLine


class Severity(StrEnum):
    """`error` blocks an attempt; `warning` and `info` are reported but do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding(BaseModel):
    """One problem found in an attempt's code, by a verifier or a check."""

    model_config = ConfigDict(frozen=True)

    severity: Severity = Field(description="error blocks the attempt; warning and info do not")
    file: str | None = Field(default=None, description="path relative to the repository root, if any")
    line: int | None = Field(default=None, ge=1, description="1-based line in `file`, if any")
    what: OneLine = Field(description="what is wrong, in one sentence")
    why: str = Field(description="why it matters for the ask or the plan")

    @property
    def blocking(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def location(self) -> str:
        if self.file is None:
            return "-"
        return f"{self.file}:{self.line}" if self.line is not None else self.file


class Verdict(BaseModel):
    """What one source (a verifier role, a project command, a check) concluded about an attempt."""

    model_config = ConfigDict(frozen=True)

    source: str
    passed: bool
    summary: str = ""
    findings: tuple[Finding, ...] = ()


class AttemptVerdict(BaseModel):
    """The attempt's overall verdict: it passes only when every source passed and nothing blocks."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    reasons: tuple[str, ...] = ()
    verdicts: tuple[Verdict, ...] = ()


def decide(verdicts: tuple[Verdict, ...]) -> AttemptVerdict:
    """Combine the sources' verdicts; a blocking finding rejects even if its source said pass."""
    reasons: list[str] = []
    for verdict in verdicts:
        blocking = [f for f in verdict.findings if f.blocking]
        if not verdict.passed:
            reasons.append(f"{verdict.source}: {verdict.summary or 'rejected'}")
        elif blocking:
            reasons.append(f"{verdict.source}: {len(blocking)} blocking finding(s)")
    if not verdicts:
        reasons.append("nothing verified the attempt")
    return AttemptVerdict(passed=not reasons, reasons=tuple(reasons), verdicts=verdicts)


class Candidate(BaseModel):
    """A passing attempt as ranking sees it."""

    model_config = ConfigDict(frozen=True)

    attempt: str
    warnings: int
    changed_lines: int


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Best first: fewest warnings, then the smallest change (less to review), then by name."""
    return sorted(candidates, key=lambda c: (c.warnings, c.changed_lines, c.attempt))
