"""TensorFlow's warnings, logged through Python ``logging`` with TensorFlow's texts.

``log_first_n`` mirrors ``tf_logging.log_first_n``: a message is logged at most ``n`` times per
process for each call site, the call site being the first stack frame outside this package.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["logger", "log_first_n", "reset_counts"]

logger = logging.getLogger("reference_impl")
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_counts: dict[tuple[str, str, int], int] = {}


def _print_as_tensorflow() -> None:
    """As ``tf.get_logger`` sets up its logger: unless the root logger is configured, warnings
    go to stderr as ``WARNING:tensorflow:<message>`` (in an interactive shell: to stdout, from
    INFO up). What a TensorFlow program prints is then what it prints here."""
    if logging.getLogger().handlers:
        return  # the application configured logging: leave it alone, as TensorFlow does
    interactive = bool(getattr(sys, "ps1", None)) or bool(sys.flags.interactive)
    handler = logging.StreamHandler(sys.stdout if interactive else sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:tensorflow:%(message)s"))
    logger.addHandler(handler)
    if interactive:
        logger.setLevel(logging.INFO)


_print_as_tensorflow()


def _caller() -> tuple[str, int]:
    frame = sys._getframe(1)
    while (
        frame is not None
        and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR
    ):
        frame = frame.f_back
    if frame is None:
        return ("<unknown>", 0)
    return (frame.f_code.co_filename, frame.f_lineno)


def log_first_n(key: str, n: int, message: str, *, per_call_site: bool = True) -> None:
    """Log ``message`` as a WARNING unless this call site already logged ``key`` ``n`` times.

    ``per_call_site=False`` counts all callers together: TensorFlow's jacobians call
    ``gradient`` from one internal line, so their warning is logged once per process.
    """
    site = (key, *_caller()) if per_call_site else (key, "<internal>", 0)
    count = _counts.get(site, 0)
    if count < n:
        _counts[site] = count + 1
        logger.warning(message)


def reset_counts() -> None:
    """Forget which warnings were logged (as a fresh process would); for tests."""
    _counts.clear()
