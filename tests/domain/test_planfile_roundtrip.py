"""The plan file reads back every plan it writes, whatever the texts inside hold."""

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from aifactory.domain.plan import CarriedLesson, Complexity, Plan, Question, Step, TaskKind
from aifactory.domain.planfile import PLACEHOLDER, parse, render
from aifactory.errors import PlanFileError

_PLAIN_LINES = [
    "",
    "   ",
    "trailing spaces   ",
    "tab\tinside",
    "- Files: src/looks_like_a_field.py",
    "- Complexity: complex",
    "* files: `a.py`",
    PLACEHOLDER,
    "_Open question: looks like the placeholder",
    "\\_Open question: already escaped",
    "\\\\_Open question: escaped twice",
    " _Open question: indented",
    "Q1. not a heading",
    "Step 2: not a heading either",
    "    indented code ## not a heading",
    "> quoted",
    "#hashtag",
    "C#",
    "ünïcödé ✓ 日本語 🚀",
    "carriage\rreturn",
    "line\u2028separator",
    "---",
]
_DEEP_HEADINGS = ["#### Deep heading", "##### Deeper ####", "###### C#"]
_STEP_HEADINGS = ["### Approach", "### Step 2: sneaky", "### Q3. sneaky", "   ### indented"]
_SECTION_HEADINGS = ["# Title", "## Review", "## Ask", "## Something else", "##"]
_BACKTICK_FENCES = ["```", "```python", "````", "`````md"]
_TILDE_FENCES = ["~~~", "~~~text", "~~~~", "~~~~~~ md", "  ~~~~"]

_random_line = st.text(st.characters(blacklist_characters="\n", blacklist_categories=["Cs"]), max_size=12)


@st.composite
def _fenced_block(draw: st.DrawFn) -> str:
    """A closed fence whose inside holds headings of every level and fences of the other kind."""
    backticks = draw(st.booleans())
    opening = draw(st.sampled_from(_BACKTICK_FENCES if backticks else _TILDE_FENCES))
    other_kind = _TILDE_FENCES if backticks else _BACKTICK_FENCES
    pool = _PLAIN_LINES + _DEEP_HEADINGS + _STEP_HEADINGS + _SECTION_HEADINGS + other_kind
    inside = draw(st.lists(st.sampled_from(pool), max_size=4))
    marker = opening.lstrip()[0]
    closing = marker * opening.count(marker)
    return "\n".join([opening, *inside, closing])


def _text(*pools: list[str]) -> st.SearchStrategy[str]:
    line = st.one_of(
        st.sampled_from([line for pool in pools for line in pool]), _random_line, _fenced_block()
    )
    return st.lists(line, max_size=6).map("\n".join)


_raw_text = _text(
    _PLAIN_LINES, _DEEP_HEADINGS, _STEP_HEADINGS, _SECTION_HEADINGS, _BACKTICK_FENCES, _TILDE_FENCES
)
_sections = _text(_PLAIN_LINES, _DEEP_HEADINGS, _STEP_HEADINGS)
_item_texts = _text(_PLAIN_LINES, _DEEP_HEADINGS)
_one_lines = st.one_of(
    st.sampled_from(
        [
            *("C#", "Rank #", "#", "## not a section", "Q1. numbered", "Step 2: numbered", "Step 2:"),
            *("3. numbered", "`code`", "- Files: x", "_Open question: x", "ünïcödé ✓", "spaced   out\ttext"),
        ]
    ),
    _random_line.filter(str.strip),
)
_asks = st.tuples(_raw_text, _one_lines, _raw_text).map("\n".join)
"""Anything at all around one line of words: unclosed fences and section headings included."""
_file_names = st.one_of(
    st.sampled_from(["src/a.py", "`tests/test_a.py`", "docs/with space.md", "ünï.py", "a`b", "` `"]),
    st.text(st.characters(blacklist_characters=",\n\r", blacklist_categories=["Cs"]), max_size=10),
)


@st.composite
def _plans(draw: st.DrawFn) -> Plan:
    try:
        questions = tuple(
            Question(text=draw(_one_lines), answer=draw(st.none() | _item_texts))
            for _ in range(draw(st.integers(0, 3)))
        )
        steps = tuple(
            Step(
                title=draw(_one_lines),
                description=draw(_item_texts),
                files=tuple(draw(st.lists(_file_names, max_size=3))),
                complexity=draw(st.sampled_from(Complexity)),
            )
            for _ in range(draw(st.integers(0, 3)))
        )
        return Plan(
            title=draw(_one_lines),
            ask=draw(_asks),
            context=tuple(draw(st.lists(_one_lines, max_size=3))),
            questions=questions,
            kind=draw(st.none() | st.sampled_from(TaskKind)),
            lessons=tuple(
                CarriedLesson(id=draw(st.from_regex(r"[a-z0-9][a-z0-9-]{1,20}", fullmatch=True)), rule=rule)
                for rule in draw(st.lists(_one_lines, max_size=3))
            ),
            body=draw(_sections),
            review=draw(_sections),
            steps=steps,
        )
    except ValidationError:
        assume(False)
        raise


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_plans())
def test_every_valid_plan_reads_back_as_itself(plan: Plan) -> None:
    text = render(plan)
    assert parse(text) == plan
    assert render(parse(text)) == text


_file_lines = st.sampled_from(
    [
        *_PLAIN_LINES,
        *_DEEP_HEADINGS,
        *_STEP_HEADINGS,
        *_SECTION_HEADINGS,
        *_BACKTICK_FENCES,
        *_TILDE_FENCES,
        *("## Ask", "## Context", "## Questions", "## Plan", "## Review", "## Task list", "#", "# "),
        *("### Step 1:", "### Q1.", "### Q1. Why?", "### 2. Do", "- Complexity: hard", "- Files: ``"),
    ]
)


_file_texts = st.lists(st.one_of(_file_lines, _random_line), max_size=20).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_file_texts, _file_texts.map("## Ask\n\nDo it.\n".__add__)))
def test_any_text_parses_to_a_plan_or_a_located_plan_file_error(text: str) -> None:
    try:
        parse(text)
    except PlanFileError as error:
        assert error.line is not None
        assert 1 <= error.line <= text.count("\n") + 1
