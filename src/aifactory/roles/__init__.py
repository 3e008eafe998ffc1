"""Roles: planner, plan reviewer, executor and verifiers, each a prompt from the blueprint and a typed answer."""
