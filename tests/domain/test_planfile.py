"""The plan file as people read and edit it: a golden canonical file, hand edits, located errors."""

from pathlib import Path

import pytest

from aifactory.domain.plan import CarriedLesson, Complexity, Plan, Question, Step, TaskKind
from aifactory.domain.planfile import PLACEHOLDER, parse, render
from aifactory.errors import PlanFileError

GOLDEN = """\
# Add a top-customers report to the CLI

## Ask

~~~~text
Add a `report top-customers` command that prints the ten customers with the highest revenue
in a date range, as a table or as CSV.

Example of the CSV we want:

~~~
customer_id,name,revenue
42,ACME,1200.50
~~~

## Not a section: this heading is part of the ask
~~~~

## Context

- docs/api.yaml
- notes/cases.md

## Questions

### Q1. Should refunds count against revenue?

Yes: revenue is net of refunds.

A refund issued after the range still counts against the order's own date.

### Q2. Which currency should the report use?

_Open question: replace this line with your answer, then run `factory plan --answer <this file>`._

## Plan

### Approach

Query `orders` grouped by customer, subtract `refunds`, sort and cut at ten.

```sql
## not a heading: inside a fence
SELECT customer_id, SUM(total) FROM orders GROUP BY customer_id;
```

#### Output

Rich table by default; `--csv` writes CSV to stdout.

## Review

The plan covers the ask. The currency question must be answered before the run.

## Task list

### Step 1: Add the revenue query

- Files: src/shop/reports.py, tests/test_reports.py
- Complexity: complex

Write `top_customers(start, end, limit=10)` and test it against a real SQLite file.

### Step 2: Wire the CLI command

- Files: src/shop/cli.py
- Complexity: simple

- Files: listed above; this line is part of the description.
"""

GOLDEN_PLAN = Plan(
    title="Add a top-customers report to the CLI",
    ask=(
        "Add a `report top-customers` command that prints the ten customers with the highest revenue\n"
        "in a date range, as a table or as CSV.\n\nExample of the CSV we want:\n\n"
        "~~~\ncustomer_id,name,revenue\n42,ACME,1200.50\n~~~\n\n"
        "## Not a section: this heading is part of the ask"
    ),
    context=("docs/api.yaml", "notes/cases.md"),
    questions=(
        Question(
            text="Should refunds count against revenue?",
            answer="Yes: revenue is net of refunds.\n\n"
            "A refund issued after the range still counts against the order's own date.",
        ),
        Question(text="Which currency should the report use?"),
    ),
    body=(
        "### Approach\n\nQuery `orders` grouped by customer, subtract `refunds`, sort and cut at ten.\n\n"
        "```sql\n## not a heading: inside a fence\n"
        "SELECT customer_id, SUM(total) FROM orders GROUP BY customer_id;\n```\n\n"
        "#### Output\n\nRich table by default; `--csv` writes CSV to stdout."
    ),
    review="The plan covers the ask. The currency question must be answered before the run.",
    steps=(
        Step(
            title="Add the revenue query",
            files=("src/shop/reports.py", "tests/test_reports.py"),
            complexity=Complexity.COMPLEX,
            description="Write `top_customers(start, end, limit=10)` and test it against a real SQLite file.",
        ),
        Step(
            title="Wire the CLI command",
            files=("src/shop/cli.py",),
            description="- Files: listed above; this line is part of the description.",
        ),
    ),
)


def _errors(text: str) -> PlanFileError:
    with pytest.raises(PlanFileError) as caught:
        parse(text, path=Path("plans/x-plan.md"))
    return caught.value


# The canonical file


def test_a_full_plan_renders_to_the_golden_file() -> None:
    assert render(GOLDEN_PLAN) == GOLDEN


def test_the_golden_file_parses_to_the_full_plan() -> None:
    assert parse(GOLDEN) == GOLDEN_PLAN


def test_empty_sections_are_left_out() -> None:
    assert render(Plan(title="Tiny", ask="Do it.")) == "# Tiny\n\n## Ask\n\n~~~~text\nDo it.\n~~~~\n"


def test_an_open_question_is_written_as_the_placeholder() -> None:
    text = render(Plan(title="t", ask="a", questions=(Question(text="Why?"),)))
    assert text.endswith(f"### Q1. Why?\n\n{PLACEHOLDER}\n")
    assert "factory plan --answer" in PLACEHOLDER


# Hand edits that are respected


def _plan_with(sections: str) -> Plan:
    return parse(f"# T\n\n## Ask\n\nDo it.\n\n{sections}")


def test_step_headings_may_be_numbered_in_any_style_or_not_at_all() -> None:
    plan = _plan_with(
        "## Task list\n\n### Step 3: First\n\n### 7. Second\n\n### Third\n\n### step 1 Fourth\n"
    )
    assert [step.title for step in plan.steps] == ["First", "Second", "Third", "Fourth"]
    assert "### Step 2: Second" in render(plan)


def test_a_title_that_only_starts_with_a_number_keeps_it() -> None:
    plan = _plan_with("## Task list\n\n### 3 ways to fail\n\n### 3.5 release notes\n")
    assert [step.title for step in plan.steps] == ["3 ways to fail", "3.5 release notes"]


def test_step_fields_are_optional_in_any_order_with_any_case() -> None:
    plan = _plan_with(
        "## Task list\n\n### Bare\n\nJust do it.\n\n"
        "### Reordered\n- complexity: COMPLEX\n* FILES: a.py\nThen this.\n"
    )
    assert plan.steps == (
        Step(title="Bare", description="Just do it."),
        Step(title="Reordered", files=("a.py",), complexity=Complexity.COMPLEX, description="Then this."),
    )


@pytest.mark.parametrize(
    "files", ["a.py, b/c.py", "`a.py`, `b/c.py`", "`a.py` `b/c.py`", " a.py ,, `b/c.py` ", "`a.py`,b/c.py"]
)
def test_files_may_be_given_with_commas_or_backticks(files: str) -> None:
    plan = _plan_with(f"## Task list\n\n### S\n\n- Files: {files}\n")
    assert plan.steps[0].files == ("a.py", "b/c.py")


def test_question_headings_may_be_numbered_with_a_dot_a_colon_or_not_at_all() -> None:
    plan = _plan_with("## Questions\n\n### Q2. First?\n\n### q5: Second?\n\n### Third?\n")
    assert [q.text for q in plan.questions] == ["First?", "Second?", "Third?"]
    assert "### Q3. Third?" in render(plan)


def test_an_answer_may_run_over_several_paragraphs() -> None:
    plan = _plan_with(
        "## Questions\n\n### Q1. Which DB?\n\nPostgres.\n\n- with `pg8000`\n- no ORM\n\n\nDone.\n"
    )
    assert plan.questions[0].answer == "Postgres.\n\n- with `pg8000`\n- no ORM\n\n\nDone."


def test_an_answer_left_as_the_placeholder_or_empty_is_open() -> None:
    edited = "_Open question: I changed the wording but kept the prefix._"
    plan = _plan_with(
        f"## Questions\n\n### Q1. A?\n\n{PLACEHOLDER}\n\n### Q2. B?\n\n### Q3. C?\n\n{edited}\n"
    )
    assert [q.is_open for q in plan.questions] == [True, True, True]


def test_an_answer_typed_below_the_placeholder_counts() -> None:
    plan = _plan_with(f"## Questions\n\n### Q1. A?\n\n{PLACEHOLDER}\n\nYes, do that.\n")
    assert plan.questions[0].answer == "Yes, do that."


def test_blank_lines_may_be_missing_or_doubled() -> None:
    tight = "# T\n## Ask\nDo it.\n## Context\n- a.md\n## Task list\n### S\n- Complexity: complex\nDesc.\n"
    loose = tight.replace("\n", "\n\n\n")
    assert parse(tight) == parse(loose)
    assert parse(tight).steps == (Step(title="S", complexity=Complexity.COMPLEX, description="Desc."),)


def test_sections_may_come_in_any_order_and_any_case() -> None:
    plan = parse("## task LIST\n\n### S\n\n## review\n\nFine.\n\n## PLAN\n\nBody.\n\n## Ask\n\nDo it.\n")
    assert (plan.body, plan.review, plan.steps[0].title) == ("Body.", "Fine.", "S")
    text = render(plan)
    assert text.index("## Plan") < text.index("## Review") < text.index("## Task list")


def test_without_a_title_the_first_line_of_the_ask_names_the_plan() -> None:
    plan = parse("## Ask\n\n~~~\n\n  Add   a report.\nDetails follow.\n~~~\n")
    assert plan.title == "Add a report."
    assert plan.ask == "  Add   a report.\nDetails follow."


def test_an_unfenced_ask_is_taken_verbatim() -> None:
    plan = parse("# T\n\n## Ask\n\nBuild this:\n\n```\ncode\n```\n\nand that.\n")
    assert plan.ask == "Build this:\n\n```\ncode\n```\n\nand that."


def test_an_ask_in_a_backtick_fence_is_unwrapped() -> None:
    assert parse("# T\n\n## Ask\n\n```\nBuild it.\n```\n").ask == "Build it."


# Errors name the line and the fix


def test_an_unknown_section_is_refused_with_its_line_and_the_known_sections() -> None:
    error = _errors("# T\n\n## Ask\n\nDo it.\n\n## Notes\n\nSome notes.\n")
    assert error.line == 7
    assert str(error).startswith("plans/x-plan.md:7: unknown section `## Notes`")
    assert "Ask, Context, Questions, Lessons, Plan, Review, Task list" in str(error)
    assert "under `## Plan` as `###` subsections" in str(error)


def test_a_missing_ask_is_refused() -> None:
    error = _errors("# T\n\n## Plan\n\nBody.\n")
    assert (error.path, error.line) == (Path("plans/x-plan.md"), 1)
    assert "no `## Ask` section" in str(error)


def test_an_empty_ask_is_refused_at_its_section() -> None:
    error = _errors("# T\n\n## Ask\n\n~~~~text\n\n~~~~\n")
    assert error.line == 3
    assert "the ask is empty" in str(error)


def test_an_unknown_complexity_names_its_line_and_the_allowed_values() -> None:
    error = _errors("# T\n\n## Ask\n\nDo it.\n\n## Task list\n\n### S\n\n- Files: a.py\n- Complexity: hard\n")
    assert error.line == 12
    assert str(error).endswith("unknown complexity 'hard'; use one of: simple, complex")


def test_a_step_with_an_empty_title_is_refused_at_its_heading() -> None:
    error = _errors("# T\n\n## Ask\n\nDo it.\n\n## Task list\n\n### Step 1: Fine\n\n### Step 2:\n\nWhat?\n")
    assert error.line == 11
    assert str(error) == "plans/x-plan.md:11: step 2: title must not be empty"


def test_a_question_with_an_empty_text_is_refused_at_its_heading() -> None:
    error = _errors("# T\n\n## Ask\n\nDo it.\n\n## Questions\n\n### Q1.\n")
    assert (error.line, str(error)) == (9, "plans/x-plan.md:9: question 1: text must not be empty")


def test_a_model_validation_error_becomes_a_located_plan_file_error() -> None:
    error = _errors("# \n\n## Ask\n\nDo it.\n")
    assert str(error) == "plans/x-plan.md:1: the plan: title must not be empty"
    assert "validation error" not in str(error)


def test_an_unclosed_fence_is_refused_where_it_opens() -> None:
    error = _errors("# T\n\n## Ask\n\nDo it.\n\n## Plan\n\n```python\nx = 1\n\n## Review\n\nok\n")
    assert error.line == 9
    assert "never closed" in str(error)
    assert "close it with a line of ```" in str(error)


def test_a_repeated_section_is_refused() -> None:
    error = _errors("# T\n\n## Ask\n\nDo it.\n\n## Plan\n\nA.\n\n## Plan\n\nB.\n")
    assert error.line == 11
    assert "the first is on line 7" in str(error)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Intro\n# T\n## Ask\nDo it.\n", 1, "text before the first section"),
        ("# T\nA summary.\n## Ask\nDo it.\n", 2, "text between the title and the first section"),
        ("# T\n## Ask\nDo it.\n# Another title\n", 4, "only the plan's title is a `#` heading"),
        ("# T\n## Ask\nDo it.\n## Context\n- a.md\nsee also b.md\n", 6, "one document per line"),
        ("# T\n## Ask\nDo it.\n## Questions\nWhy?\n", 5, "each question needs its own heading"),
        ("# T\n## Ask\nDo it.\n## Task list\n1. Do it\n", 5, "each step needs its own heading"),
    ],
)
def test_text_the_format_has_no_place_for_is_refused_at_its_line(text: str, line: int, message: str) -> None:
    error = _errors(text)
    assert error.line == line
    assert message in str(error)


def test_errors_without_a_path_still_carry_the_line() -> None:
    with pytest.raises(PlanFileError) as caught:
        parse("# T\n\n## Oops\n")
    assert (caught.value.path, caught.value.line) == (None, 3)


def test_a_plan_says_which_lessons_it_carries_and_reads_them_back() -> None:
    plan = Plan(
        title="t",
        ask="a",
        kind=TaskKind.FEATURE,
        lessons=(CarriedLesson(id="stream-csv", rule="Read CSV input row by row."),),
    )
    text = render(plan)
    assert "## Lessons\n\nTask kind: feature\n\n- `stream-csv`: Read CSV input row by row." in text
    assert parse(text) == plan


def test_a_stray_line_among_the_lessons_is_refused_at_its_line() -> None:
    text = "# t\n\n## Ask\n\na\n\n## Lessons\n\n- `ok-one`: Rule.\nsome prose\n"
    with pytest.raises(PlanFileError, match=r"plan.md:10: `## Lessons` holds"):
        parse(text, path=Path("plan.md"))
    with pytest.raises(PlanFileError, match=r"unknown task kind 'epic'; use one of: feature, fix"):
        parse("# t\n\n## Ask\n\na\n\n## Lessons\n\nTask kind: epic\n")
