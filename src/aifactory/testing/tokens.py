"""Deterministic token counts and a simulated prompt cache.

Counts are a chars/4 estimate of the request as serialized: plausible, stable across runs, and cheap.
The cache remembers prompt prefixes by hash so that a repeated prefix is reported as read from the
cache, the way Anthropic (at explicit breakpoints) and OpenAI (automatically) report it; that makes
cost and cache accounting testable end to end.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aifactory.testing.scenario import SimReply

CHARS_PER_TOKEN = 4


def count_tokens(chars: int) -> int:
    """The simulated token count of `chars` characters."""
    return math.ceil(chars / CHARS_PER_TOKEN)


def reply_tokens(reply: SimReply) -> int:
    """The simulated output tokens of `reply` (at least one), unless the reply overrides them."""
    if reply.output_tokens is not None:
        return reply.output_tokens
    chars = len(reply.text) + sum(len(name) + len(canonical(args)) for name, args in reply.tool_calls)
    return max(1, count_tokens(chars))


def canonical(value: Any) -> str:
    """A stable serialization, so equal content always counts and hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Segment:
    """One cacheable unit of a prompt (a tool definition, a system block, a content block).

    `breakpoint` marks the end of a prefix the provider caches.
    """

    text: str
    breakpoint: bool = False


@dataclass(frozen=True)
class Usage:
    """Token counts for one answer; `input_tokens` excludes the cached ones, as Anthropic reports it."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def prompt_tokens(self) -> int:
        """All input tokens, cached or not, as OpenAI reports them."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


AUTOMATIC_STEP = 128
"""OpenAI caches the longest matching prefix of a prompt in steps of this many tokens."""


def automatic_prefixes(prompt: str) -> list[Segment]:
    """A serialized prompt cut into `AUTOMATIC_STEP`-token pieces, each ending a cacheable prefix.

    OpenAI needs no breakpoints: any prefix a recent prompt shared is read back, in the middle of a
    message too (the plan that opens a user message, say), in steps of 128 tokens.
    """
    size = AUTOMATIC_STEP * CHARS_PER_TOKEN
    return [Segment(prompt[i : i + size], breakpoint=True) for i in range(0, len(prompt), size)]


LOOKBACK = 20
"""How many block boundaries, counting back from a breakpoint, Anthropic checks for an earlier cache entry."""


class PromptCache:
    """Prefixes written at breakpoints, by hash; a later prompt reads the longest one it starts with.

    As Anthropic documents it: only the prefix ending at a breakpoint is written, and only if it is at
    least `min_tokens` long; a read finds an entry at a breakpoint or at most `LOOKBACK` blocks before
    one; what lies between the entry read and the last breakpoint is written (and billed as such).
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def account(self, segments: Sequence[Segment], output_tokens: int, *, min_tokens: int = 0) -> Usage:
        """The usage of a prompt made of `segments`, storing its breakpoint prefixes for later prompts."""
        hashes, ends = _prefixes(segments)
        total = count_tokens(ends[-1])
        cacheable = [
            i
            for i, segment in enumerate(segments, start=1)
            if segment.breakpoint and count_tokens(ends[i]) >= min_tokens
        ]
        if not cacheable:
            return Usage(input_tokens=total, output_tokens=output_tokens)
        looked_at = {i for end in cacheable for i in range(end, max(end - LOOKBACK, 0), -1)}
        with self._lock:
            read = max((i for i in looked_at if hashes[i] in self._seen), default=0)
            self._seen.update(hashes[i] for i in cacheable)
        read_tokens = count_tokens(ends[read])
        cached_tokens = count_tokens(ends[cacheable[-1]])
        return Usage(
            input_tokens=total - cached_tokens,
            output_tokens=output_tokens,
            cache_creation_input_tokens=cached_tokens - read_tokens,
            cache_read_input_tokens=read_tokens,
        )


def _prefixes(segments: Sequence[Segment]) -> tuple[list[str], list[int]]:
    """Hash and character length of every prefix; index 0 is the empty prefix."""
    digest = hashlib.sha256()
    hashes, ends = [digest.hexdigest()], [0]
    for segment in segments:
        digest.update(segment.text.encode())
        digest.update(b"\x00")
        hashes.append(digest.hexdigest())
        ends.append(ends[-1] + len(segment.text))
    return hashes, ends
