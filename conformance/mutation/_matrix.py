"""The worker of a mutation run: the conformance matrix on the reference adapter, in this process.

Run as ``python -m conformance.mutation._matrix`` inside a copy of the tree. Exit status 0 means
every cell conforms (the mutant, if any, survived); 1 means some cell did not, and the first such
cell is printed. ``--coverage OUT`` also writes which lines of ``reference_impl`` ran, as JSON, so
the driver can tell "survived" from "never executed by the matrix".
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import FrameType
from typing import Any

#: Set by the driver to the copy's root; the worker refuses to test any other reference_impl.
ROOT_VARIABLE = "TAPECONF_MUTATION_ROOT"


def run_matrix() -> str | None:
    """The first non-conforming cell's detail, or ``None`` when the whole matrix conforms."""
    from adapters.reference_adapter import ReferenceAdapter
    from conformance.outcome import Verdict, run_cell
    from conformance.registry import all_scenarios

    adapter = ReferenceAdapter()
    for device in adapter.devices():
        for entry in all_scenarios():
            cell = run_cell(entry, adapter, device, None)
            if cell.verdict is not Verdict.CONFORMS:
                return f"{entry.id} on {device}: {cell.verdict.value}: {cell.detail}"
    return None


def _check_root() -> None:
    """Fail loudly if the imported reference_impl is not the copy's (e.g. an editable install won)."""
    import reference_impl

    root = os.environ.get(ROOT_VARIABLE)
    where = Path(reference_impl.__file__).resolve()
    if root is not None and Path(root).resolve() not in where.parents:
        raise SystemExit(f"mutation worker imported reference_impl from {where}, not from {root}")


class _LineTracer:
    """Collects executed (file, line) pairs for files under one directory."""

    def __init__(self, directory: Path) -> None:
        self.prefix = str(directory.resolve())
        self.lines: dict[str, set[int]] = {}

    def __call__(self, frame: FrameType, event: str, arg: Any) -> Any:
        filename = frame.f_code.co_filename
        if not filename.startswith(self.prefix):
            return None  # do not trace inside other files' frames
        self.lines.setdefault(Path(filename).name, set()).add(frame.f_lineno)
        return self._local

    def _local(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines[Path(frame.f_code.co_filename).name].add(frame.f_lineno)
        return self._local


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.mutation._matrix")
    parser.add_argument("--coverage", metavar="OUT", help="write executed reference_impl lines here")
    args = parser.parse_args(argv)
    tracer = None
    if args.coverage:
        tracer = _LineTracer(Path(os.environ.get(ROOT_VARIABLE, ".")) / "reference_impl")
        sys.settrace(tracer)
    _check_root()
    failure = run_matrix()
    if tracer is not None:
        sys.settrace(None)
        Path(args.coverage).write_text(
            json.dumps({name: sorted(lines) for name, lines in tracer.lines.items()})
        )
    if failure is not None:
        print(failure)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
