"""The plan file, `plans/<slug>-plan.md`: the contract between roles, which people also edit by hand.

`render` writes the canonical form and `parse` reads it back exactly: `parse(render(plan)) == plan`.
`parse` also reads what a person plausibly writes instead: other step and question numbering,
optional or reordered step fields, sections in another order, a missing title, an answer typed
below the placeholder. Whatever it cannot place it refuses as a `PlanFileError` at the line to fix;
it never drops text silently.

    # {title}
    ## Ask            the ask verbatim, inside a tilde fence longer than any in the ask
    ## Context        `- path` per context document
    ## Questions      `### Q1. question`, then the answer or the open-question placeholder
    ## Lessons        `Task kind: feature`, then `- `lesson-id`: rule` per lesson the plan carries
    ## Plan           the implementation plan (`###` subsections allowed)
    ## Review         the plan reviewer's notes
    ## Task list      `### Step 1: title`, `- Files: a, b`, `- Complexity: simple`, description
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from aifactory.domain.markdown import fence_for, fences, heading, headings, unclosed_fence
from aifactory.domain.plan import CarriedLesson, Complexity, Plan, Question, Step, TaskKind
from aifactory.errors import PlanFileError

SECTIONS = ("Ask", "Context", "Questions", "Lessons", "Plan", "Review", "Task list")
"""The `##` sections of a plan file, in the order `render` writes them."""

PLACEHOLDER = (
    "_Open question: replace this line with your answer, then run `factory plan --answer <this file>`._"
)
"""Stands for an open question's answer; any line starting with `_Open question:` is read as it."""

_PLACEHOLDER_PREFIX = "_Open question:"
_PLACEHOLDER_LIKE = re.compile(r"\\*" + re.escape(_PLACEHOLDER_PREFIX))
_KNOWN = {name.casefold(): name for name in SECTIONS}
_BULLET = re.compile(r"\s*[-*+](?:\s+(.*))?")
_QUESTION = re.compile(r"Q\d+[.:](?:\s+(.*))?", re.IGNORECASE)
_STEP = re.compile(r"(?:step\s+\d+\s*[.:)]?|\d+[.:)])(?:\s+(.*))?", re.IGNORECASE)
_FIELD = re.compile(r"\s*[-*+]\s+(files|complexity)\s*:(.*)", re.IGNORECASE)
_KIND = re.compile(r"\s*task kind\s*:\s*(.*)", re.IGNORECASE)
_CARRIED = re.compile(r"\s*[-*+]\s+`([^`]+)`\s*:\s*(.*)")
_CODE_SPANS = re.compile(r"(?:\s*`[^`]*`)+\s*")
_M = TypeVar("_M", bound=BaseModel)


def render(plan: Plan) -> str:
    """The canonical plan file: fixed section order, empty sections left out, steps numbered from 1."""
    fence = fence_for(plan.ask)
    sections = {
        "Ask": f"{fence}text\n{plan.ask}\n{fence}",
        "Context": "\n".join(f"- {path}" for path in plan.context),
        "Questions": "\n\n".join(_render_question(n, q) for n, q in enumerate(plan.questions, 1)),
        "Lessons": _render_lessons(plan),
        "Plan": plan.body,
        "Review": plan.review,
        "Task list": "\n\n".join(_render_step(n, step) for n, step in enumerate(plan.steps, 1)),
    }
    parts = [heading(1, plan.title)]
    parts.extend(f"## {name}\n\n{content}" for name, content in sections.items() if content)
    return "\n\n".join(parts) + "\n"


def _render_question(number: int, question: Question) -> str:
    """An answer line that looks like the placeholder gets a backslash, so it is not read as one."""
    if question.answer is None:
        answer = PLACEHOLDER
    else:
        lines = question.answer.split("\n")
        answer = "\n".join("\\" + line if _PLACEHOLDER_LIKE.match(line) else line for line in lines)
    return f"{heading(3, f'Q{number}. {question.text}')}\n\n{answer}"


def _render_lessons(plan: Plan) -> str:
    parts = [f"Task kind: {plan.kind.value}"] if plan.kind is not None else []
    if plan.lessons:
        parts.append("\n".join(f"- `{lesson.id}`: {lesson.rule}" for lesson in plan.lessons))
    return "\n\n".join(parts)


def _render_step(number: int, step: Step) -> str:
    """Fields first, then a blank line, so a description starting with `- Files:` stays a description."""
    fields = [f"- Files: {', '.join(step.files)}"] if step.files else []
    fields.append(f"- Complexity: {step.complexity.value}")
    text = f"{heading(3, f'Step {number}: {step.title}')}\n\n" + "\n".join(fields)
    return f"{text}\n\n{step.description}" if step.description else text


def parse(text: str, *, path: Path | None = None) -> Plan:
    """Read a canonical or hand-edited plan file; what cannot be placed is a `PlanFileError` at its line."""
    try:
        return _parse(text)
    except _Malformed as problem:
        raise PlanFileError(problem.message, path=path, line=problem.line) from problem.__cause__


class _Malformed(Exception):
    """A problem at a 1-based line; `parse` adds the path, so the helpers need not carry it."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class _Block:
    """A heading (at 1-based `line`) and the lines below it, up to the next heading of its rank."""

    line: int
    level: int
    title: str
    body: tuple[str, ...]

    def at(self, index: int) -> int:
        """The file line of `body[index]`."""
        return self.line + 1 + index

    def text(self) -> str:
        return "\n".join(self.body)


def _split(lines: Sequence[str], first: int, level: int) -> tuple[_Block, list[_Block]]:
    """Cut `lines` (the first is file line `first`) at headings of `level` or above: lead-in, blocks."""
    cuts = [(index, found, title) for index, found, title in headings("\n".join(lines)) if found <= level]
    edges = [index for index, _, _ in cuts] + [len(lines)]
    lead_in = _Block(first - 1, 0, "", tuple(lines[: edges[0]]))
    blocks = [
        _Block(first + index, found, title, tuple(lines[index + 1 : stop]))
        for (index, found, title), stop in zip(cuts, edges[1:], strict=True)
    ]
    return lead_in, blocks


def _refuse_text(block: _Block, message: str) -> None:
    """Text where the format has no place for it is an error, never silently dropped."""
    for index, line in enumerate(block.body):
        if line.strip():
            raise _Malformed(block.at(index), message)


def _parse(text: str) -> Plan:
    fence = unclosed_fence(text)
    if fence is not None:
        raise _Malformed(
            fence.start + 1,
            f"this code fence ({fence.marker}) is never closed, so the rest of the file reads as code; "
            f"close it with a line of {fence.marker}",
        )
    title, sections = _sections(text)
    if "Ask" not in sections:
        raise _Malformed(1, "the plan has no `## Ask` section; add one holding the ask, verbatim")
    ask_section = sections["Ask"]
    absent = _Block(ask_section.line, 2, "", ())
    context, questions, lessons, body, review, steps = (sections.get(name, absent) for name in SECTIONS[1:])
    kind, carried = _lessons(lessons)
    ask = _ask(ask_section)
    lines = {
        "title": title.line if title else ask_section.line,
        "ask": ask_section.line,
        "context": context.line,
        "body": body.line,
        "review": review.line,
    }
    return _validated(
        Plan,
        "the plan",
        lines,
        title=title.title if title else next(line for line in ask.split("\n") if line.strip()),
        ask=ask,
        context=_context(context),
        questions=_questions(questions),
        kind=kind,
        lessons=carried,
        body=body.text(),
        review=review.text(),
        steps=_steps(steps),
    )


def _sections(text: str) -> tuple[_Block | None, dict[str, _Block]]:
    """The `# title` block, if any, and the `##` sections by canonical name, in any order."""
    lead_in, blocks = _split(text.split("\n"), 1, 2)
    _refuse_text(lead_in, "text before the first section; put notes under `## Plan` as `###` subsections")
    title: _Block | None = None
    found: dict[str, _Block] = {}
    for block in blocks:
        if block.level == 1:
            if title is not None or found:
                raise _Malformed(
                    block.line,
                    "only the plan's title is a `#` heading, at the top; "
                    "put notes under `## Plan` as `###` subsections",
                )
            _refuse_text(block, "text between the title and the first section; move it under `## Plan`")
            title = block
            continue
        name = _KNOWN.get(" ".join(block.title.split()).casefold())
        if name is None:
            raise _Malformed(
                block.line,
                f"unknown section `## {block.title}`; the sections are {', '.join(SECTIONS)}: "
                "put extra notes under `## Plan` as `###` subsections",
            )
        if name in found:
            raise _Malformed(
                block.line,
                f"a second `## {name}` section (the first is on line {found[name].line}); merge them",
            )
        found[name] = block
    return title, found


def _ask(block: _Block) -> str:
    """The ask verbatim: the inside of the fence when the section is one fenced block, else the section."""
    filled = [index for index, line in enumerate(block.body) if line.strip()]
    ask = block.text()
    if filled and any(f.start == filled[0] and f.end == filled[-1] for f in fences(ask)):
        ask = "\n".join(block.body[filled[0] + 1 : filled[-1]])
    if not ask.strip():
        raise _Malformed(block.line, "the ask is empty; write what should be built under `## Ask`")
    return ask


def _context(block: _Block) -> tuple[str, ...]:
    paths: list[str] = []
    for index, line in enumerate(block.body):
        if not line.strip():
            continue
        bullet = _BULLET.fullmatch(line)
        if bullet is None:
            raise _Malformed(
                block.at(index),
                "`## Context` lists one document per line as `- path`; put prose under `## Plan`",
            )
        if (bullet.group(1) or "").strip():
            paths.append(bullet.group(1))
    return tuple(paths)


def _lessons(block: _Block) -> tuple[TaskKind | None, tuple[CarriedLesson, ...]]:
    """An optional `Task kind:` line and one `- `id`: rule` bullet per lesson; nothing else."""
    kind: TaskKind | None = None
    carried: list[CarriedLesson] = []
    for index, line in enumerate(block.body):
        if not line.strip():
            continue
        if found := _KIND.fullmatch(line):
            kind = _choice(TaskKind, "task kind", block.at(index), found.group(1))
        elif found := _CARRIED.fullmatch(line):
            carried.append(
                _validated(
                    CarriedLesson,
                    f"lesson {found.group(1)!r}",
                    {"id": block.at(index)},
                    id=found.group(1),
                    rule=found.group(2),
                )
            )
        else:
            raise _Malformed(
                block.at(index),
                "`## Lessons` holds `Task kind: <kind>` and one `- `lesson-id`: rule` line per lesson; "
                "delete a line to drop a lesson from this plan, or put notes under `## Plan`",
            )
    return kind, tuple(carried)


def _questions(block: _Block) -> tuple[Question, ...]:
    lead_in, items = _split(block.body, block.line + 1, 3)
    _refuse_text(lead_in, "each question needs its own heading, such as `### Q1. Which database?`")
    return tuple(_question(number, item) for number, item in enumerate(items, 1))


def _question(number: int, block: _Block) -> Question:
    """Placeholder lines drop out (an answer typed below one counts); escaped look-alikes lose a `\\`."""
    numbered = _QUESTION.fullmatch(block.title)
    text = (numbered.group(1) or "") if numbered else block.title
    answer = [
        line[1:] if _PLACEHOLDER_LIKE.match(line) else line
        for line in block.body
        if not line.startswith(_PLACEHOLDER_PREFIX)
    ]
    return _validated(
        Question, f"question {number}", {"text": block.line}, text=text, answer="\n".join(answer)
    )


def _steps(block: _Block) -> tuple[Step, ...]:
    lead_in, items = _split(block.body, block.line + 1, 3)
    _refuse_text(lead_in, "each step needs its own heading, such as `### Step 1: Add the model`")
    return tuple(_step(number, item) for number, item in enumerate(items, 1))


def _step(number: int, block: _Block) -> Step:
    """Field lines come first, one run without blank lines, each key once; the rest is the description."""
    numbered = _STEP.fullmatch(block.title)
    title = (numbered.group(1) or "") if numbered else block.title
    fields: dict[str, tuple[int, str]] = {}
    index = next((i for i, line in enumerate(block.body) if line.strip()), len(block.body))
    while index < len(block.body):
        field = _FIELD.fullmatch(block.body[index])
        if field is None or field.group(1).casefold() in fields:
            break
        fields[field.group(1).casefold()] = (block.at(index), field.group(2))
        index += 1
    complexity = (
        _choice(Complexity, "complexity", *fields["complexity"])
        if "complexity" in fields
        else Complexity.SIMPLE
    )
    return _validated(
        Step,
        f"step {number}",
        {"title": block.line},
        title=title,
        description="\n".join(block.body[index:]),
        files=_file_names(fields.get("files", (block.line, ""))[1]),
        complexity=complexity,
    )


def _file_names(value: str) -> list[str]:
    """Comma-separated names; a piece made only of `code spans` holds one name per span."""
    names: list[str] = []
    for piece in value.split(","):
        names.extend(re.findall(r"`([^`]*)`", piece) if _CODE_SPANS.fullmatch(piece) else [piece])
    return names


_E = TypeVar("_E", Complexity, TaskKind)


def _choice(enum: type[_E], name: str, line: int, value: str) -> _E:
    word = value.strip().strip("`*_").casefold()
    allowed = [member.value for member in enum]
    if word not in allowed:
        raise _Malformed(line, f"unknown {name} {value.strip()!r}; use one of: {', '.join(allowed)}")
    return enum(word)


def _validated(model: type[_M], subject: str, lines: Mapping[str, int], **fields: object) -> _M:
    """Build a model; a validation error becomes a located one, because people fix lines, not tracebacks."""
    try:
        return model(**fields)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        message = first["msg"].removeprefix("Value error, ")
        raise _Malformed(lines.get(field, min(lines.values())), f"{subject}: {field} {message}") from error
