"""How long a provider that said "not now" should rest, read from the provider's own signals.

pydantic-ai classifies the failure and reads `retry-after`; the rest of what providers say comes
with the error's headers and body and is read here:

- `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset` (RFC 3339 times) and
  OpenAI's and Azure's `x-ratelimit-reset-{requests,tokens}` (durations such as `6m0s`, `20ms`),
  each beside a `-remaining` count. The rest lasts until the latest reset among the limits with
  nothing remaining (all of them must refill before a request goes through); when none is at 0, the
  request was bigger than what remains, so the earliest reset is the first moment it may fit, and
  being wrong costs one more 429.
- A spend or credit limit: Anthropic's 400 `invalid_request_error` ("Your credit balance is too
  low...", "You have reached your specified [workspace] API usage limits. You will regain access on
  2026-04-01 at 00:00 UTC."), its 402 `billing_error`, OpenAI's 429 `insufficient_quota`. Waiting
  seconds never helps, so it is never retried soon: the rest lasts until the date the message
  names, else an hour, whatever rate-limit headers came with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pydantic_ai import exceptions as ai_errors

SPEND_REST = timedelta(hours=1)
"""The rest after a spend or credit limit that names no date."""

_ANTHROPIC_LIMITS = ("requests", "tokens", "input-tokens", "output-tokens")
_OPENAI_LIMITS = ("requests", "tokens")

_SPENT = re.compile(
    r"credit balance is too low|reached your specified (?:workspace )?API usage limits"
    r"|exceeded your current quota",
    re.IGNORECASE,
)
_REGAIN = re.compile(r"regain access on (\d{4}-\d{2}-\d{2}) at (\d{2}:\d{2}) UTC")

_UNITS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "ns": 1e-9,
}
_DURATION = re.compile(r"(?:(?:\d+(?:\.\d*)?|\.\d+)(?:h|ms|m|s|us|µs|ns))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)")


def parse_duration(text: str) -> timedelta | None:
    """A duration as OpenAI writes it (Go's format: `6m0s`, `1s`, `20ms`, `1h2m3.5s`, `0`), or None."""
    text = text.strip()
    if text == "0":
        return timedelta(0)
    if not _DURATION.fullmatch(text):
        return None
    seconds = sum(float(number) * _UNITS[unit] for number, unit in _DURATION_PART.findall(text))
    return timedelta(seconds=seconds)


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time (`2026-11-24T12:00:30Z`), in UTC; None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def header_reset(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When the limits the headers describe let requests through again (see the module docstring).

    `headers` have lower-case names; resets already past are ignored, and None means no header named one.
    """
    limits: list[tuple[datetime, bool]] = []
    for name in _ANTHROPIC_LIMITS:
        reset = parse_time(headers.get(f"anthropic-ratelimit-{name}-reset", ""))
        if reset is not None:
            limits.append((reset, _exhausted(headers.get(f"anthropic-ratelimit-{name}-remaining"))))
    for name in _OPENAI_LIMITS:
        delay = parse_duration(headers.get(f"x-ratelimit-reset-{name}", ""))
        if delay is not None:
            limits.append((now + delay, _exhausted(headers.get(f"x-ratelimit-remaining-{name}"))))
    ahead = [(reset, exhausted) for reset, exhausted in limits if reset > now]
    if not ahead:
        return None
    empty = [reset for reset, exhausted in ahead if exhausted]
    return max(empty) if empty else min(reset for reset, _ in ahead)


def spent(error: Exception) -> bool:
    """Whether the provider refused because money ran out (a spend, credit or quota limit)."""
    if isinstance(error, ai_errors.ModelQuotaExceededError):
        return True
    return _SPENT.search(_message(error)) is not None


def rest_until(error: Exception, now: datetime, cooldown: timedelta) -> datetime:
    """When a provider that failed with `error` may be asked again: its own word first, else `cooldown`."""
    if spent(error):
        regain = _REGAIN.search(_message(error))
        stated = parse_time(f"{regain.group(1)}T{regain.group(2)}:00+00:00") if regain else None
        return stated if stated is not None and stated > now else now + SPEND_REST
    asked = getattr(error, "retry_after", None)
    if asked is not None:
        return now + timedelta(seconds=float(asked))
    headers = getattr(error, "headers", None)
    reset = header_reset(headers, now) if isinstance(headers, Mapping) else None
    return reset if reset is not None else now + cooldown


def _exhausted(remaining: str | None) -> bool:
    return remaining is not None and remaining.strip() == "0"


def _message(error: Exception) -> str:
    """The provider's error message from the body (`{"error": {"message": ...}}`), or ""."""
    body = getattr(error, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    message = inner.get("message") if isinstance(inner, dict) else None
    return message if isinstance(message, str) else ""
