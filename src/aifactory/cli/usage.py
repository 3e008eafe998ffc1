"""`factory usage`: the bill, as a table, JSON for scripts or CSV for spreadsheets."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime, time
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aifactory.cli.common import Options, console, execute, fail, money
from aifactory.cli.progress import tokens
from aifactory.errors import UserError
from aifactory.ledger.usage import UsageKey, UsageLine, UsageReport
from aifactory.service.project import open_project
from aifactory.service.usage import usage_report

_DATE = "YYYY-MM-DD or an ISO datetime, local time"


def usage(
    ctx: typer.Context,
    *,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", help=f"Calls from DATE on ({_DATE}).")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", metavar="DATE", help=f"Calls up to DATE; a date includes its whole day ({_DATE})."
        ),
    ] = None,
    by: Annotated[UsageKey, typer.Option("--by", help="Group calls by this.")] = UsageKey.PROVIDER,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON, for scripts.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (RFC 4180), for spreadsheets.")] = False,
) -> None:
    """Tokens, calls, failures and cost of the model calls, by provider, role, run, model or day."""
    if as_json and as_csv:
        fail(UserError("--json and --csv both ask for the output format: give one"))

    async def work(opts: Options) -> UsageReport:
        return usage_report(await open_project(opts.repo), by, since=since, until=until)

    report = execute(ctx, work)
    if as_json:
        console.print_json(json.dumps(_as_json(report)))
    elif as_csv:
        write_csv(report)
    elif not report.lines:
        console.print("No model calls recorded" + (" in that window." if since or until else " yet."))
    else:
        print_usage(console, report)


def print_usage(out: Console, report: UsageReport) -> None:
    """A table that fits 80 columns: tokens in short form (exact in --json and --csv), a long key folded."""
    table = Table(
        title=_title(report), box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True
    )
    table.add_column(report.by.value, overflow="fold")
    unpriced = report.total.unpriced > 0
    columns = ["calls", "failed", "input", "output", "cache rd", "cache wr", "cost"]
    for column in [*columns, "unpriced"] if unpriced else columns:
        table.add_column(column, justify="right", no_wrap=True)
    for line in report.lines:
        table.add_row(escape(line.key), *_cells(line, unpriced=unpriced))
    table.add_section()
    table.add_row("total", *_cells(report.total, unpriced=unpriced), style="bold")
    out.print(table)
    if unpriced:
        out.print(
            f"{report.total.unpriced} call(s) had no price: a cost is the sum of the priced calls, "
            '"unknown" where none had one. Price their models with [prices."PROVIDER:MODEL"] in '
            ".factory/config.toml (`factory usage --by model` names them).",
            markup=False,
        )


def write_csv(report: UsageReport) -> None:
    """One row per line then the total; an unknown cost is an empty cell, never 0."""
    writer = csv.writer(sys.stdout)
    writer.writerow(
        [
            report.by.value,
            "calls",
            "failed_calls",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "cost_usd",
            "unpriced_calls",
        ]
    )
    for line in (*report.lines, report.total):
        writer.writerow(
            [
                line.key,
                line.calls,
                line.failed,
                line.input_tokens,
                line.output_tokens,
                line.cache_read_tokens,
                line.cache_write_tokens,
                "" if line.cost is None else line.cost,
                line.unpriced,
            ]
        )


def _cells(line: UsageLine, *, unpriced: bool) -> list[str]:
    counts = (line.input_tokens, line.output_tokens, line.cache_read_tokens, line.cache_write_tokens)
    cost = "unknown" if line.cost is None else money(line.cost)
    cells = [f"{line.calls:,}", f"{line.failed:,}", *(tokens(count) for count in counts), cost]
    return [*cells, f"{line.unpriced:,}"] if unpriced else cells


def _moment(at: datetime) -> str:
    """A window's end in local time, as briefly as it was likely given."""
    local = at.astimezone()
    if local.time() == time():
        return f"{local:%Y-%m-%d}"
    return f"{local:%Y-%m-%d %H:%M:%S}".removesuffix(":00")


def _title(report: UsageReport) -> str:
    window = ""
    if report.since is not None:
        window += f" from {_moment(report.since)}"
    if report.until is not None:
        window += f" before {_moment(report.until)}"
    return f"model calls by {report.by.value}{window}"


def _as_json(report: UsageReport) -> dict[str, object]:
    return {
        "by": report.by.value,
        "since": None if report.since is None else report.since.isoformat(),
        "until": None if report.until is None else report.until.isoformat(),
        "lines": [_line_json(line) for line in report.lines],
        "total": _line_json(report.total),
    }


def _line_json(line: UsageLine) -> dict[str, object]:
    """Cost as a string, so a script reads the exact Decimal; null when unknown."""
    fields = line.model_dump(mode="json", exclude={"spent"})
    return {**fields, "cost": None if line.cost is None else str(line.cost)}
