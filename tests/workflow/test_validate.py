"""`factory workflow validate`'s checks: each problem names the file and the line it is on."""

from __future__ import annotations

from pathlib import Path

from aifactory.workflow.load import load_workflow
from aifactory.workflow.validate import validate


def _problems(tmp_path: Path, text: str, agents: set[str] | None = None) -> list[str]:
    path = tmp_path / "flow.toml"
    path.write_text(text)
    return [str(problem) for problem in validate(load_workflow(path), agents)]


def test_a_cycle_is_named_in_order_at_the_needs_line(tmp_path: Path) -> None:
    text = """
[[steps]]
id = "a"
kind = "shell"
command = "true"
needs = ["b"]

[[steps]]
id = "b"
kind = "shell"
command = "true"
needs = ["a"]
"""
    assert _problems(tmp_path, text) == [
        f"{tmp_path / 'flow.toml'}:6: cycle: a → b → a; a step cannot wait for itself"
    ]


def test_an_unknown_agent_is_reported_with_the_agents_defined(tmp_path: Path) -> None:
    text = '[[steps]]\nid = "sweep"\nkind = "agent"\nagent = "sweeper"\n'
    [problem] = _problems(tmp_path, text, agents={"style-sweeper"})
    assert problem.endswith("flow.toml:4: step sweep: unknown agent 'sweeper'; agents defined: style-sweeper")
    [none] = _problems(tmp_path, text, agents=None)
    assert "holds no NAME.md" in none


def test_a_missing_input_is_reported_at_the_field_using_it(tmp_path: Path) -> None:
    text = (
        '[inputs.api]\ntype = "file"\n\n'
        '[[steps]]\nid = "x"\nkind = "shell"\ncommand = "cat {{ inputs.spec }}"\n'
    )
    [problem] = _problems(tmp_path, text)
    assert problem.endswith("flow.toml:7: step x: command uses missing input 'spec'; declare [inputs.spec]")


def test_an_output_nobody_produces_is_reported(tmp_path: Path) -> None:
    text = """[[steps]]
id = "split"
kind = "shell"
command = "ls"

[[steps]]
id = "use"
kind = "shell"
command = "echo {{ steps.split.outputs.cases }}"
"""
    [problem] = _problems(tmp_path, text)
    assert problem.endswith(
        "flow.toml:9: step use: command needs output 'cases' of step split, which nobody produces "
        "(a shell step produces commit, lines, stdout)"
    )


def test_fanning_out_over_a_non_list_is_a_type_mismatch(tmp_path: Path) -> None:
    text = """[inputs.cases]
type = "file"

[[steps]]
id = "code"
kind = "shell"
for_each = "inputs.cases"
command = "echo {{ item }}"

[[steps]]
id = "list"
kind = "shell"
command = "ls"

[[steps]]
id = "more"
kind = "shell"
for_each = "steps.list.outputs.stdout"
command = "echo {{ item }}"
"""
    first, second = _problems(tmp_path, text)
    assert first.endswith(
        "flow.toml:7: type mismatch: step code fans out over inputs.cases, a file input; "
        'for_each needs a list (declare it with type = "list")'
    )
    assert second.endswith(
        "flow.toml:18: type mismatch: step more fans out over steps.list.outputs.stdout, "
        "which is not a list; use steps.list.outputs.lines"
    )


def test_a_valid_workflow_has_no_problems(tmp_path: Path) -> None:
    text = """[inputs.cases]
type = "list"

[[steps]]
id = "code"
kind = "shell"
for_each = "inputs.cases"
command = "echo {{ item }}"

[[steps]]
id = "docs"
kind = "shell"
command = "echo {{ steps.code.outputs.lines }}"
"""
    assert _problems(tmp_path, text) == []
