"""The demo's simulated team: two tasks on a small shop repository, and a factory that learns between them.

The team behaves like a plausible one that has not yet learned a rule: unless its plan carries the
lesson about reading CSV input as a stream, the executors read the whole orders export into memory,
and the uncompromising ask verifier rejects that against the ask ("exports are several gigabytes").
The distiller turns the finding into that lesson, with an ast-grep check; from then on plans carry
the lesson, planners and executors follow it, and attempts pass. Every decision here is made from
what the request actually contains (the prompt, the diff, the held lessons), never from a script of
answers written in advance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aifactory.testing.democode import (
    AVERAGE_STREAMING,
    AVERAGE_TESTS,
    AVERAGE_WHOLE_FILE,
    TOP_STREAMING,
    TOP_TESTS,
    TOP_WHOLE_FILE,
)
from aifactory.testing.diffs import added_lines, changed_files, diff_in
from aifactory.testing.scenario import Answer, SimRequest, call_tool
from aifactory.testing.scenarios import Rules, offers_tool
from aifactory.testing.team import step_of

LESSON_RULE = "Read CSV input as a stream, row by row; never load a whole CSV file into memory."
_LESSON_MARK = "never load a whole CSV file into memory"


@dataclass(frozen=True)
class _Task:
    ask: str
    key: str
    """A phrase of the ask that tells the tasks apart."""
    title: str
    module: str
    tests: str
    streaming: str
    whole_file: str
    test_code: str
    goal: str
    questions: tuple[str, ...] = ()


_TOP = _Task(
    ask="Add a function top_customers(path, n) to shop/report.py that reads an orders CSV file "
    "(columns: customer, amount) and returns the n customers with the highest total amount, as "
    "(customer, total) pairs, highest first. Our order exports are several gigabytes, so memory "
    "use must not grow with the size of the file.",
    key="top_customers",
    title="Add a top-customers report",
    module="shop/report.py",
    tests="tests/test_report.py",
    streaming=TOP_STREAMING,
    whole_file=TOP_WHOLE_FILE,
    test_code=TOP_TESTS,
    goal="A report function that names the best customers of an order export.",
    questions=("How should customers with equal totals be ordered?",),
)

_AVERAGE = _Task(
    ask="Add a function average_order(path) to shop/averages.py that reads an orders CSV file "
    "(columns: customer, amount) and returns a dict mapping each customer to their mean order "
    "amount, as a Decimal rounded to cents. Order exports are several gigabytes.",
    key="average_order",
    title="Add average order amounts per customer",
    module="shop/averages.py",
    tests="tests/test_averages.py",
    streaming=AVERAGE_STREAMING,
    whole_file=AVERAGE_WHOLE_FILE,
    test_code=AVERAGE_TESTS,
    goal="A function giving each customer's mean order amount from an order export.",
)

_TASKS = (_TOP, _AVERAGE)
ASKS = tuple(task.ask for task in _TASKS)
ASK = _TOP.ask
_WHOLE_FILE_PATTERNS = (r"\.read\(\)", r"\.readlines\(\)")


def _task(request: SimRequest) -> _Task:
    return next((task for task in _TASKS if task.key in request.prompt), _TOP)


def _knows_lesson(request: SimRequest) -> bool:
    """Whether the prompt carries the lesson: in the plan template, the plan file, or the review."""
    return _LESSON_MARK in request.prompt


def _lesson_id(request: SimRequest) -> str:
    found = re.search(r"\[([a-z0-9-]+)\] " + re.escape(LESSON_RULE[:20]), request.prompt) or re.search(
        r"`([a-z0-9-]+)`: " + re.escape(LESSON_RULE[:20]), request.prompt
    )
    return found.group(1) if found else "the CSV lesson"


def _plan(request: SimRequest) -> Answer:
    task = _task(request)
    if _knows_lesson(request):
        approach = (
            f"Open the export and iterate over csv.DictReader on the open file, one row at a time, "
            f"keeping only running values per customer, as lesson [{_lesson_id(request)}] requires; "
            "the file is never held in memory."
        )
    else:
        approach = "Read the export with the csv module and compute the values per customer."
    body = (
        f"### Goal\n{task.goal}\n\n### Approach\n{approach} Amounts go through the existing "
        f"shop.orders.parse_amount.\n\n### Changes\n- {task.module} (new).\n- {task.tests} (new).\n\n"
        "### Tests\n- The values per customer are right on a small export.\n- An export with only a "
        "header gives an empty result.\n\n### Out of scope\nOther report formats."
    )
    return call_tool("submit_plan", title=task.title, body=body, kind="feature")


def _task_list(request: SimRequest) -> Answer:
    task = _task(request)
    reading = (
        f"read the CSV row by row with csv.DictReader over the open file ([{_lesson_id(request)}])"
        if _knows_lesson(request)
        else "read the CSV with the csv module"
    )
    steps = [
        {
            "title": f"Add {task.key} to {task.module}",
            "description": f"Create {task.module}: {reading}, parse amounts with parse_amount.",
            "files": [task.module],
            "complexity": "simple",
        },
        {
            "title": f"Test {task.key}",
            "description": f"Add {task.tests}; run the whole test suite.",
            "files": [task.tests],
            "complexity": "simple",
        },
    ]
    return call_tool("submit_task_list", review="No concerns.", steps=steps)


def _execute(request: SimRequest) -> Answer:
    """One executor turn, decided by the task, the step, the plan's lessons and the turns taken."""
    task = _task(request)
    turn = request.turns_since_user()
    if step_of(request) == 1:
        code = task.streaming if _knows_lesson(request) else task.whole_file
        script: list[Answer] = [
            call_tool("read_file", path="shop/orders.py"),
            call_tool("write_file", path=task.module, content=code),
            call_tool("step_done", summary=f"Added {task.module} with {task.key}."),
        ]
    else:
        script = [
            call_tool("write_file", path=task.tests, content=task.test_code),
            call_tool("run_command", command="python -m unittest -q"),
            call_tool("step_done", summary="Added the tests; the suite passes."),
        ]
    return script[min(turn, len(script) - 1)]


def _verify_plan(request: SimRequest) -> Answer:
    """The plan verifier: every file the task list names must be in the change."""
    task = _task(request)
    changed = set(changed_files(diff_in(request.prompt)))
    missing = [name for name in (task.module, task.tests) if name not in changed]
    findings = [
        {"severity": "error", "file": name, "what": f"{name} is not in the change", "why": "the plan adds it"}
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
            "why": "the ask says exports are several gigabytes; iterate over csv rows from the open file",
        }
        for added in added_lines(diff_in(request.prompt))
        if added.file.endswith(".py") and any(re.search(p, added.text) for p in _WHOLE_FILE_PATTERNS)
    ]
    if findings:
        return call_tool(
            "submit_ask_verdict",
            verdict="reject",
            summary="It works on small files but loads the whole export, against the ask.",
            findings=findings,
        )
    return call_tool(
        "submit_ask_verdict", verdict="pass", summary="Streams the export as asked.", findings=[]
    )


_FINDING = re.compile(r"## Finding (\d+) \(attempt \w+, from [^)]*\)\n- where: .*\n- what: (.*)")
_HELD = re.compile(r"- `([a-z0-9-]+)` \(\w+\): (.*)")


def _distill(request: SimRequest) -> Answer:
    """One lesson per finding about loading whole files: new the first time, the held one after."""
    held = next(
        (match.group(1) for match in _HELD.finditer(request.prompt) if _LESSON_MARK in match.group(2)), None
    )
    lessons = []
    for match in _FINDING.finditer(request.prompt):
        if "into memory" not in match.group(2):
            continue
        entry: dict[str, object] = {"finding": int(match.group(1)), "rule": LESSON_RULE}
        if held is not None:
            entry |= {"action": "same-as", "lesson": held}
        else:
            entry |= {
                "action": "new",
                "scope": {"languages": ["python"]},
                "check": {
                    "kind": "ast-grep",
                    "language": "python",
                    "rule": {"pattern": "$FILE.read()"},
                    "message": "reads a whole file into memory; iterate over it row by row instead",
                },
            }
        lessons.append(entry)
    return call_tool("submit_lessons", lessons=lessons)


def _questions(request: SimRequest) -> Answer:
    return call_tool("submit_questions", questions=list(_task(request).questions))


def demo_scenario() -> Rules:
    """The simulated team for `factory demo`; it serves both the Anthropic and the OpenAI server."""
    return Rules(
        (offers_tool("submit_questions"), _questions),
        (offers_tool("submit_plan"), _plan),
        (offers_tool("submit_task_list"), _task_list),
        (offers_tool("step_done"), _execute),
        (offers_tool("submit_plan_verdict"), _verify_plan),
        (offers_tool("submit_ask_verdict"), _verify_ask),
        (offers_tool("submit_lessons"), _distill),
    )


def demo_answer(question: str) -> str:
    """How the demo's simulated developer answers the planner."""
    return (
        "Alphabetically by customer name."
        if "equal" in question
        else "Use your judgment; say what you assumed."
    )
