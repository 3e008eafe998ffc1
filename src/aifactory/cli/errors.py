"""The one map from exceptions to exit codes and messages."""

from __future__ import annotations

from aifactory.errors import FactoryError, Interrupted, UserError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def exit_code(error: BaseException) -> int:
    if isinstance(error, Interrupted | KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, UserError):
        return EXIT_USAGE
    if isinstance(error, FactoryError):
        return EXIT_FAILED
    raise error
