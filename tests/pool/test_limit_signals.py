"""The pool reads the providers' own limit signals: reset headers, and spend limits never retried soon.

Real runs through the real clients against the fake servers, each fault sent with the headers and
the exact body the provider sends.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aifactory.domain.events import ProviderCooled, ProviderSwitched
from aifactory.domain.run import AttemptState
from aifactory.testing import (
    ANTHROPIC_CREDIT_BALANCE,
    OPENAI_INSUFFICIENT_QUOTA,
    HttpError,
    SimRequest,
    anthropic_rate_limit,
    anthropic_usage_limit,
    openai_rate_limit,
)
from aifactory.testing.scenarios import FaultsWhen
from aifactory.testing.team import scripted_team
from tests.engine.runs import plan_and_run
from tests.sim import SimProject, sim_project

CHOICES = {
    "anthropic": '["sim:claude-sonnet-5-5", "sim-openai:gpt-6.1-sol"]',
    "openai": '["sim-openai:gpt-6.1-sol", "sim:claude-sonnet-5-5"]',
}
OTHER = {"anthropic": "sim-openai", "openai": "sim"}
NAME = {"anthropic": "sim", "openai": "sim-openai"}
WIRES = {"anthropic": {"anthropic"}, "openai": {"openai", "openai-responses"}}
"""The wires each server speaks: kind `openai` asks the Responses API."""


def _limited_run(tmp_path: Path, protocol: str, fault: HttpError) -> SimProject:
    """A two-step run whose every role tries `protocol`'s server first; its executor requests get `fault`."""

    def executor_on_limited(request: SimRequest) -> bool:
        return request.protocol in WIRES[protocol] and request.offers("step_done")

    scenario = FaultsWhen(scripted_team(steps=2), executor_on_limited, fault)
    with sim_project(tmp_path, scenario, run={"attempts": 1}) as sim:
        config = sim.repo / ".factory" / "config.toml"
        text = re.sub(
            r'(?m)^model = "[^"]*"$', f"model = {CHOICES[protocol]}", config.read_text(encoding="utf-8")
        )
        config.write_text(text, encoding="utf-8")
        finished = plan_and_run(sim, attempts=1)
        attempt = finished.detail.attempts[0]
        assert attempt.state is AttemptState.PASSED, attempt.reason
        return sim


def _cooled_rows(sim: SimProject) -> list[tuple[str, datetime, str]]:
    with sqlite3.connect(sim.repo / ".factory" / "ledger.db") as db:
        rows = db.execute(
            "select provider, until, reason from provider_events where kind = 'provider-cooled'"
        ).fetchall()
    return [(provider, datetime.fromisoformat(until), reason) for provider, until, reason in rows]


def _executor_requests(sim: SimProject, protocol: str) -> int:
    server = sim.claude if protocol == "anthropic" else sim.gpt
    return len([r for r in server.requests if r.sim.offers("step_done")])


def test_a_429_with_only_anthropic_reset_headers_cools_the_provider_until_the_exhausted_limit_resets(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    resets = {"requests": now + timedelta(seconds=90), "tokens": now + timedelta(seconds=600)}
    fault = anthropic_rate_limit(resets, exhausted={"tokens"})
    sim = _limited_run(tmp_path, "anthropic", fault)

    [(provider, until, reason)] = _cooled_rows(sim)
    assert (provider, until) == ("sim", resets["tokens"])
    assert "HTTP 429" in reason
    [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
    assert cooled.until == resets["tokens"]
    listed = sim.cli("models", "--json")
    assert listed.returncode == 0, listed.stderr
    states = {state["provider"]: state["state"] for state in json.loads(listed.stdout)["providers"]}
    assert states["sim"].startswith(f"cooling down until {resets['tokens'].astimezone():%Y-%m-%d %H:%M:%S}")
    assert states["sim-openai"] == "ready"


def test_a_429_with_only_openai_reset_headers_cools_the_provider_for_the_duration_they_name(
    tmp_path: Path,
) -> None:
    fault = openai_rate_limit({"requests": "120ms", "tokens": "6m0s"}, exhausted={"tokens"})
    sim = _limited_run(tmp_path, "openai", fault)

    [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
    assert cooled.provider == "sim-openai"
    assert 355 <= (cooled.until - cooled.at).total_seconds() <= 360
    assert [row[:2] for row in _cooled_rows(sim)] == [("sim-openai", cooled.until)]


SPEND_LIMITS = {
    "anthropic credit balance (400)": ("anthropic", ANTHROPIC_CREDIT_BALANCE, None),
    "anthropic spend limit (400)": (
        "anthropic",
        anthropic_usage_limit(datetime(2031, 1, 1, tzinfo=UTC)),
        datetime(2031, 1, 1, tzinfo=UTC),
    ),
    "anthropic workspace spend limit (400)": (
        "anthropic",
        anthropic_usage_limit(datetime(2031, 2, 1, 8, 30, tzinfo=UTC), workspace=True),
        datetime(2031, 2, 1, 8, 30, tzinfo=UTC),
    ),
    "anthropic credit balance (429)": (
        "anthropic",
        HttpError(429, "rate_limit_error", ANTHROPIC_CREDIT_BALANCE.message, headers={"retry-after": "2"}),
        None,
    ),
    "openai insufficient_quota (429)": ("openai", OPENAI_INSUFFICIENT_QUOTA, None),
}


@pytest.mark.parametrize(("protocol", "fault", "regain"), SPEND_LIMITS.values(), ids=SPEND_LIMITS.keys())
def test_a_spend_limit_is_never_retried_and_the_role_fails_over(
    tmp_path: Path, protocol: str, fault: HttpError, regain: datetime | None
) -> None:
    sim = _limited_run(tmp_path, protocol, fault)

    assert _executor_requests(sim, protocol) == 1, "one refusal, then no request until the limit lifts"
    [(provider, until, reason)] = _cooled_rows(sim)
    assert provider == NAME[protocol]
    assert fault.message is not None
    assert fault.message[:40] in reason
    [cooled] = [e for e in sim.events if isinstance(e, ProviderCooled)]
    if regain is None:
        assert 3590 <= (until - cooled.at).total_seconds() <= 3600
    else:
        assert until == regain
    switched = [e for e in sim.events if isinstance(e, ProviderSwitched) and e.role.value == "executor"]
    assert {(e.from_provider, e.to_provider) for e in switched} == {(NAME[protocol], OTHER[protocol])}
