"""Faults carrying a provider's limit signals as the provider sends them: reset headers, spend limits.

The bodies are the ones seen in the wild (Anthropic's answers to an exhausted credit balance and a
reached spend limit, OpenAI's `insufficient_quota`), so tests exercise the same classification a
user's run meets. Wrap them in a fault injector (`FaultsWhen`, `FaultsFirst`) like any other fault.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from aifactory.testing.scenario import HttpError

ANTHROPIC_CREDIT_BALANCE = HttpError(
    400,
    "invalid_request_error",
    "Your credit balance is too low to access the Anthropic API. "
    "Please go to Plans & Billing to upgrade or purchase credits.",
)
"""Anthropic's answer once the prepaid credit balance is spent."""

OPENAI_INSUFFICIENT_QUOTA = HttpError(
    429,
    "insufficient_quota",
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
    code="insufficient_quota",
)
"""OpenAI's answer once the account's quota or budget is spent: a 429, but no rate limit."""

_ANTHROPIC_LIMITS = {"requests": 50, "tokens": 50_000, "input-tokens": 40_000, "output-tokens": 10_000}
_OPENAI_LIMITS = {"requests": 500, "tokens": 30_000}


def anthropic_usage_limit(regain: datetime, *, workspace: bool = False) -> HttpError:
    """Anthropic's answer once the organization's (or a workspace's) monthly spend limit is reached."""
    scope = "workspace " if workspace else ""
    moment = regain.astimezone(UTC)
    return HttpError(
        400,
        "invalid_request_error",
        f"You have reached your specified {scope}API usage limits. "
        f"You will regain access on {moment:%Y-%m-%d} at {moment:%H:%M} UTC.",
    )


def anthropic_rate_limit(resets: Mapping[str, datetime], *, exhausted: Collection[str]) -> HttpError:
    """A 429 with `anthropic-ratelimit-<name>-{limit,remaining,reset}` for each limit in `resets`
    (requests, tokens, input-tokens, output-tokens) and no retry-after; `exhausted` ones have 0 left."""
    headers: dict[str, str] = {}
    for name, reset in resets.items():
        limit = _ANTHROPIC_LIMITS[name]
        headers[f"anthropic-ratelimit-{name}-limit"] = str(limit)
        headers[f"anthropic-ratelimit-{name}-remaining"] = "0" if name in exhausted else str(limit // 10)
        headers[f"anthropic-ratelimit-{name}-reset"] = rfc3339(reset)
    return HttpError(429, headers=headers)


def openai_rate_limit(resets: Mapping[str, str], *, exhausted: Collection[str]) -> HttpError:
    """A 429 with `x-ratelimit-{limit,remaining,reset}-<name>` for requests and tokens, the resets as
    OpenAI writes them (`6m0s`, `1s`, `20ms`), and no retry-after; `exhausted` ones have 0 left."""
    headers: dict[str, str] = {}
    for name, reset in resets.items():
        limit = _OPENAI_LIMITS[name]
        headers[f"x-ratelimit-limit-{name}"] = str(limit)
        headers[f"x-ratelimit-remaining-{name}"] = "0" if name in exhausted else str(limit // 10)
        headers[f"x-ratelimit-reset-{name}"] = reset
    kind = "tokens" if "tokens" in exhausted else "requests"
    message = f"Rate limit reached for gpt-4o in organization org-simulated on {kind} per min."
    return HttpError(429, kind, message, headers=headers, code="rate_limit_exceeded")


def rfc3339(moment: datetime) -> str:
    """A time as Anthropic's reset headers write it: UTC, to the second, with a `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
