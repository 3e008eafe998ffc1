"""Plan rules the plan file relies on to read back every plan it writes."""

import pytest
from pydantic import ValidationError

from aifactory.domain.plan import Plan, Step


def test_an_unclosed_fence_in_a_section_text_is_refused_with_its_line() -> None:
    with pytest.raises(ValidationError, match=r"line 3 opens a code fence \(```\) that is never closed"):
        Plan(title="t", ask="a", body="intro\n\n```python\nprint()")


def test_an_unclosed_fence_in_the_ask_is_fine_because_the_ask_is_fenced_as_a_whole() -> None:
    assert Plan(title="t", ask="```\nraw").ask == "```\nraw"


def test_file_names_lose_markdown_backticks_and_blank_edges() -> None:
    assert Step(title="s", files=("`src/a.py`", " a` `", "``")).files == ("src/a.py", "a")


def test_a_file_name_may_not_span_lines() -> None:
    with pytest.raises(ValidationError, match="spans several lines"):
        Step(title="s", files=("src/a.py\ntests/b.py",))
