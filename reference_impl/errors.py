"""TensorFlow's op error types (``tf.errors``), raised by ops with TensorFlow's message texts."""

from __future__ import annotations

__all__ = ["InternalError", "InvalidArgumentError", "OpError"]


class OpError(Exception):
    """An op failed; like ``tf.errors.OpError`` it is not a subclass of a builtin error type."""

    def __init__(self, node_def: object, op: object, message: str, *args: object) -> None:
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message


class InvalidArgumentError(OpError):
    """An op received an argument it cannot use (incompatible shapes or dtypes)."""


class InternalError(OpError):
    """The tape machinery found an inconsistency (e.g. a backward function's gradient count)."""
