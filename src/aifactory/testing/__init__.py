"""The simulated model: local servers that speak the providers' real wire protocols.

Shipped with the package because `factory demo` runs on it, and documented so users can test
their own blueprints offline. Our own tests use it through the same client code a user runs.
"""
