"""Throughput of ``tapeconf fuzz``: programs per second, TensorFlow beside each adapter.

    .venv/bin/python benchmarks/bench_fuzz.py                      # reference, torch, jax, autograd
    .venv/bin/python benchmarks/bench_fuzz.py --adapters reference --programs 2000 --json out.json

Each adapter runs the same drawn programs (one seed) beside TensorFlow, in the workers ``tapeconf
fuzz`` uses, with shrinking off (a finding is kept as drawn), so the figure is the rate of drawing
and running programs. Reported per adapter: programs per second of the whole pair (wall clock,
worker start-up excluded), and milliseconds per program inside each worker (``observe`` time;
programs needing a feature the adapter lacks are not run there and not counted). The targets of
issue 9: 20,000 reference-vs-TensorFlow programs within 15 minutes (22.2 per second), and JAX at
least 10 programs per second of its own. The machine is shared: compare rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.fuzz.session import Fuzzer  # noqa: E402

DEFAULT_ADAPTERS = ("reference", "torch", "jax", "autograd")
TARGET_PER_SECOND = {"reference": 20_000 / (15 * 60), "jax": 10.0}


def measure(adapter: str, programs: int, seed: int) -> dict:
    result = Fuzzer([adapter], seed=seed, max_examples=programs, shrink=False).run()
    running = max(result.seconds - result.startup_seconds, 1e-9)
    name = next((n for n in result.adapters if n not in ("tensorflow",)), adapter)
    per_program = {
        worker: 1000 * spent / max(result.per_adapter.get(worker, 0), 1)
        for worker, spent in result.worker_seconds.items()
    }
    available = name in result.per_adapter
    return {
        "adapter": name,
        "available": available,
        "reason": None if available else result.adapters.get(name, {}).get("reason"),
        "programs": result.programs,
        "ran_on_adapter": result.per_adapter.get(name, 0),
        "pair_per_second": result.programs / running,
        "adapter_own_per_second": 1000 / per_program[name] if per_program.get(name) else None,
        "ms_per_program": per_program,
        "startup_s": result.startup_seconds,
        "findings": len(result.findings),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| adapter | programs (ran there) | pair programs/s | adapter ms/program | adapter programs/s | TF ms/program | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if not row["available"]:
            lines.append(f"| {row['adapter']} | not available: {row['reason']} | | | | | |")
            continue
        own = row["ms_per_program"].get(row["adapter"])
        target = TARGET_PER_SECOND.get(row["adapter"])
        rate = (
            row["pair_per_second"]
            if row["adapter"] == "reference"
            else row["adapter_own_per_second"]
        )
        verdict = "" if target is None else f"{rate / target:.2f} × target ({target:.1f}/s)"
        lines.append(
            f"| {row['adapter']} | {row['programs']} ({row['ran_on_adapter']}) | "
            f"{row['pair_per_second']:.1f} | {own:.1f} | {1000 / own:.1f} | "
            f"{row['ms_per_program'].get('tensorflow', float('nan')):.1f} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adapters", default=",".join(DEFAULT_ADAPTERS))
    parser.add_argument("--programs", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.programs < 1:
        parser.error("--programs must be at least 1")
    rows = [measure(a, args.programs, args.seed) for a in args.adapters.split(",") if a]
    print(
        f"# tapeconf fuzz throughput ({args.programs} programs, seed {args.seed}, {os.cpu_count()} CPUs)\n"
    )
    print(table(rows))
    if args.json:
        with tempfile.NamedTemporaryFile("w", dir=args.json.parent or ".", delete=False) as handle:
            json.dump(rows, handle, indent=1)
        os.replace(handle.name, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
