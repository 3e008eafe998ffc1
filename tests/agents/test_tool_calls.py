"""What the ledger keeps of an agent's tool call: short, one line, and without secrets."""

from __future__ import annotations

import pytest

from aifactory.agents.base import ToolCall


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("notes/step-1.txt", "notes/step-1.txt"),
        ("ANTHROPIC_API_KEY=sk-ant-api03-abcdef && pytest", "ANTHROPIC_API_KEY=*** && pytest"),
        ('curl -H "Authorization: Bearer eyJhbGciOi" https://x', 'curl -H "Authorization: *** *** https://x'),
        ("deploy --token=abc123 --dry-run", "deploy --token=*** --dry-run"),
        ("echo ghp_abcdefghijklmnop", "echo ghp***"),
        ("aws s3 ls # AKIAABCDEFGHIJKLMNOP", "aws s3 ls # AKIA***"),
        ("python - <<EOF\nprint(1)\nEOF", "python - <<EOF…"),
        ("x" * 300, "x" * 119 + "…"),
    ],
)
def test_a_target_keeps_its_first_line_shortened_with_secrets_masked(target: str, kept: str) -> None:
    assert ToolCall.of("Bash", target) == ToolCall("Bash", kept)


def test_a_call_without_a_target_keeps_the_tool_name() -> None:
    assert ToolCall.of("step_done", None, ok=False) == ToolCall("step_done", "", ok=False)
