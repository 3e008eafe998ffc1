"""Providers: one module per model API, each turning configuration into a pydantic-ai model."""
