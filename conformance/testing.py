"""Tests a conformance suite runs: import them into a test module to get the matrix.

    # tests/test_conformance.py of any project with a tapeconf adapter installed
    from conformance.testing import test_conformance  # noqa: F401

``pytest --adapter NAME`` then verifies every scenario on that adapter (the ``tapeconf`` pytest
plugin parametrizes the ``conformance_cell`` fixture).
"""

from __future__ import annotations

from typing import Any

__all__ = ["test_conformance"]


def test_conformance(conformance_cell: Any) -> None:
    """Each scenario behaves on each adapter as the spec, or the adapter's declared divergence, says."""
    __tracebackhide__ = True
    conformance_cell.check()
