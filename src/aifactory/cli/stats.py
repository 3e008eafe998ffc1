"""`factory stats`: is the factory getting better, and which lessons made it so."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from aifactory.cli.common import Options, console, execute, money
from aifactory.cli.progress import tokens
from aifactory.service.project import open_project
from aifactory.service.stats import LearningCurve, learning_curve


def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON, for scripts.")] = False,
) -> None:
    """Per blueprint version: first-round pass rate, rounds to pass, cost per pass; per lesson: its effect."""

    async def work(opts: Options) -> LearningCurve:
        return learning_curve(await open_project(opts.repo))

    curve = execute(ctx, work)
    if as_json:
        console.print_json(json.dumps(_as_json(curve)))
        return
    if not curve.versions:
        console.print('No runs yet. Start one with: factory run "your ask"')
        return
    print_curve(console, curve)


def print_curve(out: Console, curve: LearningCurve) -> None:
    versions = Table(
        title="learning curve: runs by the blueprint version of their first round, oldest first",
        box=box.SIMPLE_HEAD,
    )
    for column in (
        "blueprint",
        "runs",
        "1st-round pass",
        "rounds to pass",
        "tokens/pass",
        "cost/pass",
    ):
        versions.add_column(column, no_wrap=column == "blueprint")
    for row in curve.versions:
        versions.add_row(
            row.blueprint,
            str(row.runs),
            f"{row.first_round_pass_rate:.0%} ({row.first_round_passed}/{row.runs})",
            "-" if row.rounds_to_pass is None else f"{row.rounds_to_pass:.1f}",
            "-" if row.tokens_per_pass is None else tokens(round(row.tokens_per_pass)),
            money(row.cost_per_pass),
        )
    out.print(versions)
    if not curve.lessons:
        return
    lessons = Table(
        title="lessons: findings on each one's topic before and after it became active", box=box.SIMPLE_HEAD
    )
    for column in ("lesson", "injected", "fired", "before", "after"):
        lessons.add_column(column, no_wrap=column != "lesson")
    for lesson in curve.lessons:
        lessons.add_row(
            lesson.lesson,
            str(lesson.injected),
            str(lesson.fired),
            str(lesson.findings_before),
            str(lesson.findings_after) if lesson.activated else "-",
        )
    out.print(lessons)


def _as_json(curve: LearningCurve) -> dict[str, object]:
    return {
        "versions": [
            {
                **row.model_dump(mode="json"),
                "first_round_pass_rate": row.first_round_pass_rate,
                "tokens_per_pass": row.tokens_per_pass,
                "cost_per_pass": None if row.cost_per_pass is None else str(row.cost_per_pass),
            }
            for row in curve.versions
        ],
        "lessons": [lesson.model_dump(mode="json") for lesson in curve.lessons],
    }
