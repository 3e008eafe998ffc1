"""`factory agent`: small agents on files, each change one commit on its own branch, or dropped."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from aifactory.testing.scenario import Answer, SimRequest, call_tool
from aifactory.testing.scenarios import offers_tool
from aifactory.testing.team import scripted_team
from tests.sim import SimProject, sim_project
from tests.support import git

CODE = "def hello():\n    return 'hello'\n"
SWEPT = "def hello() -> str:\n    return 'hello'\n"
BROKEN = "def hello() -> str:\n    return 'bye'\n"
TEST = shlex.join(
    [sys.executable, "-c", "import sys; sys.path.insert(0, 'src'); import app; assert app.hello() == 'hello'"]
)


def writes(path: str, content: str, **report: object) -> Callable[[SimRequest], Answer]:
    """A small agent that writes `content` to `path`, then reports."""

    def answer(request: SimRequest) -> Answer:
        if request.turns_since_user() == 0:
            return call_tool("write_file", path=path, content=content)
        return call_tool("agent_done", summary=f"Swept {path}.", **report)

    return answer


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as opened:
        yield opened


def _project(stack: ExitStack, tmp_path: Path, agent: Callable[[SimRequest], Answer]) -> SimProject:
    team = scripted_team().first(offers_tool("agent_done"), agent)
    return stack.enter_context(sim_project(tmp_path, team, files={"src/app.py": CODE}, test=TEST))


def test_the_sweeper_commits_its_sweep_on_a_new_branch_and_leaves_the_working_tree_alone(
    stack: ExitStack, tmp_path: Path
) -> None:
    sim = _project(
        stack, tmp_path, writes("src/app.py", SWEPT, notes=["src/app.py: annotated the return type"])
    )
    result = sim.cli("agent", "run", "style-sweeper", "--files", "src/app.py")
    assert result.returncode == 0, result.stderr
    assert "src/app.py: annotated the return type" in result.stdout
    branch = next(line.split()[-1] for line in result.stdout.splitlines() if line.startswith("committed"))
    assert branch.startswith("factory/agent/style-sweeper-")
    assert git(sim.repo, "show", f"{branch}:src/app.py") == SWEPT
    message = git(sim.repo, "log", "-1", "--format=%B", branch)
    assert message.startswith("agent: style-sweeper")
    assert "Factory-Agent: style-sweeper" in message
    assert (sim.repo / "src/app.py").read_text() == CODE
    prompt = sim.requests_for("agent_done")[0]
    assert "# The team's style rules" in prompt and "- src/app.py" in prompt


def test_a_sweep_that_breaks_the_tests_is_dropped_with_the_reason(stack: ExitStack, tmp_path: Path) -> None:
    sim = _project(stack, tmp_path, writes("src/app.py", BROKEN))
    result = sim.cli("agent", "run", "style-sweeper", "--files", "src/app.py")
    assert result.returncode == 1
    assert "dropped:" in result.stdout and "failed with exit code 1" in result.stdout
    assert "factory/agent/" not in git(sim.repo, "branch", "--list")


def test_bad_input_names_the_fix(stack: ExitStack, tmp_path: Path) -> None:
    sim = _project(stack, tmp_path, writes("src/app.py", SWEPT))
    unknown = sim.cli("agent", "run", "stylist", "--files", "src/app.py")
    assert unknown.returncode == 2
    assert "no agent named 'stylist'" in unknown.stderr and "style-sweeper" in unknown.stderr
    both = sim.cli("agent", "run", "style-sweeper", "--on", "x/a1", "--files", "src/app.py")
    assert both.returncode == 2 and "--on and --files" in both.stderr
    missing = sim.cli("agent", "run", "style-sweeper", "--on", "no-such-run/a1")
    assert missing.returncode == 2, missing.stderr
    listed = sim.cli("agent", "list")
    assert "librarian" in listed.stdout and "test-writer" in listed.stdout and "doc-writer" in listed.stdout


def test_enabled_agents_run_in_each_attempt_after_its_steps_and_before_verification(
    stack: ExitStack, tmp_path: Path
) -> None:
    sim = _project(stack, tmp_path, writes("notes/step-1.txt", "swept note\n", notes=["notes/step-1.txt"]))
    config = sim.repo / ".factory" / "config.toml"
    config.write_text(
        config.read_text() + '[small_agents]\nafter_execution = ["style-sweeper"]\n', encoding="utf-8"
    )
    git(sim.repo, "commit", "-qam", "enable the sweeper")
    planned = sim.cli("plan", "--no-interactive", "Write the notes")
    assert planned.returncode == 0, planned.stderr
    plan = next((sim.repo / "plans").glob("*-plan.md"))
    result = sim.cli("run", str(plan), "--attempts", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    branch = next(b.strip(" *+") for b in git(sim.repo, "branch", "--list", "factory/*").splitlines())
    subjects = git(sim.repo, "log", "--reverse", "--format=%s", f"HEAD..{branch}").splitlines()
    assert subjects[-1] == "agent: style-sweeper"
    assert all(subject.startswith("step ") for subject in subjects[:-1])
    assert git(sim.repo, "show", f"{branch}:notes/step-1.txt") == "swept note\n"
    verifier_prompts = sim.requests_for("submit_plan_verdict")
    assert verifier_prompts and "swept note" in verifier_prompts[0]
    shown = sim.cli("show", branch.split("/")[1])
    assert "agent style-sweeper" in shown.stdout, shown.stdout
