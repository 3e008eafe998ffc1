"""Scenarios: the code that decides how the simulated model answers each request.

Three building blocks cover what tests need: `Rules` (answer by what the request contains, so one
scenario can serve a whole multi-turn run statelessly), `Script` (a fixed queue of answers, for exact
sequences), and fault injectors that wrap either (`FaultAt`, `FaultsFirst`, `FaultsWhen`). Servers
call scenarios from several threads at once, so the stateful ones lock.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeAlias

from aifactory.testing.scenario import Answer, Fault, HttpError, SimRequest, no_rule_matched


class Scenario(Protocol):
    """Decides the answer to one request; may be called concurrently."""

    def respond(self, request: SimRequest) -> Answer: ...


Predicate: TypeAlias = Callable[[SimRequest], bool]
Responder: TypeAlias = Answer | Callable[[SimRequest], Answer]


def offers_tool(name: str) -> Predicate:
    """Matches requests that let the model call `name`."""
    return lambda request: request.offers(name)


def prompt_contains(text: str) -> Predicate:
    """Matches requests whose user text contains `text` (case-sensitive)."""
    return lambda request: text in request.prompt


def model_is(*models: str) -> Predicate:
    """Matches requests for one of `models`."""
    return lambda request: request.model in models


def has_result(tool_name: str) -> Predicate:
    """Matches requests whose conversation already holds a result of a call to `tool_name`."""
    return lambda request: bool(request.find_results(tool_name))


def all_of(*predicates: Predicate) -> Predicate:
    """Matches requests every one of `predicates` matches."""
    return lambda request: all(p(request) for p in predicates)


def always(request: SimRequest) -> bool:
    """Matches every request: the catch-all last rule."""
    return True


def _resolve(responder: Responder, request: SimRequest) -> Answer:
    return responder(request) if callable(responder) else responder


class Rules:
    """The first rule whose predicate matches answers; no match is a `no_rule_matched` 500."""

    def __init__(self, *rules: tuple[Predicate, Responder]) -> None:
        self._rules = list(rules)

    def when(self, predicate: Predicate, responder: Responder) -> Rules:
        """Add a rule after the existing ones; returns the scenario for chaining."""
        self._rules.append((predicate, responder))
        return self

    def first(self, predicate: Predicate, responder: Responder) -> Rules:
        """Add a rule ahead of the existing ones, to vary one behaviour of a whole team."""
        self._rules.insert(0, (predicate, responder))
        return self

    def respond(self, request: SimRequest) -> Answer:
        for predicate, responder in self._rules:
            if predicate(request):
                return _resolve(responder, request)
        return no_rule_matched(request)


class Script:
    """Answers in order, one per request, whatever the request says; running out is a 500."""

    def __init__(self, *answers: Responder) -> None:
        self._answers = deque(answers)
        self._served = 0
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        """How many answers have not been used yet."""
        with self._lock:
            return len(self._answers)

    def respond(self, request: SimRequest) -> Answer:
        with self._lock:
            if not self._answers:
                return no_rule_matched(request, f"the script ran out after {self._served} answers")
            self._served += 1
            responder = self._answers.popleft()
        return _resolve(responder, request)


class FaultAt:
    """Answers the N-th request (counting from 1) with a fault instead of asking `scenario`."""

    def __init__(self, scenario: Scenario, faults: Mapping[int, Fault]) -> None:
        self._scenario = scenario
        self._faults = dict(faults)
        self._calls = 0
        self._lock = threading.Lock()

    def respond(self, request: SimRequest) -> Answer:
        with self._lock:
            self._calls += 1
            fault = self._faults.get(self._calls)
        return fault if fault is not None else self._scenario.respond(request)


class FaultsFirst(FaultAt):
    """The first requests get `faults` in order; later ones go to `scenario` (e.g. two 529s, then success)."""

    def __init__(self, scenario: Scenario, faults: Sequence[Fault]) -> None:
        super().__init__(scenario, dict(enumerate(faults, start=1)))


class FaultsWhen:
    """Requests matching `predicate` get `fault`, at most `times` times (None: always)."""

    def __init__(
        self, scenario: Scenario, predicate: Predicate, fault: Fault, times: int | None = None
    ) -> None:
        self._scenario = scenario
        self._predicate = predicate
        self._fault = fault
        self._left = times
        self._lock = threading.Lock()

    def respond(self, request: SimRequest) -> Answer:
        if self._predicate(request):
            with self._lock:
                if self._left is None or self._left > 0:
                    self._left = None if self._left is None else self._left - 1
                    return self._fault
        return self._scenario.respond(request)


class LimitedFor:
    """Requests over `protocol` get a 429 with the seconds left in `retry-after` during a window that
    opens at the first such request and lasts `seconds`: a provider whose rate limit was just hit."""

    def __init__(self, scenario: Scenario, seconds: float, protocol: str = "anthropic") -> None:
        self._scenario = scenario
        self._seconds = seconds
        self._protocol = protocol
        self._opened: float | None = None
        self._lock = threading.Lock()

    def respond(self, request: SimRequest) -> Answer:
        if request.protocol == self._protocol:
            with self._lock:
                now = time.monotonic()
                self._opened = now if self._opened is None else self._opened
                left = self._opened + self._seconds - now
            if left > 0:
                return HttpError(429, headers={"retry-after": f"{max(1, round(left))}"})
        return self._scenario.respond(request)
