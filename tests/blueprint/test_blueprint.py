"""The blueprint: the only source of prompts, editable, and strict about its variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.blueprint.store import Blueprint, Prompt, install_defaults, packaged_defaults, role_file
from aifactory.domain.plan import CarriedLesson, Question, Step
from aifactory.domain.run import Role
from aifactory.errors import BlueprintError


@pytest.fixture
def blueprint(tmp_path: Path) -> Blueprint:
    install_defaults(tmp_path / "blueprint")
    return Blueprint(tmp_path / "blueprint")


def test_every_role_has_a_shipped_prompt_file() -> None:
    for role in Role:
        assert (packaged_defaults() / role_file(role)).is_file()


def test_the_blueprint_holds_its_lessons_in_its_lessons_folder(blueprint: Blueprint) -> None:
    assert blueprint.lessons.directory == blueprint.root / "lessons"
    assert (blueprint.root / "lessons" / "README.md").is_file()
    assert blueprint.lessons.load().lessons == ()


def test_install_keeps_files_the_user_already_edited(tmp_path: Path) -> None:
    target = tmp_path / "blueprint"
    (target / "roles").mkdir(parents=True)
    mine = target / "roles" / "executor.md"
    mine.write_text("{% block system %}mine{% endblock %}{% block task %}t{% endblock %}")
    written = install_defaults(target)
    assert mine not in written
    assert mine.read_text().startswith("{% block system %}mine")
    assert (target / "plan-template.md") in written


def test_the_planner_prompt_carries_the_ask_the_answers_and_the_plan_template(blueprint: Blueprint) -> None:
    prompt = blueprint.prompt(
        Role.PLANNER,
        phase="plan",
        ask="Add a CSV report",
        context_docs=[],
        questions=[Question(text="Which columns?", answer="name and total")],
        plan_template=blueprint.plan_template(
            ask="Add a CSV report",
            context=[],
            lessons=[CarriedLesson(id="stream-csv", rule="Read CSV input row by row.")],
        ),
        repository="shop",
    )
    assert "- [stream-csv] Read CSV input row by row." in prompt.task
    assert "shop" in prompt.system
    assert "Add a CSV report" in prompt.task
    assert "A: name and total" in prompt.task
    assert "### Out of scope" in prompt.task
    assert "submit_plan" in prompt.task


def test_the_system_block_does_not_change_with_the_task(blueprint: Blueprint) -> None:
    """A stable system prompt is what lets providers cache it across attempts."""

    def executor_prompt(number: int) -> str:
        return blueprint.prompt(
            Role.EXECUTOR,
            plan_text="# plan",
            step=Step(title=f"step {number}"),
            step_number=number,
            total_steps=2,
            done=[],
            attempt=f"a{number}",
            branch=f"factory/r/a{number}",
            agent="builtin",
        ).system

    assert executor_prompt(1) == executor_prompt(2)


def test_the_plan_opens_the_request_apart_from_what_each_step_changes(blueprint: Blueprint) -> None:
    """The plan is the same for every step and attempt: providers cache it behind its own breakpoint."""

    def executor_prompt(number: int) -> Prompt:
        return blueprint.prompt(
            Role.EXECUTOR,
            plan_text="# plan\n\nWrite the notes.",
            step=Step(title=f"step {number}"),
            step_number=number,
            total_steps=2,
            done=[],
            attempt=f"a{number}",
            branch=f"factory/r/a{number}",
            agent="builtin",
        )

    first, second = executor_prompt(1), executor_prompt(2)
    assert first.stable == second.stable
    assert "Write the notes." in first.stable
    assert "Write the notes." not in first.task
    assert "step 1" in first.task


def test_a_role_file_without_a_stable_block_sends_its_task_alone(blueprint: Blueprint) -> None:
    path = blueprint.root / "roles" / "executor.md"
    path.write_text("{% block system %}Work.{% endblock %}{% block task %}Step {{ n }}.{% endblock %}")
    assert blueprint.prompt(Role.EXECUTOR, n=1) == Prompt(system="Work.", task="Step 1.", stable="")


def test_an_edited_prompt_is_what_the_role_gets(blueprint: Blueprint) -> None:
    path = blueprint.root / "roles" / "ask-verifier.md"
    path.write_text(
        "{% block system %}Be strict about {{ ask }}.{% endblock %}{% block task %}Go.{% endblock %}"
    )
    prompt = blueprint.prompt(Role.ASK_VERIFIER, ask="streaming")
    assert prompt.system == "Be strict about streaming."


def test_an_unknown_variable_names_the_file(blueprint: Blueprint) -> None:
    path = blueprint.root / "roles" / "plan-reviewer.md"
    path.write_text("{% block system %}{{ nonsense }}{% endblock %}{% block task %}x{% endblock %}")
    with pytest.raises(BlueprintError, match=r"plan-reviewer\.md: 'nonsense' is undefined"):
        blueprint.prompt(Role.PLAN_REVIEWER)


def test_a_syntax_error_names_file_and_line(blueprint: Blueprint) -> None:
    path = blueprint.root / "roles" / "executor.md"
    path.write_text("{% block system %}\nok\n{% if %}\n{% endblock %}")
    with pytest.raises(BlueprintError, match=r"executor\.md:3: template syntax error"):
        blueprint.prompt(Role.EXECUTOR)


def test_a_role_file_without_its_blocks_is_refused(blueprint: Blueprint) -> None:
    (blueprint.root / "roles" / "planner.md").write_text("just text")
    with pytest.raises(BlueprintError, match=r"has no \{% block system %\}"):
        blueprint.prompt(Role.PLANNER)


def test_a_missing_file_says_how_to_restore_it(blueprint: Blueprint) -> None:
    (blueprint.root / "plan-template.md").unlink()
    with pytest.raises(BlueprintError, match="run `factory init` to write the shipped default again"):
        blueprint.plan_template(ask="x", context=[])
