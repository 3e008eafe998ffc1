"""`factory stats`: the learning curve, read from the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from aifactory.ledger.learning import LessonStats, VersionStats, lesson_stats, version_stats
from aifactory.ledger.store import Ledger
from aifactory.service.project import Project


@dataclass(frozen=True)
class LearningCurve:
    versions: list[VersionStats]
    """Oldest blueprint version first."""
    lessons: list[LessonStats]


def learning_curve(project: Project) -> LearningCurve:
    with Ledger.open(project.ledger_path) as ledger:
        return LearningCurve(versions=version_stats(ledger), lessons=lesson_stats(ledger))
