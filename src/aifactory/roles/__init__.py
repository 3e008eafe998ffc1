"""Roles: planner, plan reviewer, executor and verifiers: a blueprint prompt and a typed answer each."""
