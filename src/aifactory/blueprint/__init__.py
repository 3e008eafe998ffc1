"""The blueprint: plan template, role prompts and lessons; the only place prompts come from."""
