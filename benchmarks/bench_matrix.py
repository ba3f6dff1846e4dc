"""The conformance matrix's time per scenario: this tree beside a baseline commit, in one run.

    .venv/bin/python benchmarks/bench_matrix.py --baseline 4fa4675            # every adapter
    .venv/bin/python benchmarks/bench_matrix.py --baseline HEAD~5 --adapter reference --rounds 3

The baseline commit is exported with ``git archive`` into a temporary directory; then
``tapeconf report`` runs on the same adapters in the baseline and in this working tree, in
alternation (``--rounds`` times each, so a change of the machine's load falls on both), each in a
fresh interpreter whose ``PYTHONPATH`` puts that tree first. Each adapter's cells are timed by
their own ``seconds`` in results.json (the worker's ``observe`` time, start-up excluded), summed
per adapter and divided by the number of scenarios; the last row is the report's wall clock per
cell (start-up, comparison and writing included). Printed per adapter: milliseconds per
scenario in each tree (the median over rounds) and their ratio. Issue 10's target: a growing
catalogue keeps the ratio within 1.5. The machine is shared: only the ratio of one run means
something.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export(revision: str, into: Path) -> None:
    """The committed tree of ``revision`` at ``into`` (nothing of the working tree)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision],
        check=True, capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def run_report(tree: Path, adapters: list[str], out: Path) -> dict[str, tuple[float, int]]:
    """Per adapter: (seconds its cells took, scenarios it ran) for one report of ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "conformance", "report", "--out", str(out), "--quiet"]
    for adapter in adapters:
        command += ["--adapter", adapter]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):  # 1: some cell unexpected, still a timing
        raise SystemExit(f"tapeconf report failed in {tree}:\n{done.stderr[-2000:]}")
    document = json.loads((out / "results.json").read_text(encoding="utf-8"))
    seconds: dict[str, float] = defaultdict(float)
    scenarios: dict[str, set[str]] = defaultdict(set)
    for cell in document["results"]:
        observation = cell.get("observation") or {}
        seconds[cell["adapter"]] += float(observation.get("seconds") or 0.0)
        scenarios[cell["adapter"]].add(cell["id"])
    timings = {name: (seconds[name], len(scenarios[name])) for name in seconds}
    # the whole run's wall clock (worker start-up, comparison, writing), as one more row
    timings["(wall, all)"] = (float(document["duration_s"]), len(document["results"]))
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="the commit to compare with")
    parser.add_argument(
        "--adapter", action="append", default=[],
        help="an adapter to run (repeatable; default: reference, tensorflow, torch, jax)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="reports per tree (default: 2)")
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    adapters = args.adapter or ["reference", "tensorflow", "torch", "jax"]
    per_scenario: dict[str, dict[str, list[float]]] = {"baseline": {}, "this tree": {}}
    counts: dict[str, dict[str, int]] = {"baseline": {}, "this tree": {}}
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as scratch:
        base = Path(scratch) / "baseline"
        base.mkdir()
        export(args.baseline, base)
        for round_ in range(args.rounds):
            for label, tree in (("baseline", base), ("this tree", ROOT)):
                out = Path(scratch) / f"out-{label.replace(' ', '-')}-{round_}"
                for adapter, (seconds, n) in run_report(tree, adapters, out).items():
                    per_scenario[label].setdefault(adapter, []).append(1000 * seconds / max(n, 1))
                    counts[label][adapter] = n
    print(f"{'adapter':<12} {'baseline':>22} {'this tree':>22} {'ratio':>7}")
    print("(milliseconds per scenario x scenarios; the wall row: per cell x cells)")
    for adapter in sorted(per_scenario["this tree"]):
        before = statistics.median(per_scenario["baseline"].get(adapter, [float("nan")]))
        after = statistics.median(per_scenario["this tree"][adapter])
        cells = (
            f"{before:8.1f} ms x {counts['baseline'].get(adapter, 0):4d}",
            f"{after:8.1f} ms x {counts['this tree'][adapter]:4d}",
        )
        print(f"{adapter:<12} {cells[0]:>22} {cells[1]:>22} {after / before:7.2f}")
    if args.json:
        args.json.write_text(json.dumps({"per_scenario_ms": per_scenario, "scenarios": counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
