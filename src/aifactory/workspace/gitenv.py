"""The environment every git call runs in: no repository chosen by a parent git, no prompts, our name.

A factory started from a git hook inherits variables that point git at the hook's repository; a
commit needs an identity the user may never have configured. Both are settled here, once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# `git rev-parse --local-env-vars`: variables that point git at a particular repository.
_REPOSITORY_ENV_VARS = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_PREFIX",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
    }
)


def git_env(extra: Mapping[str, str] | None) -> dict[str, str]:
    """This process's environment without repository-selecting variables, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if name not in _REPOSITORY_ENV_VARS}
    # No prompts (nobody is there to answer), English messages, and read-only commands such as
    # `status` must not take index.lock behind the back of a commit in the same worktree.
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0")
    env.update(extra or {})
    return env


def identity_env(author: str) -> dict[str, str]:
    """Author and committer variables for `Name <email>`: works with no git identity configured."""
    match = re.fullmatch(r"\s*([^<>]+?)\s*<([^<>]+)>\s*", author)
    if match is None:
        raise ValueError(f"a git author looks like 'Name <email>', got {author!r}")
    name, email = match.groups()
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }
