"""The executor's file tools stay inside the worktree: escapes are refused to the model, never executed."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from aifactory.agents.confine import Refused, confine
from aifactory.domain.run import AttemptState
from aifactory.errors import ConfigError
from aifactory.testing import Answer, Rules, SimRequest, call_tool, offers_tool
from aifactory.testing.team import scripted_team
from tests.engine.runs import plan_and_run
from tests.sim import sim_project


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../outside.txt", "leads outside the repository"),
        ("src/../../outside.txt", "leads outside the repository"),
        ("/etc/passwd", "is absolute"),
        ("~/.ssh/id_rsa", "is absolute"),
        (".git/config", "inside .git"),
        ("src/.git/hooks/pre-commit", "inside .git"),
    ],
)
def test_paths_that_leave_the_worktree_are_refused(tmp_path: Path, path: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        confine(tmp_path, path)


def test_a_symlink_pointing_out_of_the_worktree_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "worktree"
    root.mkdir()
    (tmp_path / "secret").mkdir()
    (root / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(Refused, match="leads outside"):
        confine(root, "link/key.txt")


def test_paths_inside_resolve_even_through_inner_symlinks(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert confine(tmp_path, "alias/new.txt") == (tmp_path / "real" / "new.txt").resolve()
    assert confine(tmp_path, "./src/../README.md") == (tmp_path / "README.md").resolve()


_ESCAPES: list[Answer] = [
    call_tool("write_file", path="../escaped.txt", content="outside"),
    call_tool("read_file", path="/etc/hostname"),
    call_tool("run_command", command="ln -s .. up"),
    call_tool("write_file", path="up/escaped-through-link.txt", content="outside"),
    call_tool("replace_in_file", path=".git/HEAD", old="ref", new="nope"),
    call_tool("write_file", path="notes/inside.txt", content="inside\n"),
    call_tool("step_done", summary="Tried the walls."),
]


def _escaping_executor(request: SimRequest) -> Answer:
    return _ESCAPES[min(request.turns_since_user(), len(_ESCAPES) - 1)]


def test_the_model_is_told_no_and_nothing_outside_the_worktree_changes(tmp_path: Path) -> None:
    team = Rules((offers_tool("step_done"), _escaping_executor)).when(
        lambda r: True, scripted_team(steps=1).respond
    )
    with sim_project(tmp_path, team) as sim:
        finished = plan_and_run(sim, attempts=1)
        last = [r.sim for r in sim.claude.requests if r.sim.offers("step_done")][-1]
    attempt = finished.detail.attempts[0]
    assert attempt.state is AttemptState.PASSED
    results = [result.content for result in last.results_since_user()]
    assert "refused" in results[0] and "leads outside" in results[0]
    assert "refused" in results[1] and "absolute" in results[1]
    assert "refused" in results[3]
    assert "refused" in results[4] and ".git" in results[4]
    worktree = Path(attempt.worktree)
    assert not (worktree.parent / "escaped.txt").exists()
    assert not list(tmp_path.rglob("escaped-through-link.txt"))
    assert (worktree / "notes" / "inside.txt").read_text() == "inside\n"
    assert (attempt.steps[0].tool_calls, attempt.steps[0].refusals) == (6, 4)


def _commands(*commands: str) -> Callable[[SimRequest], Answer]:
    """An executor that runs `commands` one per turn, then says it is done."""
    answers = [*(call_tool("run_command", command=command) for command in commands)]
    answers.append(call_tool("step_done", summary="Ran the commands."))
    return lambda request: answers[min(request.turns_since_user(), len(answers) - 1)]


def _run_commands(tmp_path: Path, sandbox: str) -> tuple[list[str], Path]:
    repo, outside = tmp_path / "repo", tmp_path / "outside.txt"
    executor = _commands(
        f"echo escaped > {repo}/escaped.txt",
        f"echo escaped > {outside}",
        'echo inside > inside.txt && echo t > "$TMPDIR/t" && git status --short',
    )
    team = Rules((offers_tool("step_done"), executor)).when(lambda r: True, scripted_team(steps=1).respond)
    with sim_project(tmp_path, team, run={"sandbox": sandbox}) as sim:
        finished = plan_and_run(sim, attempts=1)
        last = [r.sim for r in sim.claude.requests if r.sim.offers("step_done")][-1]
    [attempt] = finished.detail.attempts
    assert attempt.state is AttemptState.PASSED, attempt.reason
    return [result.content for result in last.results_since_user()], Path(attempt.worktree)


def test_run_command_under_the_sandbox_cannot_write_outside_the_worktree(tmp_path: Path) -> None:
    results, worktree = _run_commands(tmp_path, "bwrap")
    assert results[0].startswith("exit code") and "Read-only file system" in results[0], results[0]
    assert "Read-only file system" in results[1], results[1]
    assert results[2].startswith("exit code 0") and "?? inside.txt" in results[2], results[2]
    assert not (tmp_path / "repo" / "escaped.txt").exists(), "the main repository is untouched"
    assert not (tmp_path / "outside.txt").exists()
    assert (worktree / "inside.txt").read_text() == "inside\n"


def test_run_command_without_the_sandbox_writes_where_it_likes(tmp_path: Path) -> None:
    results, worktree = _run_commands(tmp_path, "none")
    assert [result.split("\n")[0] for result in results] == ["exit code 0"] * 3, results
    assert (tmp_path / "repo" / "escaped.txt").exists() and (tmp_path / "outside.txt").exists()
    assert (worktree / "inside.txt").read_text() == "inside\n"


def _path_without_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "git").symlink_to(shutil.which("git") or "git")
    monkeypatch.setenv("PATH", str(tools))


def test_auto_without_bwrap_runs_unconfined_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = Rules((offers_tool("step_done"), _commands(f"echo escaped > {tmp_path}/outside.txt"))).when(
        lambda r: True, scripted_team(steps=1).respond
    )
    with sim_project(tmp_path, team) as sim:
        _path_without_bwrap(tmp_path, monkeypatch)
        finished = plan_and_run(sim, attempts=1)
    assert finished.detail.attempts[0].state is AttemptState.PASSED, finished.detail.attempts[0].reason
    warned = [n for n in finished.notices if "only detected, not prevented" in n]
    assert len(warned) == 1 and "apt-get install bubblewrap" in warned[0], finished.notices
    assert (tmp_path / "outside.txt").exists()


def test_a_bwrap_sandbox_that_cannot_run_stops_the_run_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sim_project(tmp_path, scripted_team(steps=1), run={"sandbox": "bwrap"}) as sim:
        _path_without_bwrap(tmp_path, monkeypatch)
        with pytest.raises(ConfigError, match=r'\[run\] sandbox = "bwrap".*not on PATH'):
            plan_and_run(sim, attempts=1)
        assert not sim.claude.requests or all(not r.sim.offers("step_done") for r in sim.claude.requests)
