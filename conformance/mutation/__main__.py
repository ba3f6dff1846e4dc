"""``python -m conformance.mutation [--sample N] [--jobs J] ...``: see ``conformance.mutation``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from conformance.mutation import LAST_RUN_FILE
from conformance.mutation._driver import MUTATED_FILES, MutationError, RunSummary, as_record, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.mutation",
        description="Mutate reference_impl and run the conformance matrix on each mutant.",
    )
    parser.add_argument("--sample", type=int, metavar="N", help="run N mutants, spread over the files")
    parser.add_argument("--seed", type=int, default=0, help="which sample (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes at once (default 1)")
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default 10x the baseline)")
    parser.add_argument(
        "--file", action="append", choices=[Path(f).name for f in MUTATED_FILES],
        help="mutate only this file (repeatable; default: all five)",
    )
    parser.add_argument(
        "--overlay", action="append", default=[], metavar="PATH",
        help="copy this working-tree path over the committed copy (e.g. conformance/catalogue)",
    )
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the git repository (default .)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the full record here")
    parser.add_argument(
        "--no-record", action="store_true",
        help=f"do not update {LAST_RUN_FILE.name} (a sample or overlaid run never does)",
    )
    return parser


def _print(summary: RunSummary) -> None:
    record = as_record(summary)
    ran = [o.seconds for o in summary.outcomes if o.status not in ("not_executed",)]
    mean = sum(ran) / len(ran) if ran else 0.0
    print(f"mutation run at {record['commit']}: {record['seconds']:.0f} s, {len(ran)} mutants run "
          f"at {mean:.2f} s each (a fresh interpreter's matrix: {summary.baseline_seconds:.2f} s)")
    print(f"{'file':22} {'mutants':>8} {'killed':>7} {'survived':>9} {'equiv':>6} "
          f"{'timeout':>8} {'unrun':>6} {'kill rate':>10}")
    for name, f in [*record["files"].items(), ("total", record["total"])]:
        print(f"{name:22} {f['mutants']:>8} {f['killed']:>7} {f['survived']:>9} "
              f"{f['equivalent']:>6} {f['timed_out']:>8} {f['not_executed']:>6} "
              f"{f['kill_rate']:>10.1%}")
    if record["survivors"]:
        print(f"\nsurvivors ({len(record['survivors'])}; 'unrun' = a line the matrix never executes):")
        for s in record["survivors"]:
            mark = " (unrun)" if s["status"] == "not_executed" else ""
            print(f"  {s['file']}:{s['line']} {s['function']}: {s['original']!r} -> "
                  f"{s['mutated']!r}{mark}")
    for outcome in summary.outcomes:
        if outcome.detail.startswith("listed as equivalent but killed"):
            print(f"stale equivalent entry: {outcome.mutant.describe()}: {outcome.detail}")
    for entry in summary.stale_equivalents:
        print(f"stale equivalent entry (matches no mutant): {entry.file} {entry.function} "
              f"{entry.original!r} -> {entry.mutated!r}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.jobs < 1 or (args.sample is not None and args.sample < 1):
        print("--jobs and --sample must be at least 1", file=sys.stderr)
        return 2
    files = [f for f in MUTATED_FILES if args.file is None or Path(f).name in args.file]
    try:
        summary = run(
            args.repo, files=files, sample=args.sample, seed=args.seed, jobs=args.jobs,
            timeout=args.timeout, overlay=args.overlay,
        )
    except MutationError as error:
        print(f"mutation run failed: {error}", file=sys.stderr)
        return 2
    _print(summary)
    record = as_record(summary)
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    full = args.sample is None and not args.overlay and args.file is None
    if full and not args.no_record:  # figures only, to stay small; the survivors are printed above
        figures = {key: item for key, item in record.items() if key != "survivors"}
        LAST_RUN_FILE.write_text(json.dumps(figures, indent=1) + "\n")
        print(f"\nrecorded in {LAST_RUN_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
