"""The `[small_agents]` and `[librarian]` tables: which small agents run inside every attempt, and
the librarian's mapping from hand-written patterns to the team's own libraries."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from aifactory.config.providers import Section


class SmallAgentsConfig(Section):
    """Small agents (`.factory/blueprint/agents/NAME.md`) run in each attempt after its steps and
    before its verification, in this order, each as its own commit."""

    after_execution: tuple[str, ...] = ()

    @field_validator("after_execution")
    @classmethod
    def _named_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("names an agent twice; run each agent once")
        return value


class Replacement(Section):
    """A hand-written pattern and the team's library to use instead.

    `rule` is an ast-grep rule object (https://ast-grep.github.io/reference/rule.html) in `language`
    that finds candidates deterministically; without one the librarian looks for the pattern itself.
    """

    description: str = Field(min_length=1)
    use: str = Field(min_length=1)
    language: str = ""
    rule: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _rule_has_a_language(self) -> Replacement:
        if self.rule is not None and not self.language:
            raise ValueError(
                'an ast-grep rule needs the language it is written for, e.g. language = "python"'
            )
        return self


class LibrarianConfig(Section):
    replacements: tuple[Replacement, ...] = ()
