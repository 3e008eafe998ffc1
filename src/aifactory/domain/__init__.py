"""Pure data of the factory: asks, plans, attempts, findings, verdicts, events.

Nothing here does I/O or imports another layer, so every other layer can depend on it.
"""
