"""Streamed git reads on real repositories: failures named, missing objects told apart, early exits clean."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aifactory.errors import GitError
from aifactory.workspace.git import Git
from aifactory.workspace.gitstream import added_lines, read_blobs, tree_files


async def _names(*names: str) -> AsyncIterator[str]:
    for name in names:
        yield name


async def test_a_failing_streamed_command_is_a_git_error_naming_it(git_repo: Path) -> None:
    with pytest.raises(GitError, match="no-such-ref"):
        async for _ in added_lines(Git(git_repo), "no-such-ref", "HEAD"):
            pass


async def test_blobs_come_in_order_and_missing_ones_are_none(git_repo: Path) -> None:
    blobs = [
        (name, content)
        async for name, content in read_blobs(
            Git(git_repo), _names("HEAD:README.md", "HEAD:absent.md", "HEAD:README.md"), str
        )
    ]
    assert blobs == [
        ("HEAD:README.md", b"# sample\n"),
        ("HEAD:absent.md", None),
        ("HEAD:README.md", b"# sample\n"),
    ]


async def test_leaving_a_blob_stream_early_stops_git(git_repo: Path) -> None:
    files = [entry async for entry in tree_files(Git(git_repo), "HEAD")]
    many = _names(*[files[0].blob] * 10_000)
    async with contextlib.aclosing(read_blobs(Git(git_repo), many, str)) as blobs:
        async for _, content in blobs:
            assert content == b"# sample\n"
            break
