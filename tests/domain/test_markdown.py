"""What the plan file treats as a heading or a fence: CommonMark's rules, shared with the validators."""

import pytest

from aifactory.domain.markdown import Fence, fences, heading, headings, unclosed_fence


def test_headings_inside_fences_are_not_headings() -> None:
    text = "# Title\n```md\n## inside\n```\n~~~~\n```\n## still inside\n~~~~\n## after"
    assert list(headings(text)) == [(0, 1, "Title"), (8, 2, "after")]


def test_headings_follow_commonmark_indent_and_closing_rules() -> None:
    text = "   ## indented\n    ## code, not a heading\n##\n### Closed ###\n# C#\n#hashtag"
    assert list(headings(text)) == [(0, 2, "indented"), (2, 2, ""), (3, 3, "Closed"), (4, 1, "C#")]


@pytest.mark.parametrize("title", ["C#", "ends with #", "#", "##", "a # #", "plain", "Q1. #"])
def test_a_rendered_heading_reads_back_as_its_title(title: str) -> None:
    assert list(headings(heading(3, title))) == [(0, 3, title)]


def test_a_closing_hash_is_added_only_when_needed() -> None:
    assert heading(2, "Support C#") == "## Support C#"
    assert heading(2, "Rank #") == "## Rank # #"


def test_fences_report_where_they_open_and_close() -> None:
    assert fences("a\n```py\nx\n````\n~~~\n") == [Fence(1, 3, "```"), Fence(4, None, "~~~")]


def test_a_fence_closes_only_on_its_own_kind_and_at_least_its_length() -> None:
    assert unclosed_fence("~~~~\n```\n~~~\n~~~~ text\n") == Fence(0, None, "~~~~")
    assert unclosed_fence("~~~~\n```\n~~~~~\n") is None
