"""The worker of a mutation run: the conformance matrix on the reference adapter, in this process.

Run as ``python -m conformance.mutation._matrix`` inside a copy of the tree. Exit status 0 means
every cell conforms (the mutant, if any, survived); 1 means some cell did not, and the first such
cell is printed. ``--coverage OUT`` also writes which lines of ``reference_impl`` ran, as JSON, so
the driver can tell "survived" from "never executed by the matrix".

``--serve`` saves the interpreter start and the imports (nine tenths of a run): the process imports
NumPy, the suite's core and the catalogue once, never ``reference_impl``, then for each line on stdin (a
timeout in seconds) forks a child that imports ``reference_impl`` afresh from disk (the mutant the
driver just wrote) and runs the matrix; the parent kills a child past its timeout and answers one
JSON line ``{"status": "conforms" | "killed" | "timed_out", "detail": ...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
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


def _preload() -> None:
    """Import what a matrix run needs short of ``reference_impl``, which each child imports.

    The adapters are left to the child too: they import ``reference_impl`` (through the kit).
    """
    import numpy  # noqa: F401

    import conformance.outcome  # noqa: F401
    from conformance.registry import all_scenarios

    all_scenarios()
    if "reference_impl" in sys.modules:
        raise SystemExit("the mutation server imported reference_impl before forking; it must not")


def _child(write_end: int) -> None:
    """In the forked child: run the matrix, report on the pipe, exit without cleanup."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        _check_root()
        failure = run_matrix()
        code, message = (0, "") if failure is None else (1, failure)
    except BaseException as error:  # a mutant may break anything, even the import
        code, message = 1, f"the matrix run failed: {type(error).__name__}: {error}"
    os.write(write_end, message.encode()[:2000])
    os._exit(code)


def _run_forked(timeout: float) -> dict[str, str]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(write_end)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    status: int | None = None
    while status is None:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = code
        elif time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_end)
            return {"status": "timed_out", "detail": f"no answer within {timeout:g} s"}
        else:
            time.sleep(0.002)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) == 0:
        return {"status": "conforms", "detail": ""}
    return {"status": "killed", "detail": message or f"exit status {os.waitstatus_to_exitcode(status)}"}


def serve() -> int:
    """Answer one matrix run per stdin line (its timeout), each in a freshly forked child."""
    _preload()
    print(json.dumps({"status": "ready"}), flush=True)
    for line in sys.stdin:
        print(json.dumps(_run_forked(float(line))), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.mutation._matrix")
    parser.add_argument("--coverage", metavar="OUT", help="write executed reference_impl lines here")
    parser.add_argument("--serve", action="store_true", help="fork one child per stdin line")
    args = parser.parse_args(argv)
    if args.serve:
        return serve()
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
