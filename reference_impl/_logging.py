"""TensorFlow's warnings, logged through Python ``logging`` with TensorFlow's texts.

``log_first_n`` mirrors ``tf_logging.log_first_n``: a message is logged at most ``n`` times per
process for each call site, the call site being the first stack frame outside this package.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["logger", "log_first_n"]

logger = logging.getLogger("reference_impl")
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_counts: dict[tuple[str, str, int], int] = {}


def _caller() -> tuple[str, int]:
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0)
    return (frame.f_code.co_filename, frame.f_lineno)


def log_first_n(key: str, n: int, message: str) -> None:
    """Log ``message`` as a WARNING unless this call site already logged ``key`` ``n`` times."""
    site = (key, *_caller())
    count = _counts.get(site, 0)
    if count < n:
        _counts[site] = count + 1
        logger.warning(message)
