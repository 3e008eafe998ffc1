"""The blueprint: plan template and role prompts, the only place prompts come from."""
