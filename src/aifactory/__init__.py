"""aifactory: turns an ask into verified code, and improves by fixing its inputs, not its outputs."""

__version__ = "0.1.0"
