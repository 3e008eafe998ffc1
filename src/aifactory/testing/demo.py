"""The demo's material: a small sample repository, the ask, and a simulated team that works on it.

The simulated model behaves like a plausible team: the planner asks one question, the reviewer
splits the work into two steps, executors write code and tests with tools, and the verifiers judge
the diff in their prompt. Attempts differ the way real attempts do: odd attempts stream the CSV,
even ones read the whole file into memory, which the ask verifier rejects for that reason.
"""

from __future__ import annotations

import re
import textwrap

from aifactory.testing.diffs import added_lines, changed_files, diff_in
from aifactory.testing.scenario import Answer, SimRequest, call_tool
from aifactory.testing.scenarios import Rules, offers_tool

ASK = (
    "Add a function top_customers(path, n) to shop/report.py that reads an orders CSV file "
    "(columns: customer, amount) and returns the n customers with the highest total amount, as "
    "(customer, total) pairs, highest first. Our order exports are several gigabytes, so memory "
    "use must not grow with the size of the file."
)

SAMPLE_FILES = {
    "README.md": "# shop\n\nOrder reports for the shop.\n",
    "shop/__init__.py": '"""Order reports for the shop."""\n',
    "shop/orders.py": textwrap.dedent(
        '''\
        """Parsing single order records."""

        from decimal import Decimal


        def parse_amount(text: str) -> Decimal:
            """Amounts are written with a dot and two decimals, e.g. 12.50."""
            return Decimal(text.strip())
        '''
    ),
    "tests/__init__.py": "",
    "tests/test_orders.py": textwrap.dedent(
        """\
        import unittest
        from decimal import Decimal

        from shop.orders import parse_amount


        class ParseAmountTest(unittest.TestCase):
            def test_parses_two_decimals(self):
                self.assertEqual(parse_amount(" 12.50 "), Decimal("12.50"))
        """
    ),
}

_STREAMING = '''\
"""Reports over order exports, which are too large to load whole."""

import csv
from collections import defaultdict
from decimal import Decimal

from shop.orders import parse_amount


def top_customers(path, n):
    """The n customers with the highest total, highest first; ties by name.

    The file is read row by row, so memory grows with the number of customers, not of orders.
    """
    totals = defaultdict(Decimal)
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            totals[row["customer"]] += parse_amount(row["amount"])
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
'''

_WHOLE_FILE = '''\
"""Reports over order exports."""

import csv
import io
from decimal import Decimal

from shop.orders import parse_amount


def top_customers(path, n):
    """The n customers with the highest total, highest first; ties by name."""
    with open(path, encoding="utf-8") as handle:
        content = handle.read()
    totals = {}
    for row in csv.DictReader(io.StringIO(content)):
        totals[row["customer"]] = totals.get(row["customer"], Decimal(0)) + parse_amount(row["amount"])
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:n]
'''

_TESTS = """\
import tempfile
import unittest
from decimal import Decimal
from pathlib import Path

from shop.report import top_customers


class TopCustomersTest(unittest.TestCase):
    def write(self, text):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        path = Path(folder.name) / "orders.csv"
        path.write_text(text, encoding="utf-8")
        return path

    def test_highest_totals_first(self):
        path = self.write("customer,amount\\nann,10.00\\nbob,5.00\\nann,1.50\\ncid,7.25\\n")
        self.assertEqual(top_customers(path, 2), [("ann", Decimal("11.50")), ("cid", Decimal("7.25"))])

    def test_ties_are_broken_by_name(self):
        path = self.write("customer,amount\\nzoe,3.00\\namy,3.00\\n")
        self.assertEqual(top_customers(path, 2), [("amy", Decimal("3.00")), ("zoe", Decimal("3.00"))])

    def test_an_empty_export_has_no_customers(self):
        self.assertEqual(top_customers(self.write("customer,amount\\n"), 3), [])
"""

_STEPS = [
    {
        "title": "Add top_customers to shop/report.py",
        "description": "Create shop/report.py with top_customers(path, n): read the CSV row by row with "
        "csv.DictReader, sum amounts per customer with parse_amount, sort by total descending then "
        "name, return the first n pairs.",
        "files": ["shop/report.py"],
        "complexity": "simple",
    },
    {
        "title": "Test top_customers",
        "description": "Add tests/test_report.py covering ordering by total, ties broken by name and an "
        "empty export; run the whole test suite.",
        "files": ["tests/test_report.py"],
        "complexity": "simple",
    },
]

_PLAN = """\
### Goal
A report function that names the best customers of an order export without loading the export
into memory, since exports are several gigabytes.

### Approach
Read the file with csv.DictReader, one row at a time, keeping one running total per customer
(Decimal, through the existing shop.orders.parse_amount). Sort the totals by amount descending
and name ascending, and return the first n.

### Changes
- shop/report.py (new): top_customers(path, n).
- tests/test_report.py (new): its tests.

### Tests
- Customers come out highest total first, limited to n.
- Equal totals are ordered by name.
- An export with only a header gives an empty list.

### Out of scope
Command-line entry points and other report formats.
"""

_WHOLE_FILE_PATTERNS = (r"\.read\(\)", r"\.readlines\(\)", r"list\(csv\.")


def _attempt_number(request: SimRequest) -> int:
    found = re.search(r"\(Attempt a(\d+) on branch", request.prompt)
    return int(found.group(1)) if found else 1


def _step_number(request: SimRequest) -> int:
    found = re.search(r"# Your step: (\d+) of \d+", request.prompt)
    return int(found.group(1)) if found else 1


def _execute(request: SimRequest) -> Answer:
    """One executor turn, decided by the step, the attempt and how many turns it has taken."""
    turn = request.turns_since_user()
    if _step_number(request) == 1:
        code = _STREAMING if _attempt_number(request) % 2 else _WHOLE_FILE
        script: list[Answer] = [
            call_tool("read_file", path="shop/orders.py"),
            call_tool("write_file", path="shop/report.py", content=code),
            call_tool("step_done", summary="Added shop/report.py with top_customers, totals per customer."),
        ]
    else:
        script = [
            call_tool("write_file", path="tests/test_report.py", content=_TESTS),
            call_tool("run_command", command="python -m unittest -q"),
            call_tool(
                "step_done", summary="Added tests for ordering, ties and empty exports; the suite passes."
            ),
        ]
    return script[min(turn, len(script) - 1)]


def _verify_plan(request: SimRequest) -> Answer:
    """The plan verifier: every file the task list names must be in the change."""
    changed = set(changed_files(diff_in(request.prompt)))
    missing = [step["files"][0] for step in _STEPS if step["files"][0] not in changed]
    findings = [
        {
            "severity": "error",
            "file": name,
            "what": f"{name} is not in the change",
            "why": "the task list creates it",
        }
        for name in missing
    ]
    summary = "Both steps are implemented as planned." if not missing else "Planned files are missing."
    return call_tool(
        "submit_plan_verdict", verdict="reject" if missing else "pass", summary=summary, findings=findings
    )


def _verify_ask(request: SimRequest) -> Answer:
    """The uncompromising verifier: code that reads the whole export contradicts the ask."""
    findings = [
        {
            "severity": "error",
            "file": added.file,
            "line": added.line,
            "what": "the whole orders file is read into memory",
            "why": "the ask says exports are several gigabytes and memory must not grow with the file; "
            "iterate over csv rows from the open file instead",
        }
        for added in added_lines(diff_in(request.prompt))
        if added.file.endswith(".py") and any(re.search(p, added.text) for p in _WHOLE_FILE_PATTERNS)
    ]
    if findings:
        return call_tool(
            "submit_ask_verdict",
            verdict="reject",
            summary="The function works on small files but loads the whole export, against the ask.",
            findings=findings,
        )
    return call_tool(
        "submit_ask_verdict",
        verdict="pass",
        summary="Streams the export as asked; tests cover it.",
        findings=[],
    )


def demo_scenario() -> Rules:
    """The simulated team for `factory demo`; it serves both the Anthropic and the OpenAI server."""
    return Rules(
        (
            offers_tool("submit_questions"),
            call_tool("submit_questions", questions=["How should customers with equal totals be ordered?"]),
        ),
        (
            offers_tool("submit_plan"),
            call_tool("submit_plan", title="Add a streaming top-customers report", body=_PLAN),
        ),
        (
            offers_tool("submit_task_list"),
            call_tool(
                "submit_task_list",
                review="No concerns. The plan streams the export as the ask requires.",
                steps=_STEPS,
            ),
        ),
        (offers_tool("step_done"), _execute),
        (offers_tool("submit_plan_verdict"), _verify_plan),
        (offers_tool("submit_ask_verdict"), _verify_ask),
    )


def demo_answer(question: str) -> str:
    """How the demo's simulated developer answers the planner."""
    return (
        "Alphabetically by customer name."
        if "equal" in question
        else "Use your judgment; say what you assumed."
    )
