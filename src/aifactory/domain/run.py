"""Lifecycles of runs, attempts and steps, and the roles that take part in them."""

from __future__ import annotations

import secrets
from enum import StrEnum

from aifactory.domain.plan import slugify


class Role(StrEnum):
    """A job a model does in the loop; the agent mix maps each role to a model."""

    PLANNER = "planner"
    PLAN_REVIEWER = "plan-reviewer"
    EXECUTOR = "executor"
    PLAN_VERIFIER = "plan-verifier"
    ASK_VERIFIER = "ask-verifier"
    DISTILLER = "distiller"


class RunState(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self is not RunState.RUNNING


class AttemptState(StrEnum):
    """PENDING → EXECUTING → VERIFYING → PASSED | REJECTED; FAILED or INTERRUPTED from any earlier state."""

    PENDING = "pending"
    EXECUTING = "executing"
    VERIFYING = "verifying"
    PASSED = "passed"
    REJECTED = "rejected"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self in {
            AttemptState.PASSED,
            AttemptState.REJECTED,
            AttemptState.FAILED,
            AttemptState.INTERRUPTED,
        }


class StepState(StrEnum):
    RUNNING = "running"
    COMMITTED = "committed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


def new_run_id(slug: str) -> str:
    """A run id people can type and read: the plan's slug, shortened, and four random hex digits."""
    return f"{slugify(slug, max_length=24)}-{secrets.token_hex(2)}"


def attempt_name(index: int) -> str:
    """Attempts are named a1, a2, … within a run."""
    return f"a{index}"


def branch_name(run_id: str, attempt: str) -> str:
    return f"factory/{run_id}/{attempt}"
