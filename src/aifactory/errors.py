"""One exception tree for the whole factory.

Every error a person can see is a `FactoryError`. Front ends map the class to an exit code in one
place (`cli/errors.py`); the message always names what is wrong and how to fix it.

    FactoryError
    ├── UserError                 bad input: fix a file, flag or setting, then run again (exit 2)
    │   ├── LocatedError          bad input inside a file, reported as `path:line: message`
    │   ├── ConfigError           .factory/config.toml (or the user's config) is invalid
    │   ├── NotARepositoryError   not inside a git work tree, or no commit yet
    │   ├── PlanFileError         a plan file is unreadable or malformed
    │   ├── LessonFileError       a lesson file is malformed: names file, field and fix
    │   ├── AgentFileError        a small agent's file is malformed: names file, line, field and fix
    │   ├── BlueprintError        a blueprint template is missing or broken
    │   ├── CheckError            a lesson's check cannot run as written (bad rule, unknown language)
    │   └── NotFoundError         no such run, attempt or file
    ├── GitError                  a git command failed (exit 1)
    ├── ModelError                a provider failed after bounded retries (retryable: a later try may work)
    │   └── RoleOutputError       a model kept answering in the wrong shape (not retryable)
    ├── BudgetExceeded            a run's or attempt's cost or token budget is spent (not retryable)
    ├── StepError                 a step did not finish (turn limit, refused tool, model error)
    └── Interrupted               Ctrl-C or a signal stopped the work (exit 130)
"""

from __future__ import annotations

from pathlib import Path


class FactoryError(Exception):
    """Base of every error the factory reports to a person."""

    retryable: bool = False


class UserError(FactoryError):
    """The input is wrong; running again unchanged will fail again."""


class LocatedError(UserError):
    """Bad input inside a file: the message starts with `path:line:` like a compiler's."""

    def __init__(self, message: str, *, path: Path | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class ConfigError(LocatedError):
    """A configuration file or value is invalid; the message names file, line and key."""


class NotARepositoryError(UserError):
    """The factory works on a git repository with at least one commit."""


class PlanFileError(LocatedError):
    """A plan file cannot be read or parsed; the message names file and line."""


class LessonFileError(LocatedError):
    """A lesson file is unreadable or malformed: `path[:line]: field: problem and fix`.

    Loading a folder of lessons skips such a file and reports this error as a warning; changing the
    lesson itself refuses with it.
    """

    def __init__(self, problem: str, *, path: Path, field: str, line: int | None = None) -> None:
        super().__init__(f"{field}: {problem}", path=path, line=line)
        self.field = field
        self.problem = problem


class AgentFileError(LocatedError):
    """A small agent file (`agents/NAME.md` of the blueprint) is malformed: `path[:line]: field: problem`."""

    def __init__(self, problem: str, *, path: Path, field: str, line: int | None = None) -> None:
        super().__init__(f"{field}: {problem}", path=path, line=line)
        self.field = field
        self.problem = problem


class BlueprintError(UserError):
    """A blueprint template is missing or does not render."""


class CheckError(UserError):
    """A lesson's check cannot run as written; the message names the lesson and what to change."""


class NotFoundError(UserError):
    """A run, attempt or file that was named does not exist."""


class GitError(FactoryError):
    """A git command failed; the message carries git's own words."""


class ModelError(FactoryError):
    """A model call failed after the bounded retries."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class RoleOutputError(ModelError):
    """The model kept answering in a shape that does not validate."""


class StepError(FactoryError):
    """A step of an attempt did not finish."""


class Interrupted(FactoryError):
    """The user or a signal stopped the work; what was committed stays."""


class BudgetExceeded(FactoryError):
    """A run or attempt spent its budget: new model requests are refused, the work done is kept."""
