"""`python -m aifactory` is `factory`, and the `factory` script starts here too.

Lesson checks scan in worker processes started by a fork server, and each worker runs the main
module of the program that asked for them; for the `factory` script that is pip's wrapper, which
imports its entry point's module. So this module stays cheap to import: the CLI (about a second of
imports, most of it the model SDKs') is imported when `main` runs, never in a worker.
"""

import importlib


def main() -> None:
    importlib.import_module("aifactory.cli.app").main()


if __name__ == "__main__":
    main()
