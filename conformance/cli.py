"""``tapeconf``: the conformance suite's command line (also ``python -m conformance``).

    tapeconf report [--adapter NAME|module:attr[@PYTHON] ...] [--out DIR]   run the matrix, report
    tapeconf diff OLD.json NEW.json [--adapter NAME] [--strict]            the cells that changed
    tapeconf list [--area AREA]                                   the scenarios
    tapeconf adapters                                             the adapters and their state
    tapeconf fuzz [--adapter NAME ...] [--seed N] [--max-examples N]   generated programs vs TF

Exit statuses: 0 everything as expected (for ``diff``: no semantic change), 1 some cell is
unexpected, crashed, timed out or an error, or an adapter asked for with ``--adapter`` ran nothing
(for ``diff``: a semantic change), 2 a usage or input error, reported as one line on stderr, 3 a
bug in tapeconf itself. An interrupted report exits 130 (Ctrl-C) or 143 (SIGTERM) and keeps its
partial file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.discovery import UnknownAdapterError
from conformance.divergences import DivergenceFileError
from conformance.protocol import AdapterValidationError

__all__ = ["main"]

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 128 + signal.SIGTERM


class Terminated(Exception):
    """SIGTERM arrived: stop as Ctrl-C does (workers killed, finished cells kept)."""


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr with status 2 (as every input error)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"tapeconf: error: {message} (see `{self.prog} --help`)\n")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("tape-conformance")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tapeconf",
        description="Conformance of reverse-mode autodiff tape semantics "
        "(tf.GradientTape is the spec) across frameworks.",
        epilog="Exit status: 0 as expected, 1 failing cells (diff: semantic changes; fuzz: "
        "findings), 2 usage or input error, 3 a bug in tapeconf, 130 interrupted, 143 terminated.",
    )
    parser.add_argument("--version", action="version", version=f"tapeconf {_version()}")
    verbs = parser.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)
    verbs.required = True

    report = verbs.add_parser(
        "report",
        help="run every scenario on the adapters and write results.json, REPORT.md, report.html",
        description="Run every scenario on each adapter, each adapter in its own worker process (a "
        "crash or hang costs only its cells), and write results.json, REPORT.md and report.html.",
    )
    report.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME",
        help="an adapter's entry-point name, or an import path module:attr for an adapter "
        "that is not registered; NAME@PYTHON runs it with that interpreter, in its environment "
        "(e.g. tensorflow@envs/tf-2.12/bin/python; this project must be installed there) "
        "(repeatable; default: every registered adapter)",
    )
    report.add_argument(
        "--out",
        type=_directory,
        default=Path("reports"),
        metavar="DIR",
        help="the output directory (default: ./reports)",
    )
    report.add_argument(
        "--jobs",
        type=int,
        default=2,
        metavar="N",
        help="worker processes running at a time (default: 2)",
    )
    report.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="cap every scenario's timeout and each worker's start-up at SECONDS "
        "(default: each scenario's timeout_s; 180 s to start)",
    )
    report.add_argument(
        "--startup-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="how long a worker may take to load its adapter (default: --timeout, else 180)",
    )
    report.add_argument(
        "--resume",
        action="store_true",
        help="keep the cells of an interrupted run in DIR/.partial-results.jsonl, run the rest",
    )
    report.add_argument(
        "--fuzz",
        type=Path,
        default=None,
        metavar="FILE",
        help="a fuzz.json written by `tapeconf fuzz`: the HTML report shows its findings and "
        "divergence profiles",
    )
    report.add_argument(
        "--quiet", action="store_true", help="no progress output (warnings and errors still show)"
    )
    report.set_defaults(handler=_report)

    diff = verbs.add_parser(
        "diff",
        help="the cells that changed between two results.json files",
        description="List, as Markdown on stdout, the cells that changed between two runs: "
        "semantic changes (verdict, returned or raised, values, None-ness, error kind) apart "
        "from changes of the native error's wording only. Exit status 0 when nothing changed "
        "semantically, 1 when something did, 2 for unreadable input.",
    )
    diff.add_argument("old", type=Path, metavar="OLD.json")
    diff.add_argument("new", type=Path, metavar="NEW.json")
    diff.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME",
        help="compare only this adapter's cells (repeatable; default: all)",
    )
    diff.add_argument(
        "--strict",
        action="store_true",
        help="exit status 1 also when only native messages or exception types changed",
    )
    diff.set_defaults(handler=_diff)

    listing = verbs.add_parser(
        "list",
        help="the scenarios, with their areas and statements",
        description="List the scenario catalogue: id, spec entry and statement, by area.",
    )
    listing.add_argument("--area", action="append", default=[], help="only this area (repeatable)")
    listing.add_argument("--json", action="store_true", help="as JSON")
    listing.set_defaults(handler=_list)

    adapters = verbs.add_parser(
        "adapters",
        help="the adapters found, with versions, and whether they can run (--devices: devices)",
        description="Show each adapter's version (from package metadata: no framework is "
        "imported), unsupported features and declared divergences, or why it cannot run. "
        "--devices loads each adapter in a worker process to list its devices too (slower).",
    )
    adapters.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME",
        help="only this adapter (NAME, module:attr or NAME@PYTHON; repeatable)",
    )
    adapters.add_argument(
        "--devices",
        action="store_true",
        help="also list devices (imports every framework, each in its own worker process)",
    )
    adapters.add_argument("--json", action="store_true", help="as JSON")
    adapters.set_defaults(handler=_adapters)

    from conformance.fuzz.command import add_fuzz_verb  # light: the generator loads on use

    add_fuzz_verb(verbs, _seconds, _directory)
    return parser


def _seconds(text: str) -> float:
    """A positive, finite number of seconds (argparse type: ``nan``, ``inf``, ``0`` refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive, finite number of seconds")
    return value


def _directory(text: str) -> Path:
    """A directory path; an empty one would silently mean the current directory."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the output directory is empty (use --out . for here)")
    return Path(text)


def _fail(message: str) -> int:
    print(f"tapeconf: error: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``tapeconf`` command and return its exit status."""
    from conformance.fuzz import FuzzFileError, FuzzSetupError
    from conformance.report import ReportOutputError, ResultsFileError, ResumeError
    from conformance.report.worker import AdapterSpecError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version and usage errors
        return int(stop.code or 0) if not isinstance(stop.code, str) else EXIT_USAGE
    try:
        return args.handler(args)
    except BrokenPipeError:  # `tapeconf list | head`: the reader left, which is not an error
        _silence_stdout()
        return EXIT_OK
    except (
        UnknownAdapterError,
        AdapterSpecError,
        AdapterValidationError,
        DivergenceFileError,
        ReportOutputError,
        ResultsFileError,
        ResumeError,
        FuzzSetupError,
        FuzzFileError,
    ) as error:
        return _fail(str(error))
    except Exception as error:  # a bug: never exit 1, which CI reads as "cells failed/changed"
        traceback.print_exc()
        print(
            f"tapeconf: internal error: {type(error).__name__}: {error} (a bug in tapeconf; "
            "the traceback above says where)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


# ---- report -----------------------------------------------------------------------------------


def _report(args: argparse.Namespace) -> int:
    from conformance.report import generate_report, resolve_adapter_specs
    from conformance.report.progress import Progress
    from conformance.report.results import PARTIAL_NAME

    if args.jobs < 1:
        return _fail("--jobs must be at least 1")
    specs = resolve_adapter_specs(args.adapter)
    fuzz = None
    if args.fuzz is not None:
        from conformance.fuzz.output import load_fuzz_document

        fuzz = load_fuzz_document(args.fuzz)  # before the run: a bad file costs nothing
    progress = Progress(quiet=args.quiet)
    try:
        with _sigterm_as_exception():
            run = generate_report(
                specs,
                args.out,
                jobs=args.jobs,
                timeout_cap=args.timeout,
                startup_timeout=args.startup_timeout,
                resume=args.resume,
                progress=progress,
                fuzz=fuzz,
            )
    except (KeyboardInterrupt, Terminated) as stop:
        progress.close()
        how = "interrupted" if isinstance(stop, KeyboardInterrupt) else "terminated (SIGTERM)"
        print(
            f"tapeconf: {how}; the finished cells are in {args.out / PARTIAL_NAME} "
            "(`tapeconf report --resume` runs only the rest)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED if isinstance(stop, KeyboardInterrupt) else EXIT_TERMINATED
    progress.close()
    counts = Counter(r["verdict"] for r in run.document["results"])
    summary = ", ".join(f"{n} {verdict}" for verdict, n in counts.most_common())
    if not args.quiet:
        print(
            f"tapeconf: {len(run.document['results'])} cells ({summary}) in "
            f"{run.document['duration_s']:.1f} s",
            file=sys.stderr,
        )
        print(f"tapeconf: wrote {', '.join(str(p) for p in run.paths)}", file=sys.stderr)
    idle = _requested_but_idle(run.document) if args.adapter else []
    for line in idle:
        print(f"tapeconf: error: {line}", file=sys.stderr)
    return EXIT_FAILURES if run.failures or idle else EXIT_OK


def _requested_but_idle(document: dict[str, Any]) -> list[str]:
    """For each adapter that ran no cell (it could not load, or is not installed): why.
    Asked for by name, such an adapter is a failure: a CI gate must not pass on nothing."""
    ran = {r["adapter"] for r in document["results"] if r["observation"] is not None}
    return [
        f"--adapter {block['spec']} ran nothing: {block.get('error') or block.get('reason')}"
        for block in document["adapters"]
        if block["name"] not in ran and not block.get("available")
    ]


@contextlib.contextmanager
def _sigterm_as_exception() -> Any:
    """While a report runs, SIGTERM raises ``Terminated`` in the main thread (as Ctrl-C raises
    KeyboardInterrupt), so that the workers are killed and the partial file is kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---- diff -------------------------------------------------------------------------------------


def _diff(args: argparse.Namespace) -> int:
    from conformance.report import load_results
    from conformance.report.diff import diff_results, render_diff

    old, new = load_results(args.old), load_results(args.new)
    present = {a["name"] for document in (old, new) for a in document["adapters"]}
    missing = [name for name in args.adapter if name not in present]
    if missing:
        return _fail(
            f"--adapter {', '.join(map(repr, missing))} is in neither file; "
            f"adapters there: {', '.join(sorted(present)) or 'none'}"
        )
    result = diff_results(old, new, adapters=args.adapter)
    sys.stdout.write(render_diff(result, str(args.old), str(args.new)))
    changed = result.changed if args.strict else bool(result.semantic)
    return EXIT_FAILURES if changed else EXIT_OK


# ---- list -------------------------------------------------------------------------------------


def _list(args: argparse.Namespace) -> int:
    from conformance.registry import all_scenarios

    scenarios = all_scenarios()
    areas = list(dict.fromkeys(s.area for s in scenarios))
    unknown = [a for a in args.area if a not in areas]
    if unknown:
        return _fail(f"unknown area {', '.join(map(repr, unknown))}; areas: {', '.join(areas)}")
    chosen = [s for s in scenarios if not args.area or s.area in args.area]
    if args.json:
        rows = [
            {
                "id": s.id,
                "area": s.area,
                "spec": s.spec,
                "statement": s.statement,
                "expectation": s.expect.describe(),
                "features": list(s.features),
            }
            for s in chosen
        ]
        print(json.dumps(rows, indent=1))
        return EXIT_OK
    width = max((len(s.id) for s in chosen), default=0)
    spec_width = min(max((len(s.spec) for s in chosen), default=0), 12)
    for area in dict.fromkeys(s.area for s in chosen):
        members = [s for s in chosen if s.area == area]
        print(f"{area} ({len(members)})")
        for s in members:
            print(f"  {s.id:<{width}}  {s.spec:<{spec_width}}  {s.statement}")
    print(f"{len(chosen)} scenarios in {len(dict.fromkeys(s.area for s in chosen))} areas")
    return EXIT_OK


# ---- adapters ---------------------------------------------------------------------------------


def _adapters(args: argparse.Namespace) -> int:
    from conformance.discovery import describe_installed, split_interpreter
    from conformance.report import resolve_adapter_specs
    from conformance.report.runner import describe_adapters

    specs = resolve_adapter_specs(args.adapter)
    # devices need the framework, and another environment (NAME@PYTHON) needs its worker
    in_worker = [s for s in specs if args.devices or split_interpreter(s)[1] is not None]
    described = dict(zip(in_worker, describe_adapters(in_worker), strict=True)) if in_worker else {}
    blocks = [described[s] if s in described else describe_installed(s) for s in specs]
    if args.json:
        print(json.dumps(blocks, indent=1))
    else:
        _print_adapters(blocks)
    return EXIT_FAILURES if any(b.get("error") for b in blocks) else EXIT_OK


def _print_adapters(blocks: list[dict[str, Any]]) -> None:
    from conformance.report.markdown_report import adapter_label

    rows = []
    for block in blocks:
        if block.get("error"):
            state = f"broken: {block['error']}"
        elif not block.get("available"):
            state = f"not installed: {block.get('reason')}"
        else:
            missing = sorted(f for f, why in block["features"].items() if why)
            state = (
                f"installed; {block['declared_divergences']} declared divergences; unsupported: "
                f"{', '.join(missing) or 'none'}"
            )
        rows.append(
            (
                adapter_label(block),
                block.get("version") or "-",
                ", ".join(block.get("devices") or []) or "-",
                state,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(3)] if rows else [0, 0, 0]
    for name, version, devices, state in rows:
        print(f"{name:<{widths[0]}}  {version:<{widths[1]}}  {devices:<{widths[2]}}  {state}")
