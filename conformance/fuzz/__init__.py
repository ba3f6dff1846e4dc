"""Generated tape programs: differential testing of every adapter against real TensorFlow.

``tapeconf fuzz`` draws programs over the whole neutral API (``strategies``), runs each in the
same worker processes as ``tapeconf report`` (``execute``), and compares what every adapter
observed with TensorFlow's observation and with a finite-difference oracle (``compare``, ``fd``).
"""

from __future__ import annotations

__all__ = ["FuzzFileError", "FuzzSetupError"]


class FuzzSetupError(RuntimeError):
    """``tapeconf fuzz`` cannot start: Hypothesis or TensorFlow (its oracle) is missing."""


class FuzzFileError(ValueError):
    """A ``--fuzz`` file that is not a ``tapeconf fuzz`` result; the message says which part."""
