"""The kinds of workflow step, one module each behind the `StepKind` seam (`base.py`)."""
