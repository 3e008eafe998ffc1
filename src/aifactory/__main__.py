"""`python -m aifactory` is `factory`.

The guard matters: lesson checks scan in worker processes started by a fork server, which imports
the main module of the program that asked for them.
"""

from aifactory.cli.app import main

if __name__ == "__main__":
    main()
