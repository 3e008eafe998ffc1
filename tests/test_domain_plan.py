"""The plan's own rules: what a plan may contain so that its file stays parseable."""

import pytest
from pydantic import ValidationError

from aifactory.domain.plan import Plan, Question, Step, slugify


def test_titles_collapse_to_one_line() -> None:
    assert Plan(title="Add\n  a   report", ask="x").title == "Add a report"


def test_a_section_heading_inside_the_plan_body_is_refused_with_its_line() -> None:
    with pytest.raises(ValidationError, match=r"line 3 is a heading \('Oops'\)"):
        Plan(title="t", ask="a", body="intro\n\n## Oops\n")


def test_deeper_headings_and_fenced_headings_are_allowed_in_the_plan_body() -> None:
    body = "### Approach\n\n```md\n## not a heading inside a fence\n```"
    assert Plan(title="t", ask="a", body=body).body == body


def test_step_descriptions_may_not_open_a_new_step() -> None:
    with pytest.raises(ValidationError, match="use #### or deeper"):
        Step(title="s", description="### Step 2: sneaky")


def test_blank_answers_leave_the_question_open() -> None:
    plan = Plan(
        title="t",
        ask="a",
        questions=(Question(text="why?", answer="  \n"), Question(text="ok?", answer="yes")),
    )
    assert [q.text for q in plan.open_questions] == ["why?"]
    assert not plan.is_ready


def test_slugs_are_cut_at_a_word_boundary() -> None:
    assert slugify("Add a top-customers report to the CLI!", max_length=20) == "add-a-top-customers"
    assert slugify("???") == "task"
