"""What git calls return, and the pure parsers that turn git's `-z` output into it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Diff:
    """A patch, possibly cut short at the caller's cap (then it ends at a whole line)."""

    text: str
    truncated: bool


@dataclass(frozen=True, slots=True)
class FileStat:
    """Lines added and removed in one file; both are None for a binary file."""

    path: str
    added: int | None
    removed: int | None


@dataclass(frozen=True, slots=True)
class MergeCheck:
    """Whether a merge would go through, and if not, which files conflict and git's account."""

    clean: bool
    conflicts: list[str]
    message: str


def split_z(text: str) -> list[str]:
    """The items of a NUL-terminated list, as git prints with `-z`."""
    return [item for item in text.split("\0") if item]


def parse_numstat(text: str) -> list[FileStat]:
    """Parse `git diff --numstat -z --no-renames`: `added TAB removed TAB path`, `-` for binary."""
    stats = []
    for entry in split_z(text):
        added, removed, path = entry.split("\t", 2)
        stats.append(
            FileStat(
                path=path,
                added=None if added == "-" else int(added),
                removed=None if removed == "-" else int(removed),
            )
        )
    return stats


def parse_merge_tree(text: str, *, clean: bool) -> MergeCheck:
    """Parse `git merge-tree --write-tree --name-only -z`.

    The output is the tree id, the conflicted file names, an empty item, then one group per
    message: a path count, that many paths, a conflict type and the human-readable text.
    """
    items = text.split("\0")[1:]
    end = items.index("") if "" in items else len(items)
    conflicts = items[:end]
    messages = []
    rest = iter(items[end + 1 :])
    for count in rest:
        if not count:
            break
        for _ in range(int(count)):
            next(rest)
        next(rest)
        messages.append(next(rest).strip())
    return MergeCheck(clean=clean, conflicts=conflicts, message="\n".join(messages))


def cut_diff(data: bytes, cap: int) -> str:
    """The first `cap` bytes of a patch, ending at the last whole line within them."""
    head = data[:cap]
    end = head.rfind(b"\n")
    return (head[: end + 1] if end >= 0 else head).decode(errors="replace")
