"""Where attempts' checkouts live: under the user's cache, never inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aifactory.errors import ConfigError, UserError
from aifactory.workspace.worktree import default_worktree_root, worktree_path, worktree_root


def test_the_default_root_is_in_the_cache_named_after_the_repository(git_repo: Path, tmp_path: Path) -> None:
    root = default_worktree_root(git_repo)
    cache = Path.home() / ".cache"  # conftest points XDG_CACHE_HOME there
    assert root.parent == cache / "aifactory" / "worktrees"
    assert re.fullmatch(r"repo-[0-9a-f]{8}", root.name)
    assert not root.is_relative_to(git_repo)


def test_repositories_with_the_same_name_get_different_roots(tmp_path: Path) -> None:
    first, second = tmp_path / "one" / "app", tmp_path / "two" / "app"
    assert default_worktree_root(first) != default_worktree_root(second)
    assert default_worktree_root(first) == default_worktree_root(first / "." / ".." / "app")


def test_the_cache_falls_back_to_home_when_xdg_cache_home_is_unset_or_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_worktree_root(tmp_path / "app").is_relative_to(tmp_path / "xdg" / "aifactory")
    for value in ("relative/cache", ""):
        monkeypatch.setenv("XDG_CACHE_HOME", value)
        assert default_worktree_root(tmp_path / "app").is_relative_to(Path.home() / ".cache" / "aifactory")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_worktree_root(tmp_path / "app").is_relative_to(Path.home() / ".cache" / "aifactory")


def test_a_configured_root_is_resolved_against_the_repository(git_repo: Path) -> None:
    assert worktree_root(git_repo, Path("../attempts")) == git_repo.parent / "attempts"
    assert worktree_root(git_repo, None) == default_worktree_root(git_repo)


def test_a_configured_root_inside_the_repository_is_refused(git_repo: Path) -> None:
    for inside in (Path(".worktrees"), git_repo, git_repo / "build" / "wt"):
        with pytest.raises(ConfigError, match=r"is inside the repository .*: configure a worktree root"):
            worktree_root(git_repo, inside)
    assert issubclass(ConfigError, UserError)


def test_a_default_root_inside_the_repository_is_refused_too(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A home directory kept in git (dotfiles) puts the cache inside the repository.
    monkeypatch.setenv("XDG_CACHE_HOME", str(git_repo / ".cache"))
    with pytest.raises(ConfigError, match="set XDG_CACHE_HOME or configure a worktree root outside it"):
        worktree_root(git_repo)


def test_each_attempt_of_each_run_has_its_own_folder(tmp_path: Path) -> None:
    assert worktree_path(tmp_path, "add-report-1a2b", "a3") == tmp_path / "add-report-1a2b" / "a3"
    for run_id, attempt in (("../escape", "a1"), ("run", "a/b"), ("..", "a1"), ("run", "")):
        with pytest.raises(ValueError, match="single path components"):
            worktree_path(tmp_path, run_id, attempt)
