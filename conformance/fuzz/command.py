"""The ``tapeconf fuzz`` verb: its arguments and what it prints while it runs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_fuzz_verb"]


def add_fuzz_verb(verbs: Any, seconds: Any, directory: Any) -> None:
    """Register ``fuzz`` on ``tapeconf``'s subparsers (``seconds``/``directory``: cli's types)."""
    fuzz = verbs.add_parser(
        "fuzz",
        help="generated tape programs on every adapter, compared with real TensorFlow",
        description="Draw tape programs over the whole neutral API (Hypothesis), run each on "
        "TensorFlow and on every adapter in worker processes, and report every difference "
        "shrunk to a minimal program: the reference against TensorFlow (exactly), every "
        "gradient against finite differences, other frameworks' values against TensorFlow's. "
        "Outcome-class differences of other frameworks form their divergence profiles.",
    )
    fuzz.add_argument(
        "--adapter",
        action="append",
        default=[],
        metavar="NAME",
        help="an adapter to compare with TensorFlow (repeatable; default: reference)",
    )
    fuzz.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="the seed: the same seed draws the same programs (default: 0)",
    )
    fuzz.add_argument(
        "--max-examples",
        type=_positive,
        default=1000,
        metavar="N",
        help="programs to draw in all (default: 1000)",
    )
    fuzz.add_argument(
        "--time-budget",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help="stop drawing after SECONDS (the run then writes what it found)",
    )
    fuzz.add_argument(
        "--timeout",
        type=seconds,
        default=30.0,
        metavar="SECONDS",
        help="a program that runs longer is a hang, a finding (default: 30)",
    )
    fuzz.add_argument(
        "--out",
        type=directory,
        default=Path("reports/fuzz"),
        metavar="DIR",
        help="where fuzz.json and FUZZ.md go (default: reports/fuzz)",
    )
    fuzz.add_argument(
        "--database",
        type=directory,
        default=None,
        metavar="DIR",
        help="Hypothesis' example database, replayed first on the next run "
        "(default: DIR/.hypothesis)",
    )
    fuzz.add_argument("--quiet", action="store_true", help="no progress output")
    fuzz.set_defaults(handler=run_fuzz)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least 1")
    return value


class _Progress:
    """One status line on stderr, refreshed at most four times a second."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = 0.0
        self.start = time.monotonic()

    def __call__(self, result: Any) -> None:
        now = time.monotonic()
        if self.quiet or now - self.last < 0.25:
            return
        self.last = now
        rate = result.programs / max(now - self.start, 1e-9)
        sys.stderr.write(
            f"\rtapeconf fuzz: {result.programs} programs ({rate:.1f}/s), "
            f"{len(result.findings)} findings, round {result.rounds + 1}   "
        )
        sys.stderr.flush()

    def close(self) -> None:
        if not self.quiet:
            sys.stderr.write("\n")


def run_fuzz(args: argparse.Namespace) -> int:
    from conformance.fuzz import FuzzSetupError
    from conformance.report import resolve_adapter_specs

    try:
        from conformance.fuzz.output import fuzz_document, write_fuzz_files
        from conformance.fuzz.session import Fuzzer
    except ModuleNotFoundError as missing:
        raise FuzzSetupError(
            f"tapeconf fuzz needs {missing.name}: pip install 'tape-conformance[fuzz]'"
        ) from None

    adapters = resolve_adapter_specs(args.adapter or ["reference"])
    progress = _Progress(args.quiet)
    fuzzer = Fuzzer(
        adapters,
        seed=args.seed,
        max_examples=args.max_examples,
        time_budget=args.time_budget,
        timeout=args.timeout,
        database=args.database or args.out / ".hypothesis",
        progress=progress,
    )
    result = fuzzer.run()
    progress.close()
    document = fuzz_document(
        result, seed=args.seed, max_examples=args.max_examples, time_budget=args.time_budget
    )
    paths = write_fuzz_files(document, args.out)
    if not args.quiet:
        print(
            f"tapeconf fuzz: {result.programs} programs in {result.seconds:.1f} s, "
            f"{len(result.findings)} findings; wrote {', '.join(map(str, paths))}",
            file=sys.stderr,
        )
        for finding in result.findings:
            print(
                f"  {finding.oracle} on {finding.adapter}: {finding.detail[:160]}", file=sys.stderr
            )
    return 1 if result.findings else 0
