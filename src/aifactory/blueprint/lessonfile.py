"""The lesson file format: a TOML header between `+++` lines, then the rule itself as Markdown.

A lesson is a file the user reviews like code, so the factory writes it canonically (one lesson,
one text; `parse(render(lesson)) == lesson`) and reads it strictly: a malformed file is an error
naming the file, the field and the fix, never a lesson quietly read wrong.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from aifactory.config.load import locate
from aifactory.domain.lesson import Lesson
from aifactory.errors import LessonFileError

DELIMITER = "+++"
_OPENING = re.compile(r"\A\+\+\+[ \t]*\r?\n")
_CLOSING = re.compile(r"^\+\+\+[ \t]*\r?$", re.MULTILINE)
_CHECK_KINDS = ("ast-grep", "regex", "command")
_FORMAT = "lessons/README.md describes every field"
_SCALARS = ("id", "status", "created", "activated", "retirement")


def render(lesson: Lesson) -> str:
    """The lesson's file text, always the same for the same lesson: fields in a fixed order, no nulls."""
    data = lesson.model_dump(mode="python", exclude_none=True)
    header: dict[str, Any] = {key: data[key] for key in _SCALARS if key in data}
    header["scope"] = data["scope"]
    for table in ("origin", "check"):
        if table in data:
            header[table] = data[table]
    header["counters"] = data["counters"]
    if data["seen"]:
        header["seen"] = data["seen"]
    return f"{DELIMITER}\n{tomli_w.dumps(header)}{DELIMITER}\n\n{lesson.rule}\n"


def read(path: Path) -> Lesson:
    """The lesson in the file at `path`, whose name must be `<id>.md`."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise LessonFileError(
            f"cannot be read ({error}); a lesson file is UTF-8 text", path=path, field="file"
        ) from None
    return parse(text, path)


def parse(text: str, path: Path) -> Lesson:
    """Read a lesson file's text; `path` names it in errors and must be `<id>.md`."""
    opening = _OPENING.match(text)
    if opening is None:
        raise LessonFileError(
            f"the file does not start with a `{DELIMITER}` line: a lesson is a TOML header between "
            f"`{DELIMITER}` lines, then the rule; {_FORMAT}",
            path=path,
            field="header",
            line=1,
        )
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        raise LessonFileError(
            f"the header has no closing `{DELIMITER}` line: add one after the header, then the rule below it",
            path=path,
            field="header",
        )
    header_text = text[opening.end() : closing.start()]
    header = _toml(header_text, path)
    if "rule" in header:
        raise LessonFileError(
            f"belongs in the body, below the closing `{DELIMITER}` line, not in the header",
            path=path,
            field="rule",
            line=_header_line(locate(header_text, ("rule",))),
        )
    body = text[closing.end() :]
    if not body.strip():
        raise LessonFileError(
            f"the body is empty: write the rule below the closing `{DELIMITER}` line, in one or two "
            "imperative sentences for a planner",
            path=path,
            field="rule",
            line=text.count("\n", 0, closing.start()) + 2,
        )
    try:
        lesson = Lesson.model_validate({**header, "rule": body})
    except ValidationError as error:
        raise _explain(error, header_text, path) from None
    if lesson.id != path.stem:
        raise LessonFileError(
            f"{lesson.id!r} does not match the file name {path.name!r}: rename the file to "
            f"{lesson.id}.md, or set id = {path.stem!r}",
            path=path,
            field="id",
            line=_header_line(locate(header_text, ("id",))),
        )
    return lesson


def _toml(header_text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(header_text)
    except tomllib.TOMLDecodeError as error:
        where = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = str(error).split(" (at ")[0]
        raise LessonFileError(
            f"not valid TOML: {message}; {_FORMAT}",
            path=path,
            field="header",
            line=_header_line(int(where.group(1)) if where else None),
        ) from None


def _header_line(line: int | None) -> int | None:
    """A line of the header as a line of the file, which opens with the `+++` line."""
    return None if line is None else line + 1


def _explain(error: ValidationError, header_text: str, path: Path) -> LessonFileError:
    """Pydantic's first complaint as `field: problem and fix`, at the header line that sets the field."""
    first = error.errors()[0]
    loc = list(first["loc"])
    if len(loc) > 1 and loc[0] == "check" and loc[1] in _CHECK_KINDS:
        del loc[1]
    kind = first["type"]
    if kind in {"union_tag_not_found", "union_tag_invalid"}:
        loc.append("kind")
    kinds = ", ".join(f'"{name}"' for name in _CHECK_KINDS)
    if kind == "missing":
        problem = _missing(loc, path)
    elif kind == "extra_forbidden":
        problem = f"unknown field; check its spelling ({_FORMAT})"
    elif kind == "union_tag_not_found":
        problem = f"missing: say which kind of check this is, one of {kinds}"
    elif kind == "union_tag_invalid":
        problem = f"{(first.get('ctx') or {}).get('tag')!r} is not a kind of check; use one of {kinds}"
    elif kind == "value_error":
        problem = first["msg"].removeprefix("Value error, ")
    else:
        problem = f"{first['msg']} (got {first['input']!r})"
    keys = tuple(str(part) for part in loc if isinstance(part, str))
    return LessonFileError(
        problem, path=path, field=_dotted(loc), line=_header_line(locate(header_text, keys))
    )


def _missing(loc: list[int | str], path: Path) -> str:
    if loc == ["id"]:
        return f"missing: add id = {path.stem!r} to the header"
    if loc == ["created"]:
        return "missing: add the date the lesson was written, e.g. created = 2026-05-01T12:00:00Z"
    return f"missing: add it to the header ({_FORMAT})"


def _dotted(loc: list[int | str]) -> str:
    """`check.rule.pattern`, `seen[0].at`: how a person would name the field in the header."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name = f"{name}.{part}" if name else str(part)
    return name or "header"
