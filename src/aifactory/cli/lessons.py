"""`factory lessons`: list, show, accept, reject, retire and edit what the factory learned."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from aifactory.blueprint.lessons import Shelf
from aifactory.cli.common import Options, console, err_console, execute
from aifactory.domain.lesson import Lesson, LessonStatus, Scope
from aifactory.errors import LessonFileError
from aifactory.service import lessons
from aifactory.service.project import open_project, session

app = typer.Typer(
    help="What the factory learned: one file per lesson under .factory/blueprint/lessons/.",
    no_args_is_help=False,
    invoke_without_command=True,
)

IdsArg = Annotated[list[str], typer.Argument(help="Lesson ids (the file names without .md).")]
_COMMIT_HINT = "[dim]review and commit .factory/blueprint/lessons/ to keep the change[/]"


@app.callback()
def listing(
    ctx: typer.Context,
    status: Annotated[
        LessonStatus | None, typer.Option("--status", help="Only lessons of this status.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the lessons as a JSON array.")] = False,
) -> None:
    """The lessons held: rule, scope, check and how often each was injected, fired and flagged."""
    if ctx.invoked_subcommand is not None:
        return

    async def work(opts: Options) -> Shelf:
        return lessons.list_lessons(await open_project(opts.repo), status)

    shelf = execute(ctx, work)
    _warn(shelf.problems)
    if as_json:
        typer.echo(json.dumps([held.model_dump(mode="json") for held in shelf.lessons], indent=2))
    elif not shelf.lessons:
        which = f"{status.value} " if status else ""
        console.print(f"No {which}lessons. The factory proposes them from verifiers' findings.")
    else:
        console.print(_table(shelf.lessons))


@app.command()
def show(ctx: typer.Context, lesson_id: Annotated[str, typer.Argument(help="Lesson id.")]) -> None:
    """One lesson in full: rule, scope, check, origin, dates, counters and sightings."""

    async def work(opts: Options) -> lessons.Held:
        return lessons.show(await open_project(opts.repo), lesson_id)

    held = execute(ctx, work)
    _print_lesson(held.lesson)
    console.print(f"[dim]file {held.path}[/]")


@app.command()
def accept(ctx: typer.Context, ids: IdsArg) -> None:
    """Make proposed lessons active: injected into matching plans, their checks run on every attempt."""
    for change in _decide(ctx, lessons.accept, ids):
        lesson_id, since = change.lesson.id, _date(change.lesson.activated)
        if lessons.declined_retirement(change):
            console.print(f"kept [bold]{lesson_id}[/]: active, the proposal to retire it declined")
        elif change.changed:
            console.print(f"accepted [bold]{lesson_id}[/]: active since {since}")
        else:
            console.print(f"{lesson_id} is already active (since {since})")


@app.command()
def reject(ctx: typer.Context, ids: IdsArg) -> None:
    """Retire lessons that are wrong, and remove their checks."""
    for change in _decide(ctx, lessons.reject, ids):
        if change.changed:
            console.print(f"rejected [bold]{change.lesson.id}[/]: retired, its check removed")
        else:
            console.print(f"{change.lesson.id} is already rejected")


@app.command()
def retire(ctx: typer.Context, ids: IdsArg) -> None:
    """Retire lessons that were learned: their rules leave the prompts, their checks still run."""
    for change in _decide(ctx, lessons.retire, ids):
        check = "its check still runs" if change.lesson.check else "it has no check"
        if change.changed:
            console.print(f"retired [bold]{change.lesson.id}[/]: its rule leaves the prompts; {check}")
        else:
            console.print(f"{change.lesson.id} is already retired ({check})")


@app.command()
def edit(
    ctx: typer.Context,
    lesson_id: Annotated[str, typer.Argument(help="Lesson id.")],
    rule: Annotated[
        str | None, typer.Option("--rule", help="The new rule, instead of opening $VISUAL or $EDITOR.")
    ] = None,
) -> None:
    """Edit a lesson's file in your editor (kept only if it is still a valid lesson), or set its rule."""

    async def work(opts: Options) -> lessons.Change:
        project = await open_project(opts.repo)
        with session(project) as current:
            if rule is not None:
                return await lessons.set_rule(current, lesson_id, rule)
            return await lessons.edit(current, lesson_id)

    change = execute(ctx, work)
    if not change.changed:
        console.print(f"{change.lesson.id} unchanged")
        return
    console.print(f"edited [bold]{change.lesson.id}[/]: {escape(change.lesson.rule)}", soft_wrap=True)
    console.print(_COMMIT_HINT)


def _decide(ctx: typer.Context, decision: lessons.Decision, ids: Sequence[str]) -> list[lessons.Change]:
    async def work(opts: Options) -> list[lessons.Change]:
        project = await open_project(opts.repo)
        with session(project) as current:
            return await decision(current, ids)

    changes = execute(ctx, work)
    if any(change.changed for change in changes):
        err_console.print(_COMMIT_HINT)
    return changes


def _warn(problems: Sequence[LessonFileError]) -> None:
    for problem in problems:
        err_console.print(f"[yellow]warning:[/] {escape(str(problem))} (skipped)", soft_wrap=True)


def _date(value: datetime | None) -> str:
    return "-" if value is None else value.isoformat(sep=" ")


def _scope(scope: Scope) -> str:
    axes = [scope.paths, scope.languages, tuple(kind.value for kind in scope.kinds)]
    return " · ".join(", ".join(axis) for axis in axes if axis) or "anywhere"


def _table(held: Sequence[Lesson]) -> Table:
    """The rule takes the width the other columns leave; the counts fit even an 80-column terminal."""
    table = Table(box=box.SIMPLE_HEAD, caption="counts: injected into plans / check fired / flagged again")
    table.add_column("id", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("rule", ratio=3)
    table.add_column("scope", ratio=1)
    table.add_column("check", no_wrap=True)
    table.add_column("counts", justify="right", no_wrap=True)
    retiring = any(lesson.retirement for lesson in held)
    if retiring:
        table.add_column("retirement", ratio=1)
    for lesson in held:
        counters = lesson.counters
        row = [
            lesson.id,
            lesson.status.value,
            escape(lesson.rule),
            escape(_scope(lesson.scope)),
            lesson.check.kind if lesson.check else "-",
            f"{counters.injected}/{counters.fired}/{counters.flagged}",
        ]
        if retiring:
            row.append(escape(lesson.retirement or ""))
        table.add_row(*row)
    return table


def _print_lesson(lesson: Lesson) -> None:
    console.print(f"[bold]{lesson.id}[/]  {lesson.status.value}")
    console.print(escape(lesson.rule), soft_wrap=True)
    console.print(f"scope: {escape(_scope(lesson.scope))}")
    check = lesson.check
    if check is None:
        console.print("check: none")
    else:
        console.print(
            f"check: {check.kind} ({check.severity.value}): {escape(check.message)}", soft_wrap=True
        )
        detail = check.model_dump(mode="json", exclude={"kind", "message", "severity"})
        console.print(f"  {escape(json.dumps(detail))}", soft_wrap=True)
    if lesson.origin is not None:
        origin = lesson.origin
        console.print(
            f"origin: run {origin.run} attempt {origin.attempt} at {escape(origin.location)}: "
            f"{escape(origin.finding)}",
            soft_wrap=True,
        )
    console.print(f"created {_date(lesson.created)} · activated {_date(lesson.activated)}")
    counters = lesson.counters
    console.print(f"injected {counters.injected} · fired {counters.fired} · flagged {counters.flagged}")
    for sighting in lesson.seen:
        console.print(
            f"  seen {_date(sighting.at)} run {sighting.run} {sighting.attempt} "
            f"{escape(sighting.location)}: {escape(sighting.finding)}",
            soft_wrap=True,
        )
    if lesson.retirement:
        console.print(f"retirement: {escape(lesson.retirement)}", soft_wrap=True)
