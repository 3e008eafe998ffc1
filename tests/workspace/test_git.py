"""The git wrapper against real repositories: queries, commits, worktrees, diffs and merges."""

from __future__ import annotations

import asyncio
import subprocess
import tracemalloc
from pathlib import Path

import pytest

from aifactory.errors import GitError, NotARepositoryError
from aifactory.workspace.git import Git
from aifactory.workspace.gitdata import FileStat
from tests.support import git


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


async def _write_async(path: Path, text: str) -> None:
    await asyncio.to_thread(_write, path, text)


def _checkout_state(repo: Path) -> tuple[str, str, bytes]:
    """Everything a merge could disturb: HEAD, the status and the index file itself."""
    return (
        git(repo, "rev-parse", "HEAD"),
        git(repo, "status", "--porcelain"),
        (repo / ".git/index").read_bytes(),
    )


@pytest.fixture
def forked(git_repo: Path) -> Path:
    """`main` and `topic` forked from the first commit; both changed `f.txt` line 2 differently."""
    _write(git_repo / "f.txt", "a\nb\nc\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "add f")
    git(git_repo, "branch", "topic")
    _write(git_repo / "f.txt", "a\nMAIN\nc\n")
    git(git_repo, "commit", "-qam", "main edits f")
    git(git_repo, "checkout", "-q", "topic")
    _write(git_repo / "f.txt", "a\nTOPIC\nc\n")
    _write(git_repo / "topic.txt", "only on topic\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "topic edits f")
    git(git_repo, "checkout", "-q", "main")
    return git_repo


async def test_discover_binds_to_the_top_of_the_repository_from_a_subdirectory(git_repo: Path) -> None:
    (git_repo / "src" / "pkg").mkdir(parents=True)
    repo = await Git.discover(git_repo / "src" / "pkg")
    assert repo.path == git_repo
    assert await repo.common_dir() == git_repo / ".git"


async def test_a_directory_outside_any_repository_is_refused_with_advice(tmp_path: Path) -> None:
    with pytest.raises(NotARepositoryError) as raised:
        await Git.discover(tmp_path)
    message = str(raised.value)
    assert f"{tmp_path} is not inside a git repository: run `git init` or pass --repo" in message
    assert "not a git repository" in message  # git's own words


async def test_a_repository_without_commits_has_no_head_and_is_refused_with_advice(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    repo = await Git.discover(tmp_path)
    assert await repo.head() is None
    assert await repo.current_branch() == "main"
    with pytest.raises(
        NotARepositoryError, match=r"has no commits yet: .*`git commit --allow-empty -m init`"
    ):
        await repo.require_head()


async def test_a_detached_head_has_a_commit_but_no_branch(git_repo: Path) -> None:
    git(git_repo, "checkout", "-q", "--detach")
    repo = Git(git_repo)
    assert await repo.current_branch() is None
    assert await repo.head() == git(git_repo, "rev-parse", "HEAD").strip()


async def test_dirty_paths_lists_staged_unstaged_untracked_deleted_and_renamed_paths(git_repo: Path) -> None:
    for name in ("gone.txt", "old name.txt", "kept.txt"):
        _write(git_repo / name, f"{name}\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "more files")
    repo = Git(git_repo)
    assert await repo.dirty_paths() == []

    _write(git_repo / "README.md", "changed, not staged\n")
    _write(git_repo / "staged.txt", "new and staged\n")
    git(git_repo, "add", "staged.txt")
    _write(git_repo / "dir" / "ünïcode new.txt", "untracked\n")
    (git_repo / "gone.txt").unlink()
    git(git_repo, "mv", "old name.txt", "new name.txt")
    assert await repo.dirty_paths() == sorted(
        ["README.md", "staged.txt", "dir/ünïcode new.txt", "gone.txt", "old name.txt", "new name.txt"]
    )


async def test_commits_work_with_no_git_identity_configured(git_repo: Path) -> None:
    # Without an identity git would otherwise refuse, rather than guess one from the host name.
    git(git_repo, "config", "user.useConfigOnly", "true")
    plain = await asyncio.create_subprocess_exec(
        *("git", "commit", "--allow-empty", "-qm", "plain"), cwd=git_repo, stderr=asyncio.subprocess.PIPE
    )
    _, said = await plain.communicate()
    assert b"Please tell me who you are" in said
    _write(git_repo / "step.txt", "step 1\n")
    sha = await Git(git_repo).commit_all("Step 1: add step.txt")
    assert git(git_repo, "rev-parse", "HEAD").strip() == sha
    assert git(git_repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s") == (
        "aifactory <aifactory@localhost>|aifactory <aifactory@localhost>|Step 1: add step.txt\n"
    )


async def test_commit_all_stages_new_changed_and_deleted_files(git_repo: Path) -> None:
    _write(git_repo / "new.txt", "new\n")
    (git_repo / "README.md").unlink()
    repo = Git(git_repo)
    sha = await repo.commit_all("step", author="Ada <ada@example.com>")
    shown = git(git_repo, "show", "--name-status", "--format=%an", sha)
    assert shown.split() == ["Ada", "D", "README.md", "A", "new.txt"]
    assert await repo.dirty_paths() == []


async def test_an_empty_step_still_commits_unless_asked_not_to(git_repo: Path) -> None:
    repo = Git(git_repo)
    before = await repo.require_head()
    empty = await repo.commit_all("a step that changed nothing")
    assert git(git_repo, "rev-parse", "HEAD~1").strip() == before
    assert await repo.commit_all("nothing again", allow_empty=False) == empty


async def test_a_worktree_is_created_listed_committed_in_and_removed(git_repo: Path, tmp_path: Path) -> None:
    repo = await Git.discover(git_repo)
    base = await repo.require_head()
    where = tmp_path / "worktrees" / "run-1" / "a1"
    attempt = await repo.add_worktree(where, "factory/run-1/a1", base)

    assert attempt.path == where
    assert await attempt.current_branch() == "factory/run-1/a1"
    assert await repo.branch_exists("factory/run-1/a1")
    listed = git(git_repo, "worktree", "list", "--porcelain")
    assert f"worktree {where}\nHEAD {base}\nbranch refs/heads/factory/run-1/a1" in listed

    await _write_async(where / "work.txt", "done\n")
    sha = await attempt.commit_all("work")
    assert git(git_repo, "rev-parse", "factory/run-1/a1").strip() == sha
    assert await repo.head() == base  # the main checkout did not move

    await repo.remove_worktree(where)
    assert not where.exists()
    assert git(git_repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    await repo.delete_branch("factory/run-1/a1", force=True)
    assert not await repo.branch_exists("factory/run-1/a1")


async def test_removing_a_worktree_whose_directory_is_gone_forgets_it(git_repo: Path, tmp_path: Path) -> None:
    repo = Git(git_repo)
    where = tmp_path / "a1"
    await repo.add_worktree(where, "a1", "HEAD")
    await asyncio.to_thread(subprocess.run, ["rm", "-rf", str(where)], check=True)
    assert "prunable" in git(git_repo, "worktree", "list", "--porcelain")
    await repo.remove_worktree(where)
    await repo.remove_worktree(where)  # and again: nothing left to do
    assert git(git_repo, "worktree", "list", "--porcelain").count("worktree ") == 1


async def test_a_branch_whose_worktree_folder_was_deleted_is_checked_out_again_as_it_was(
    git_repo: Path, tmp_path: Path
) -> None:
    repo = Git(git_repo)
    where = tmp_path / "a1"
    attempt = await repo.add_worktree(where, "a1", "HEAD")
    await _write_async(where / "step.txt", "one\n")
    sha = await attempt.commit_all("step 1")
    await asyncio.to_thread(subprocess.run, ["rm", "-rf", str(where)], check=True)

    again = await repo.add_worktree(where, "a1")
    assert await again.head() == sha
    assert await again.current_branch() == "a1"
    assert (where / "step.txt").read_text() == "one\n"


async def test_discarding_changes_drops_edits_new_files_and_a_dead_gits_lock_and_keeps_ignored_files(
    git_repo: Path, tmp_path: Path
) -> None:
    _write(git_repo / ".gitignore", "build/\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "ignore build")
    attempt = await Git(git_repo).add_worktree(tmp_path / "a1", "a1", "HEAD")
    await _write_async(tmp_path / "a1" / "README.md", "half-done edit\n")
    await _write_async(tmp_path / "a1" / "new" / "half.txt", "half-done file\n")
    await _write_async(tmp_path / "a1" / "build" / "cache.bin", "kept\n")
    git(tmp_path / "a1", "add", "new/half.txt")
    lock = Path(
        git(tmp_path / "a1", "rev-parse", "--path-format=absolute", "--git-path", "index.lock").strip()
    )
    lock.write_text("")  # a git killed mid-commit leaves its lock

    await attempt.discard_changes()
    assert not lock.exists()
    assert await attempt.dirty_paths() == []
    assert (tmp_path / "a1" / "README.md").read_text() == "# sample\n"
    assert not (tmp_path / "a1" / "new").exists()
    assert (tmp_path / "a1" / "build" / "cache.bin").exists()


async def test_the_log_lists_a_branchs_own_commits_oldest_first_with_their_whole_messages(
    git_repo: Path, tmp_path: Path
) -> None:
    repo = Git(git_repo)
    base = await repo.require_head()
    attempt = await repo.add_worktree(tmp_path / "a1", "a1", base)
    first = await attempt.commit_all("step 1/2: one\n\nWrote one.\n\nFactory-Run: r\n")
    second = await attempt.commit_all("step 2/2: two")
    commits = await repo.log(base, "a1")
    assert [c.sha for c in commits] == [first, second]
    assert commits[0].message == "step 1/2: one\n\nWrote one.\n\nFactory-Run: r\n"
    assert commits[1].message.strip() == "step 2/2: two"
    assert commits[0].committed_at.tzinfo is not None
    assert await repo.log(base, base) == []


async def test_a_failed_git_command_carries_the_command_gits_words_and_a_fix(
    git_repo: Path, tmp_path: Path
) -> None:
    with pytest.raises(GitError) as raised:
        await Git(git_repo).add_worktree(tmp_path / "a1", "a1", "no-such-base")
    message = str(raised.value)
    assert "worktree add --quiet --no-track -b a1" in message
    assert "fatal: not a valid object name: 'no-such-base'" in message
    assert "use a new run id" in message


async def test_worktree_paths_must_be_absolute(git_repo: Path) -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        await Git(git_repo).add_worktree(Path("relative/a1"), "a1", "HEAD")


async def test_an_unmerged_branch_is_only_deleted_with_force(forked: Path) -> None:
    repo = Git(forked)
    with pytest.raises(GitError, match="not fully merged"):
        await repo.delete_branch("topic")
    await repo.delete_branch("topic", force=True)
    assert not await repo.branch_exists("topic")


async def test_diff_and_numstat_show_only_what_the_branch_did(forked: Path) -> None:
    (forked / "logo.png").write_bytes(b"\x89PNG\0\0binary")
    git(forked, "checkout", "-q", "topic")
    git(forked, "add", "logo.png")
    git(forked, "commit", "-qm", "logo")
    git(forked, "checkout", "-q", "main")
    repo = Git(forked)

    diff = await repo.diff("main", "topic", cap=100_000)
    assert not diff.truncated
    assert "+TOPIC" in diff.text
    assert "MAIN" not in diff.text  # main's own change after the fork is not the branch's
    assert "diff --git a/topic.txt b/topic.txt" in diff.text
    assert await repo.numstat("main", "topic") == [
        FileStat(path="f.txt", added=1, removed=1),
        FileStat(path="logo.png", added=None, removed=None),
        FileStat(path="topic.txt", added=1, removed=0),
    ]


async def test_a_huge_diff_is_cut_at_the_cap_without_reading_it_all(git_repo: Path) -> None:
    await _write_async(git_repo / "generated.txt", "generated line\n" * 1_500_000)  # 22 MB
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "generate")
    tracemalloc.start()
    try:
        diff = await Git(git_repo).diff("HEAD~1", "HEAD", cap=10_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert diff.truncated
    assert diff.text.startswith("diff --git a/generated.txt b/generated.txt\n")
    assert diff.text.endswith("+generated line\n")
    assert 9_900 < len(diff.text) <= 10_000
    assert peak < 2_000_000


async def test_a_diff_against_an_unknown_name_is_a_git_error(git_repo: Path) -> None:
    with pytest.raises(GitError, match="unknown revision"):
        await Git(git_repo).diff("main", "no-such-branch", cap=1000)


async def test_merge_check_names_the_conflicts_without_touching_the_checkout(forked: Path) -> None:
    _write(forked / "README.md", "uncommitted edit\n")
    git(forked, "add", "README.md")
    _write(forked / "untracked.txt", "x\n")
    before = _checkout_state(forked)
    check = await Git(forked).merge_check("main", "topic")
    assert not check.clean
    assert check.conflicts == ["f.txt"]
    assert "CONFLICT (content): Merge conflict in f.txt" in check.message
    assert _checkout_state(forked) == before


async def test_merge_check_reports_a_clean_merge_as_clean(forked: Path) -> None:
    git(forked, "branch", "clean", "main~1")
    git(forked, "checkout", "-q", "clean")
    _write(forked / "other.txt", "no conflict\n")
    git(forked, "add", "-A")
    git(forked, "commit", "-qm", "other")
    git(forked, "checkout", "-q", "main")
    before = _checkout_state(forked)
    check = await Git(forked).merge_check("main", "clean")
    assert (check.clean, check.conflicts) == (True, [])
    assert _checkout_state(forked) == before


async def test_merge_check_of_an_unknown_branch_is_an_error_not_a_conflict(forked: Path) -> None:
    with pytest.raises(GitError, match="no-such-branch - not something we can merge"):
        await Git(forked).merge_check("main", "no-such-branch")


async def test_merge_makes_a_merge_commit_with_both_parents(forked: Path) -> None:
    _write(forked / "f.txt", "a\nb\nc\n")
    git(forked, "commit", "-qam", "main undoes its edit")
    repo = Git(forked)
    sha = await repo.merge("topic", "Merge attempt a1")
    parents, subject, committer = git(forked, "log", "-1", "--format=%P|%s|%cn", sha).strip().split("|")
    assert (len(parents.split()), subject, committer) == (2, "Merge attempt a1", "aifactory")
    assert (forked / "topic.txt").exists()


async def test_a_conflicting_merge_is_aborted_and_names_the_files(forked: Path) -> None:
    before = _checkout_state(forked)
    with pytest.raises(GitError, match=r"The merge was aborted; conflicts in: f\.txt"):
        await Git(forked).merge("topic", "Merge attempt a1")
    assert not (forked / ".git" / "MERGE_HEAD").exists()
    assert _checkout_state(forked)[:2] == before[:2]


async def test_variables_from_a_parent_git_do_not_redirect_the_wrapper(
    git_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    # As inside a git hook of another repository.
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    assert await Git(git_repo).head() is not None
