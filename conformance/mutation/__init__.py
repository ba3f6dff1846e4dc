"""Mutation testing of the reference implementation: how much a "conforms" is worth.

``python -m conformance.mutation`` (``make mutation``) plants small changes in the tape files and
the op table of ``reference_impl``, runs the conformance matrix on the reference adapter against
each one in a copy of the committed tree, and prints the kill rate per file and every survivor.
A full run records its figures in ``last_run.json`` beside this module, which the report quotes.

>>> from conformance.mutation import suite_power
>>> suite_power() is None or "mutants" in suite_power()
True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["LAST_RUN_FILE", "last_run", "suite_power"]

LAST_RUN_FILE = Path(__file__).with_name("last_run.json")


def last_run(path: Path = LAST_RUN_FILE) -> dict[str, Any] | None:
    """The figures of the last full mutation run, or ``None`` if none was recorded."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def suite_power(path: Path = LAST_RUN_FILE) -> str | None:
    """One sentence for reports: the last full run's kill rate, per file, with date and commit."""
    record = last_run(path)
    if record is None:
        return None
    total = record["total"]
    per_file = ", ".join(
        f"{name} {figures['kill_rate']:.0%}" for name, figures in record["files"].items()
    )
    counted = total["mutants"] - total["equivalent"]
    return (
        f"the matrix kills {total['kill_rate']:.1%} of {counted} non-equivalent mutants of "
        f"reference_impl ({per_file}; {total['equivalent']} equivalent mutants excluded), "
        f"last full mutation run {record['date']} at commit {record['commit']}"
    )
