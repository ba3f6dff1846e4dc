"""Smoke tests of benchmarks/bench_overhead.py: it runs end to end; no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = REPO_ROOT / "benchmarks" / "bench_overhead.py"
QUICK_NUMPY_SEED = ("--quick", "--frameworks", "numpy", "--workloads", "i")


def run_benchmark(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the benchmark script as a user would, from the repository root."""
    return subprocess.run(
        [sys.executable, str(BENCHMARK), *arguments],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )


def test_quick_numpy_seed_run_prints_a_table() -> None:
    """A quick numpy-only run of workload (i) exits 0 and prints its Markdown table."""
    result = run_benchmark(*QUICK_NUMPY_SEED)
    assert result.returncode == 0, f"exit status {result.returncode}; stderr:\n{result.stderr}"
    assert "## (i) seed round trip" in result.stdout
    assert "| framework | mode | median | min | × torch |" in result.stdout
    assert "| numpy | hand-written backward |" in result.stdout
    assert "## (ii)" not in result.stdout, "only workload (i) was selected"


def test_json_output_holds_the_raw_timings(tmp_path: Path) -> None:
    """--json writes the per-repeat timings and the check values the table was built from."""
    json_path = tmp_path / "bench.json"
    result = run_benchmark(*QUICK_NUMPY_SEED, "--json", str(json_path))
    assert result.returncode == 0, f"exit status {result.returncode}; stderr:\n{result.stderr}"
    payload = json.loads(json_path.read_text(encoding="utf-8"))
    numpy_run = payload["runs"][0]["numpy"]
    assert numpy_run["status"] == "ok"
    seed_timing = numpy_run["timings"]["hand-written backward"]["i"]
    assert len(seed_timing["per_call_s"]) == 3 and seed_timing["min_s"] > 0
    assert numpy_run["checks"]["hand-written backward"]["i"]["gradients"] == [6.0]
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"], "temporary file left behind"


def test_unknown_framework_is_a_usage_error() -> None:
    """An unknown framework exits with status 2 and lists the valid ones."""
    result = run_benchmark("--frameworks", "numpy,caffe")
    assert result.returncode == 2
    assert "unknown framework 'caffe'" in result.stderr
    assert "valid: reference, torch, tensorflow, jax, numpy" in result.stderr
