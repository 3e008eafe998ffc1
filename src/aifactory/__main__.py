"""`python -m aifactory` is `factory`."""

from aifactory.cli.app import main

main()
