"""The pool: a role's ordered model choices, kept working while providers' limits come and go.

The one place retries happen. A request goes to the first choice that is not cooling down. A server
error or a dropped connection is retried on the same provider with jittered backoff (honouring
retry-after). A limit (429 rate limit, 529 overload, a spend or credit limit, never retried soon, an
error event mid-stream that names no cause) cools the provider down until its reset time
(`providers/limits.py` reads it from the provider's signals) and the request moves to the next
choice at once, with the conversation made portable (another provider cannot verify the first one's
signed thinking). When every choice is cooling down the request waits for the earliest reset, up to
`max_wait`. Cooldowns are events, so the ledger keeps them and every other run, in this process or
another, reads them back.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pydantic_ai
from pydantic_ai import exceptions as ai_errors
from pydantic_ai.messages import ModelMessage, ModelResponse, ThinkingPart
from pydantic_ai.models import Model, ModelRequestParameters
from pydantic_ai.models.wrapper import WrapperModel
from pydantic_ai.settings import ModelSettings
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from aifactory.domain.events import EventSink, PoolWaiting, ProviderCooled, ProviderSwitched
from aifactory.domain.prices import Price
from aifactory.domain.run import Role
from aifactory.errors import ModelError
from aifactory.providers import limits
from aifactory.providers.calls import CallScope, RecordedModel, describe

RETRIED: tuple[type[Exception], ...] = (
    ai_errors.ModelServerError,
    ai_errors.ModelConnectionError,
    ai_errors.ModelRequestTimeout,
)
"""Failures of one request that the same provider may not repeat: try it again after a pause."""

LIMITS: tuple[type[Exception], ...] = (
    ai_errors.ModelRateLimitError,
    ai_errors.ModelUnavailableError,
    ai_errors.ModelQuotaExceededError,
)
"""The provider says not now (or not until the quota resets): cool it down, use the next choice."""


def _is_limit(error: Exception) -> bool:
    """A limit; a spend or credit limit, which some providers send as a plain rejected request; or an
    error event mid-stream that names no known cause (the Responses API's `error` event may carry
    any code): after a 200 the request was accepted, so it is the provider failing now."""
    unnamed = type(error) is ai_errors.ModelAPIError and error.in_stream
    return isinstance(error, LIMITS) or unnamed or limits.spent(error)


_MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class Offer:
    """One model a role may use, as the catalog offers it: the provider's name as configured, the
    backend's model, its price if the configuration sets one, where its credentials come from, and
    the secrets among them, which no error the factory records or shows may hold."""

    provider: str
    model: Model
    price: Price | None
    credentials: str
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    """An offer with its requests recorded."""

    provider: str
    model: Model
    credentials: str
    secrets: tuple[str, ...] = ()


Cooling = Callable[[], Mapping[str, datetime]]
"""Providers cooling down right now and until when: read from the ledger at each request."""

Served = MutableMapping[tuple[Role, str | None, str | None], str]
"""The provider that last took over a role's work, by role, run and attempt: each step gets a new
pooled model, and a switch is recorded when the provider changes, not again at every step."""

Guard = Callable[[CallScope], None]
"""Raises `BudgetExceeded` when the caller's run or attempt may spend no more."""


@dataclass(frozen=True)
class PoolPolicy:
    retries: int
    backoff: float
    cooldown: float
    """Seconds of rest after a limit that named no retry-after."""
    max_wait: float


def pooled(
    offers: Sequence[Offer],
    *,
    role: Role,
    scope: CallScope,
    sink: EventSink,
    cooling: Cooling,
    guard: Guard,
    policy: PoolPolicy,
    served: Served,
) -> Model:
    """A role's choices as the factory hands them to it: each request recorded and priced, limits failed over.

    The factory owns its terminal, so pydantic-ai's first-run banner is turned off here, where every
    model the factory runs is made.
    """
    pydantic_ai.BANNER_ENABLED = False
    recorded = [
        Choice(
            provider=offer.provider,
            model=RecordedModel(
                offer.model,
                provider=offer.provider,
                scope=scope,
                sink=sink,
                price=offer.price,
                secrets=offer.secrets,
            ),
            credentials=offer.credentials,
            secrets=offer.secrets,
        )
        for offer in offers
    ]
    return PooledModel(
        recorded,
        role=role,
        scope=scope,
        sink=sink,
        cooling=cooling,
        guard=guard,
        policy=policy,
        served=served,
    )


class PooledModel(WrapperModel):
    """Serves a role's requests from its first available choice; see the module docstring."""

    def __init__(
        self,
        choices: Sequence[Choice],
        *,
        role: Role,
        scope: CallScope,
        sink: EventSink,
        cooling: Cooling,
        guard: Guard,
        policy: PoolPolicy,
        served: Served,
    ) -> None:
        super().__init__(choices[0].model)
        self._guard = guard
        self._choices = tuple(choices)
        self._role = role
        self._scope = scope
        self._sink = sink
        self._cooling = cooling
        self._policy = policy
        self._served = served
        self._key = (role, scope.run_id, scope.attempt)
        self._current = next((c for c in choices if c.provider == served.get(self._key)), choices[0])
        self._rested: dict[str, datetime] = {}

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        self._guard(self._scope)
        while True:
            resting = self._resting()
            available = [choice for choice in self._choices if choice.provider not in resting]
            if not available:
                await self._wait(resting)
                continue
            choice = available[0]
            if choice is not self._current:
                self._switch(choice, resting)
            try:
                return await self._retrying(
                    choice, _portable(messages, choice), model_settings, model_request_parameters
                )
            except RETRIED as error:
                if len(available) == 1:
                    raise ModelError(self._explain(choice, error), retryable=True) from error
                self._cool(choice, error)
            except ai_errors.ModelAPIError as error:
                if not _is_limit(error):
                    raise ModelError(self._explain(choice, error), retryable=False) from error
                self._cool(choice, error)

    async def _retrying(
        self,
        choice: Choice,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters,
    ) -> ModelResponse:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._policy.retries + 1),
            wait=_Wait(self._policy.backoff),
            retry=retry_if_exception_type(RETRIED),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await choice.model.request(messages, model_settings, model_request_parameters)
        raise AssertionError("tenacity ends in a return or a raise")

    def _resting(self) -> dict[str, datetime]:
        now = datetime.now(UTC)
        resting = {name: until for name, until in self._cooling().items() if until > now}
        for name, until in self._rested.items():
            if until > now:
                resting[name] = max(until, resting.get(name, until))
        return resting

    def _cool(self, choice: Choice, error: Exception) -> None:
        until = limits.rest_until(error, datetime.now(UTC), timedelta(seconds=self._policy.cooldown))
        self._rested[choice.provider] = until
        self._sink(
            ProviderCooled(
                provider=choice.provider,
                until=until,
                reason=describe(error, choice.secrets),
                role=self._role,
                run_id=self._scope.run_id,
                attempt=self._scope.attempt,
                step=self._scope.step,
            )
        )

    def _switch(self, choice: Choice, resting: Mapping[str, datetime]) -> None:
        previous = self._current
        why = (
            f"{previous.provider} is cooling down until {resting[previous.provider]:%H:%M:%S} UTC"
            if (previous.provider in resting)
            else f"{previous.provider} is available again"
        )
        self._sink(
            ProviderSwitched(
                role=self._role,
                from_provider=previous.provider,
                to_provider=choice.provider,
                to_model=choice.model.model_name,
                reason=why,
                run_id=self._scope.run_id,
                attempt=self._scope.attempt,
                step=self._scope.step,
            )
        )
        self._current = choice
        self._served[self._key] = choice.provider

    async def _wait(self, resting: Mapping[str, datetime]) -> None:
        """Sleep until the earliest choice is back; cancelling (Ctrl-C) interrupts the sleep."""
        until = min(resting[choice.provider] for choice in self._choices)
        remaining = (until - datetime.now(UTC)).total_seconds()
        if remaining > self._policy.max_wait:
            listed = ", ".join(f"{name} until {when:%H:%M:%S} UTC" for name, when in sorted(resting.items()))
            run_id = self._scope.run_id
            resume = f"`factory resume {run_id}`" if run_id else "the command again"
            raise ModelError(
                f"every model choice of role {self._role.value} is cooling down ({listed}), longer than "
                f"[run] max_wait = {self._policy.max_wait:.0f}s allows; add a choice under "
                f"[roles.{self._role.value}] model, or run {resume} after the reset",
                retryable=True,
            )
        self._sink(
            PoolWaiting(
                role=self._role,
                until=until,
                run_id=self._scope.run_id,
                attempt=self._scope.attempt,
                step=self._scope.step,
            )
        )
        await asyncio.sleep(max(remaining, 0.0))

    def _explain(self, choice: Choice, error: Exception) -> str:
        who = f"provider {choice.provider!r} (model {choice.model.model_name!r}, role {self._role.value})"
        fix = f"[roles.{self._role.value}] model in .factory/config.toml"
        said = describe(error, choice.secrets)
        if isinstance(error, ai_errors.ModelAuthenticationError):
            return f"{who} refused the credentials ({said}): check {choice.credentials}"
        if isinstance(error, ai_errors.ModelNotFoundError):
            return f"{who}: the provider does not know this model ({said}); fix {fix}"
        if isinstance(error, RETRIED):
            tries = self._policy.retries + 1
            return f"{who} failed {tries} time(s) in a row, last: {said}"
        return f"{who} failed: {said}"


def _portable(messages: list[ModelMessage], choice: Choice) -> list[ModelMessage]:
    """The conversation as another provider can take it: thinking another provider signed is dropped."""
    system = choice.model.system
    return [
        dataclasses.replace(message, parts=[p for p in message.parts if not isinstance(p, ThinkingPart)])
        if isinstance(message, ModelResponse) and message.provider_name not in (None, system)
        else message
        for message in messages
    ]


class _Wait:
    """Jittered exponential backoff from `base` seconds, but never shorter than the provider's retry-after."""

    def __init__(self, base: float) -> None:
        self._backoff = wait_random_exponential(multiplier=base, max=_MAX_BACKOFF)

    def __call__(self, state: RetryCallState) -> float:
        backoff = float(self._backoff(state))
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None)
        return min(_MAX_BACKOFF, max(backoff, float(asked))) if asked else backoff
