"""Deterministic checks run on an attempt: the project's own commands, and lessons' checks."""
