"""Deterministic checks run on an attempt: the project's own commands now, lesson checks later."""
