"""The executor's file tools stay inside the worktree: escapes are refused to the model, never executed."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.agents.confine import Refused, confine
from aifactory.domain.run import AttemptState
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
