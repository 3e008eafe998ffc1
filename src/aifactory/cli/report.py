"""Tables and reports of runs for the terminal, drawn from the ledger's read models."""

from __future__ import annotations

from datetime import timedelta

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from aifactory.cli.common import money
from aifactory.cli.progress import tokens
from aifactory.domain.run import AttemptState, Role, StepState
from aifactory.domain.usage import Usage
from aifactory.domain.verdict import Severity
from aifactory.ledger.agent_log import ToolUse
from aifactory.ledger.queries import AttemptDetail, RunDetail, RunSummary, StepDetail
from aifactory.ledger.small_agents import AgentRunDetail

_TOOLS_SHOWN = 8
"""Tool calls listed per agent and step in `factory show`; the rest are counted."""

_STATE_STYLE = {
    "passed": "bold green",
    "rejected": "bold red",
    "failed": "red",
    "interrupted": "yellow",
    "running": "cyan",
}


def _state(text: str) -> Text:
    """A state in its colour; what follows a comma ("passed, resumed 1 time(s)") takes it too."""
    return Text(text, style=_STATE_STYLE.get(text.partition(",")[0], ""))


def _elapsed(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def _counts(attempt: AttemptDetail) -> str:
    findings = [f for v in attempt.verdicts for f in v.findings]
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    return f"{errors} err, {len(findings) - errors} warn"


def summary_table(run: RunDetail) -> Table:
    """One row per attempt: the end-of-run summary and the head of `factory show`."""
    table = Table(title=Text(f"run {run.id} · {run.title}"), title_justify="left")
    for column in ("round", "attempt", "result", "steps", "findings", "tokens", "cost", "time"):
        table.add_column(column, no_wrap=True)
    for attempt in run.attempts:
        committed = sum(1 for s in attempt.steps if s.state is StepState.COMMITTED)
        table.add_row(
            str(attempt.round),
            attempt.name,
            _state(attempt.state.value),
            f"{committed}/{run.planned_steps}",
            _counts(attempt),
            tokens(attempt.usage.total_tokens),
            money(attempt.usage.cost),
            _elapsed(attempt.elapsed),
        )
    return table


def print_reasons(console: Console, run: RunDetail) -> None:
    """Why each attempt that did not pass did not pass, with its blocking findings."""
    for attempt in run.attempts:
        if attempt.state is AttemptState.PASSED:
            continue
        console.print(
            f"[bold]{attempt.name}[/] {attempt.state.value}: {escape(attempt.reason)}", soft_wrap=True
        )
        for verdict in attempt.verdicts:
            for finding in verdict.findings:
                if finding.blocking:
                    console.print(
                        f"  [red]{escape(finding.location)}[/]  {verdict.source}: {escape(finding.what)}",
                        soft_wrap=True,
                    )
                    console.print(f"    [dim]{escape(finding.why.strip())}[/]", soft_wrap=True)


def _tool_lines(tools: tuple[ToolUse, ...]) -> list[Text]:
    """One compact line per agent in the order they worked: `agent: Tool target · Tool target ✗`."""
    runs: list[tuple[str, list[ToolUse]]] = []
    for use in tools:
        if runs and runs[-1][0] == use.agent:
            runs[-1][1].append(use)
        else:
            runs.append((use.agent, [use]))
    lines = []
    for agent, uses in runs:
        line = Text(f"    {agent}: ", style="dim")
        for n, use in enumerate(uses[:_TOOLS_SHOWN]):
            line.append(" · " if n else "", style="dim")
            line.append(use.tool, style="" if use.ok else "red")
            line.append(f" {use.target}" if use.target else "", style="dim")
            line.append(" ✗" if not use.ok else "", style="red")
        if len(uses) > _TOOLS_SHOWN:
            line.append(f" · … {len(uses) - _TOOLS_SHOWN} more", style="dim")
        lines.append(line)
    return lines


def _print_step(console: Console, step: StepDetail) -> None:
    commit = step.commit[:10] if step.commit else step.state.value
    refused = f", [red]{step.refusals} refused[/]" if step.refusals else ""
    tools = f"  [dim]({step.tool_calls} tool calls{refused}[dim])[/]" if step.tool_calls else ""
    by = f"  [dim]by {escape(step.executor)}[/]" if step.executor else ""
    console.print(f"  step {step.index} {commit}  {escape(step.title)}{tools}{by}", soft_wrap=True)
    if step.reason:
        console.print(f"    [red]{escape(step.reason)}[/]", soft_wrap=True)
    for line in _tool_lines(step.tools):
        console.print(line, soft_wrap=True)


def print_agent_run(console: Console, ran: AgentRunDetail) -> None:
    """`agent NAME COMMIT  summary`, or the reason its change was dropped, then its report lines."""
    if ran.dropped:
        outcome = f"[red]dropped[/]: {escape(ran.dropped)}"
    else:
        outcome = (ran.commit[:10] if ran.commit else "no change") + f"  {escape(ran.summary)}"
    console.print(f"  agent {escape(ran.agent)} {outcome}", soft_wrap=True)
    for line in ran.report:
        console.print(f"    [dim]{escape(line)}[/]", soft_wrap=True)


def print_rounds(console: Console, run: RunDetail) -> None:
    """Each round's blueprint version and the lessons its plan carried: how the inputs changed."""
    for round_ in run.rounds:
        result = "running" if round_.passed is None else ("passed" if round_.passed else "rejected")
        carried = ", ".join(round_.lessons) or "none"
        line = Text(
            f"round {round_.number}: blueprint {round_.blueprint} · plan {round_.plan_path} · "
            f"lessons: {carried} · "
        )
        line.append(result, style=_STATE_STYLE[result])
        console.print(line, soft_wrap=True)


def print_run(console: Console, run: RunDetail, by_role: dict[Role, Usage]) -> None:
    """`factory show`: the summary, then each attempt's steps, verdicts and findings."""
    stale = " (process gone)" if run.stale else ""
    console.print(
        f"[bold]{escape(run.title)}[/]  {run.state.value}{stale}  base {run.base_commit[:10]}  "
        f"plan {escape(run.plan_path)}"
    )
    for resumed in run.resumes:
        kept = f"; kept {', '.join(resumed.kept)}" if resumed.kept else ""
        console.print(
            f"resumed {resumed.at.astimezone():%Y-%m-%d %H:%M:%S} at round {resumed.round}: "
            f"continued {', '.join(resumed.continued)}{kept}"
        )
    console.print(
        f"tokens {tokens(run.usage.total_tokens)} · cost {money(run.usage.cost)} · "
        f"model calls {run.model_calls}"
    )
    roles = " · ".join(
        f"{role.value} {tokens(usage.total_tokens)} {money(usage.cost)}" for role, usage in by_role.items()
    )
    console.print(f"[dim]by role: {roles}[/]")
    print_rounds(console, run)
    console.print(summary_table(run))
    for attempt in run.attempts:
        console.print(
            f"\n[bold]{attempt.name}[/]  {escape(attempt.branch)}  worktree {escape(attempt.worktree)}"
        )
        if attempt.reason:
            console.print(f"  {attempt.state.value}: {escape(attempt.reason)}", soft_wrap=True)
        for step in attempt.steps:
            _print_step(console, step)
        for ran in attempt.agents:
            print_agent_run(console, ran)
        for verdict in attempt.verdicts:
            mark = "[green]pass[/]" if verdict.passed else "[red]reject[/]"
            console.print(f"  {verdict.source}: {mark}  [dim]{escape(verdict.summary)}[/]", soft_wrap=True)
            for finding in verdict.findings:
                console.print(
                    f"    {finding.severity.value:7} {escape(finding.location)}  {escape(finding.what)}",
                    soft_wrap=True,
                )


def status_table(runs: list[RunSummary]) -> Table:
    """Every column but the title keeps its full width; the title gives way on a narrow terminal."""
    rows = [
        (
            run.id,
            ("running (process gone)" if run.stale else run.state.value)
            + (f", resumed {run.resumes} time(s)" if run.resumes else ""),
            f"{run.passed}/{run.attempts}",
            str(run.rounds),
            tokens(run.usage.total_tokens),
            money(run.usage.cost),
            run.started_at.astimezone().strftime("%m-%d %H:%M"),
        )
        for run in runs
    ]
    table = Table(title="runs, newest first", title_justify="left", box=box.SIMPLE_HEAD)
    for index, column in enumerate(("run", "state", "passed", "rounds", "tokens", "cost", "started")):
        width = max(len(column), *(len(row[index]) for row in rows))
        table.add_column(column, no_wrap=True, min_width=width)
    table.add_column("title", no_wrap=True, overflow="ellipsis", ratio=1)
    for run, row in zip(runs, rows, strict=True):
        table.add_row(row[0], _state(row[1]), *row[2:], Text(run.title))
    return table
