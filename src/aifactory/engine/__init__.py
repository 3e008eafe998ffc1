"""The engine: the one loop that runs attempts of a plan and decides how a run ends."""
