"""What each source streams: only added lines of a diff, every line of a tree or a commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from aifactory.checks.base import SourceFile
from aifactory.checks.sources import CommitTreeSource, DiffSource, Source, TreeSource
from aifactory.errors import GitError
from tests.checks.conftest import commit, write
from tests.support import git


async def _files(source: Source) -> dict[str, SourceFile]:
    return {file.path: file async for file in source.files(lambda path: True)}


def _added(file: SourceFile) -> list[int] | None:
    return None if file.lines is None else list(file.lines)


def _content(file: SourceFile) -> str:
    data = file.data if file.data is not None else file.disk.read_bytes() if file.disk else b""
    return data.decode()


async def test_a_diff_yields_the_added_lines_of_each_changed_file(shop: Path) -> None:
    git(shop, "switch", "-q", "-c", "topic")
    head = commit(
        shop,
        {
            "shop/prices.py": "PRICES = {'tea': 3}\n\n\ndef price(name):\n    return PRICES[name]\n\nX = 1\n",
            "shop/new.py": "a = 1\nb = 2\n",
        },
    )
    files = await _files(DiffSource(shop, "base", head))
    assert {path: _added(file) for path, file in files.items()} == {
        "shop/new.py": [1, 2],
        "shop/prices.py": [1, 6, 7],
    }
    assert _content(files["shop/new.py"]) == "a = 1\nb = 2\n"


async def test_a_diff_starts_where_head_forked_from_base(shop: Path) -> None:
    git(shop, "switch", "-q", "-c", "topic")
    head = commit(shop, {"shop/topic.py": "t = 1\n"})
    git(shop, "switch", "-q", "main")
    commit(shop, {"shop/later.py": "on main after the fork\n"})
    files = await _files(DiffSource(shop, "main", head))
    assert set(files) == {"shop/topic.py"}


async def test_a_diff_follows_renames_and_leaves_out_deleted_and_binary_files(shop: Path) -> None:
    git(shop, "switch", "-q", "-c", "topic")
    git(shop, "mv", "shop/prices.py", "shop/pricing.py")
    git(shop, "rm", "-q", "shop/io.py")
    head = commit(
        shop,
        {
            "shop/pricing.py": "PRICES = {}\n\n\ndef price(name):\n    return PRICES.get(name)\n",
            "shop/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
        },
    )
    files = await _files(DiffSource(shop, "base", head))
    assert {path: _added(file) for path, file in files.items()} == {"shop/pricing.py": [5]}


async def test_a_diff_reads_quoted_paths(shop: Path) -> None:
    git(shop, "switch", "-q", "-c", "topic")
    head = commit(
        shop, {"shop/with space.py": "x = 1\n", "shop/prix\u00e9.py": "y = 2\n", 'shop/q"uote.py': "z\n"}
    )
    files = await _files(DiffSource(shop, "base", head))
    assert set(files) == {"shop/with space.py", "shop/prix\u00e9.py", 'shop/q"uote.py'}


async def test_the_working_tree_diff_reads_disk_and_includes_untracked_but_not_ignored_files(
    shop: Path,
) -> None:
    commit(shop, {".gitignore": "build/\n"})
    write(
        shop,
        {
            "shop/io.py": "def load(f):\n    return f.read()\n\n\ndef save(f, data):\n    f.write(data)\n",
            "shop/fresh.py": "new = True\nstill = True\n",
            "build/out.py": "generated = True\n",
        },
    )
    files = await _files(DiffSource(shop, "base"))
    assert {path: _added(file) for path, file in files.items()} == {
        ".gitignore": [1],
        "shop/io.py": [3, 4, 5, 6],
        "shop/fresh.py": None,
    }
    assert files["shop/fresh.py"].disk == shop / "shop/fresh.py"


async def test_a_commit_tree_reads_blobs_as_committed(shop: Path) -> None:
    write(shop, {"shop/io.py": "changed on disk\n", "shop/untracked.py": "u\n"})
    files = await _files(CommitTreeSource(shop, "base", label="base commit"))
    assert set(files) == {"README.md", "shop/io.py", "shop/prices.py"}
    assert _content(files["shop/io.py"]) == "def load(f):\n    return f.read()\n"
    assert all(file.lines is None and file.disk is None for file in files.values())


async def test_sources_never_read_unwanted_files(shop: Path) -> None:
    wanted = [file.path async for file in CommitTreeSource(shop, "base").files(lambda path: "io" in path)]
    assert wanted == ["shop/io.py"]


async def test_a_tree_in_a_repository_lists_tracked_and_untracked_files_but_not_ignored_ones(
    shop: Path,
) -> None:
    commit(shop, {".gitignore": "*.log\n"})
    write(shop, {"shop/new.py": "n\n", "shop/debug.log": "noise\n", "docs/a.md": "a\n"})
    files = await _files(TreeSource(shop / "shop"))
    assert set(files) == {"io.py", "prices.py", "new.py"}
    assert set(await _files(TreeSource(shop, ("docs",)))) == {"docs/a.md"}


async def test_a_tree_outside_git_is_walked_without_hidden_names(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": "a\n", "pkg/b.py": "b\n", ".hidden/c.py": "c\n", "pkg/.d.py": "d\n"})
    files = await _files(TreeSource(tmp_path))
    assert set(files) == {"a.py", "pkg/b.py"}
    assert all(file.lines is None for file in files.values())


async def test_a_diff_from_an_unknown_base_is_a_git_error_naming_it(shop: Path) -> None:
    with pytest.raises(GitError, match="no-such-base"):
        await _files(DiffSource(shop, "no-such-base", "HEAD"))
