"""Smoke tests of benchmarks/bench_gpu.py: it runs end to end on the CPU, and without a GPU it
skips every framework with a reason instead of crashing. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO_ROOT / "benchmarks"
BENCHMARK = BENCHMARKS / "bench_gpu.py"
QUICK_CPU_RUN = ("--device", "cpu", "--quick", "--widths", "64", "--frameworks", "reference,torch")


def run_benchmark(*arguments: str, hide_gpus: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the benchmark as a user would, from the repository root (``hide_gpus``: no GPU seen)."""
    environment = dict(os.environ)
    if hide_gpus:
        environment["CUDA_VISIBLE_DEVICES"] = ""  # CuPy, torch and JAX then see no CUDA device
    return subprocess.run(
        [sys.executable, str(BENCHMARK), *arguments],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        timeout=300,
    )


def test_quick_cpu_run_names_the_device_and_prints_a_table(tmp_path: Path) -> None:
    """--device cpu --quick at width 64 exits 0, says it ran on the CPU, prints the tables."""
    pytest.importorskip("torch", reason="torch is not installed (pip install torch==2.13.0)")
    json_path = tmp_path / "bench_gpu.json"
    result = run_benchmark(*QUICK_CPU_RUN, "--json", str(json_path))
    assert result.returncode == 0, f"exit status {result.returncode}; stderr:\n{result.stderr}"
    assert "Device: **CPU (--device cpu): these are CPU figures, not GPU figures**" in result.stdout
    ran_on = [ln for ln in result.stdout.splitlines() if ": ran on " in ln]
    assert [ln.split(" ")[1] for ln in ran_on] == ["reference", "torch"], ran_on
    assert ": ran on CPU:0 (NumPy" in ran_on[0] and ": ran on cpu (" in ran_on[1]
    assert "| framework | mode | device | 64 |" in result.stdout
    assert "| reference | eager tape | CPU:0 (NumPy" in result.stdout
    assert "| torch | autograd.grad | cpu (" in result.stdout
    assert "## × torch (autograd.grad, same device), by width" in result.stdout
    payload = json.loads(json_path.read_text(encoding="utf-8"))
    assert payload["device"] == "cpu" and payload["complete"] is True
    reference = payload["frameworks"]["reference"]
    assert reference["status"] == "ok"
    assert reference["largest_difference_vs_oracle"] <= 5e-4
    assert len(reference["timings"]["eager tape"]["64"]["per_call_s"]) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["bench_gpu.json"], "temporary file left behind"


def test_gpu_run_without_a_gpu_skips_with_reasons() -> None:
    """--device gpu with no visible GPU exits 0, each framework skipped with why, no traceback."""
    result = run_benchmark("--device", "gpu", "--widths", "64", hide_gpus=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"exit status {result.returncode}; output:\n{output}"
    assert "Traceback" not in output
    assert "Device: **GPU (--device gpu)**" in result.stdout
    assert "- reference: GPU:0 unavailable: no GPU backend: " in result.stdout
    for framework in ("torch", "jax"):
        line = next(
            (ln for ln in result.stdout.splitlines() if ln.startswith(f"- {framework}: ")), ""
        )
        assert "unavailable" in line and line.endswith("(skipped)"), f"{framework}: {line!r}"
    assert "| (nothing timed) |" in result.stdout
    assert "Target reference / torch CUDA eager at width 4096 ≤ 1.3: not measured" in result.stdout


def test_unknown_device_is_a_usage_error() -> None:
    """An unknown --device exits with status 2 and names the valid ones."""
    result = run_benchmark("--device", "tpu")
    assert result.returncode == 2
    assert "argument --device: invalid choice: 'tpu'" in result.stderr
    assert "gpu" in result.stderr.split("choose from")[1] and "cpu" in result.stderr


def test_reference_step_stays_on_a_non_numpy_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark's reference code keeps every tensor on the device it was given, and matches
    the oracle there: proved on array-api-strict, the stand-in for CuPy without a GPU."""
    pytest.importorskip("array_api_strict", reason="array-api-strict is not installed")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_gpu

    framework = bench_gpu.load_reference_on("STRICT:CPU_DEVICE")
    (variant,) = framework.build(bench_gpu.make_mlp_data(16, 8))
    summary = bench_gpu.check_summary(variant, framework.expected_device)  # raises if moved
    oracle = bench_gpu.compute_oracle(16, 8)
    problems, _ = bench_gpu.compare_with_oracle("reference", {"eager tape": summary}, oracle, 16)
    assert problems == []
