"""The MLP gradient step on a GPU: the reference tape (CuPy) beside PyTorch CUDA and JAX.

Workload: x(batch×width) float32 → tanh(xW1+b1) → tanh(·W2+b2) → ·W3+b3 → mean(out²), gradient
with respect to all six parameters, at several widths. Same method as ``bench_overhead.py`` (whose
helpers it uses): one subprocess per framework, values checked against a float64 NumPy oracle
before anything is timed, ``timeit`` autorange + repeat, JSON written atomically. Every timed call
ends with a device synchronisation, so the figures are time to finished results, not to queued work.

``--device cpu`` runs the very same code on reference CPU:0, torch CPU and JAX CPU, so it can be
tested on a machine without a GPU; its figures are CPU figures and the report says so.

Example::

    .venv/bin/python benchmarks/bench_gpu.py --device gpu --json /tmp/bench_gpu.json
    .venv/bin/python benchmarks/bench_gpu.py --device cpu --quick --widths 64,128
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import numpy as np
from bench_overhead import (
    QUICK_MIN_BATCH_S,
    QUICK_REPEATS,
    REPEATS,
    WARMUP_CALLS,
    FrameworkUnavailable,
    comma_list,
    emit,
    format_amount,
    format_ratio,
    host_description,
    numpy_mlp_step,
    positive_int,
    read_message,
    relative_difference,
    stderr_tail,
    summarize_gradient,
    time_step,
    write_json_atomically,
)

__all__ = ["DEFAULT_WIDTHS", "FRAMEWORKS", "load_reference_on", "main", "make_mlp_data"]

SCRIPT_PATH = Path(__file__).resolve()
REPO_ROOT = SCRIPT_PATH.parent.parent
JSON_SCHEMA_ID = "tapeconf.bench_gpu/1"

FRAMEWORKS = ("reference", "torch", "jax")
DEVICES = ("gpu", "cpu")
DEFAULT_WIDTHS = (512, 1024, 2048, 4096, 8192)
DEFAULT_BATCH = 256
PARAM_NAMES = ("w1", "b1", "w2", "b2", "w3", "b3")
DATA_SEED = 0

# Each variant must match the float64 oracle within half of the 1e-3 the frameworks must agree to,
# so any two variants that pass are within 1e-3 of each other.
ORACLE_RTOL = 5e-4
PAIRWISE_RTOL = 1e-3
EXPECTED_DTYPE = "float32"

# Full float32 matmuls everywhere, whatever the caller's environment says: CuPy reads CUPY_TF32 at
# import, NVIDIA_TF32_OVERRIDE=0 turns TF32 off in cuBLAS for every library in the process. torch
# and JAX are also told in code (set_float32_matmul_precision, jax_default_matmul_precision).
NO_TF32_ENVIRONMENT = {"CUPY_TF32": "0", "NVIDIA_TF32_OVERRIDE": "0"}

# The project's target: reference within 1.3x of PyTorch CUDA eager at width 4096.
TARGET_WIDTH = 4096
TARGET_MAX = 1.3
DENOMINATOR = ("torch", "autograd.grad")
REFERENCE_MODE = "eager tape"

Step = Callable[[], tuple[Any, tuple[Any, ...]]]
"""One timed call: forward, gradient and device synchronisation; returns (loss, gradients)."""


class PlacementError(RuntimeError):
    """A framework computed on another device than the one asked for (the figures would lie)."""


@dataclass(frozen=True)
class Variant:
    """One way to run the step in one framework (JAX has two: eager and jit)."""

    mode: str
    step: Step
    to_numpy: Callable[[Any], np.ndarray]
    devices_of: Callable[[Any], set[str]]  # where a result array lives, in the framework's names


@dataclass(frozen=True)
class Framework:
    """A framework loaded on one device: where it runs, and how to build its variants per width."""

    name: str
    version: str
    placement: str  # for people: "GPU:0 (NVIDIA H100 80GB HBM3, CuPy 13.3.0)"
    expected_device: str  # what ``Variant.devices_of`` must report for every result
    build: Callable[[dict[str, np.ndarray]], list[Variant]]


# ---- shared inputs ------------------------------------------------------------------------------


def make_mlp_data(width: int, batch: int, dtype: type = np.float32) -> dict[str, np.ndarray]:
    """Input and parameters from a fixed seed, drawn in float32, returned as ``dtype``.

    Drawing in float32 first means the float64 oracle sees exactly the children's inputs.
    """
    rng = np.random.default_rng(DATA_SEED)
    weight_scale = np.float32(1.0 / math.sqrt(width))  # keeps tanh out of saturation
    data = {"x": rng.standard_normal((batch, width), dtype=np.float32)}
    for layer in (1, 2, 3):
        data[f"w{layer}"] = rng.standard_normal((width, width), dtype=np.float32) * weight_scale
        data[f"b{layer}"] = rng.standard_normal(width, dtype=np.float32) * np.float32(0.1)
    return {name: array.astype(dtype) for name, array in data.items()}


# ---- reference_impl ------------------------------------------------------------------------------


def load_reference(device: str) -> Framework:
    """``reference_impl`` on GPU:0 (CuPy) or CPU:0 (NumPy)."""
    return load_reference_on("GPU:0" if device == "gpu" else "CPU:0")


def load_reference_on(device_name: str) -> Framework:
    """``reference_impl`` with every tensor placed on ``device_name`` (any reference device)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        import reference_impl as tf
    except ImportError as error:
        raise FrameworkUnavailable(f"cannot import reference_impl: {error}") from error
    try:
        with tf.device(device_name):
            pass
    except (RuntimeError, ValueError) as error:
        raise FrameworkUnavailable(f"{device_name} unavailable: {error}") from error
    synchronize = reference_synchronizer(device_name)

    def build(data: dict[str, np.ndarray]) -> list[Variant]:
        return [reference_variant(tf, device_name, data, synchronize)]

    placement = describe_reference_device(device_name)
    return Framework("reference", tf.__version__, placement, device_name, build)


def reference_synchronizer(device_name: str) -> Callable[[], None]:
    """Waits for the device's queued work: CuPy's device synchronise on GPU, nothing on the host."""
    if not device_name.startswith("GPU:"):
        return lambda: None
    cupy = importlib.import_module("cupy")
    device = cupy.cuda.Device(int(device_name.split(":")[1]))
    return device.synchronize


def describe_reference_device(device_name: str) -> str:
    """The device name with the hardware and array library behind it."""
    if device_name.startswith("GPU:"):
        cupy = importlib.import_module("cupy")
        index = int(device_name.split(":")[1])
        gpu = cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()
        return f"{device_name} ({gpu}, CuPy {cupy.__version__})"
    if device_name == "CPU:0":
        return f"CPU:0 (NumPy {np.__version__})"
    return device_name


def reference_variant(
    tf: Any, device_name: str, data: dict[str, np.ndarray], synchronize: Callable[[], None]
) -> Variant:
    """The step in TF's names, every tensor created and every op run under ``tf.device``."""
    with tf.device(device_name):
        x = tf.constant(data["x"])
        params = [tf.Variable(data[name]) for name in PARAM_NAMES]

    def step() -> tuple[Any, tuple[Any, ...]]:
        w1, b1, w2, b2, w3, b3 = params
        with tf.device(device_name):
            with tf.GradientTape() as tape:
                h1 = tf.tanh(tf.matmul(x, w1) + b1)
                h2 = tf.tanh(tf.matmul(h1, w2) + b2)
                out = tf.matmul(h2, w3) + b3
                loss = tf.reduce_mean(tf.square(out))
            gradients = tuple(tape.gradient(loss, params))
        synchronize()
        return loss, gradients

    def devices_of(tensor: Any) -> set[str]:
        return {tensor.device.split("device:")[-1]}

    return Variant(REFERENCE_MODE, step, lambda tensor: np.asarray(tensor.numpy()), devices_of)


# ---- torch --------------------------------------------------------------------------------------


def load_torch(device: str) -> Framework:
    """PyTorch eager autograd (``torch.autograd.grad``) on cuda:0 or the CPU, TF32 off."""
    try:
        import torch
    except ImportError as error:
        raise FrameworkUnavailable(f"cannot import torch: {error}") from error
    if device == "gpu" and not torch.cuda.is_available():
        why = (
            f"built for CUDA {torch.version.cuda} but sees no CUDA device"
            if torch.version.cuda
            else "is a CPU-only build"
        )
        raise FrameworkUnavailable(f"CUDA unavailable: torch {torch.__version__} {why}")
    torch.set_float32_matmul_precision("highest")  # full float32 matmuls, as CuPy's default
    target = torch.device("cuda:0" if device == "gpu" else "cpu")
    synchronize = torch.cuda.synchronize if device == "gpu" else (lambda: None)
    if device == "gpu":
        placement = f"cuda:0 ({torch.cuda.get_device_name(0)}, CUDA {torch.version.cuda})"
    else:
        placement = f"cpu ({torch.get_num_threads()} threads)"

    def build(data: dict[str, np.ndarray]) -> list[Variant]:
        return [torch_variant(torch, target, data, synchronize)]

    return Framework("torch", torch.__version__, placement, str(target), build)


def torch_variant(
    torch: Any, target: Any, data: dict[str, np.ndarray], synchronize: Callable[[], None]
) -> Variant:
    """``requires_grad`` parameters on ``target``, gradients by ``torch.autograd.grad``."""
    x = torch.from_numpy(data["x"]).to(target)
    params = [torch.from_numpy(data[name]).to(target).requires_grad_() for name in PARAM_NAMES]

    def step() -> tuple[Any, tuple[Any, ...]]:
        w1, b1, w2, b2, w3, b3 = params
        h1 = torch.tanh(x @ w1 + b1)
        h2 = torch.tanh(h1 @ w2 + b2)
        out = h2 @ w3 + b3
        loss = torch.mean(torch.square(out))
        gradients = torch.autograd.grad(loss, params)
        synchronize()
        return loss, gradients

    return Variant(
        DENOMINATOR[1],
        step,
        lambda tensor: tensor.detach().cpu().numpy(),
        lambda tensor: {str(tensor.device)},
    )


# ---- jax ----------------------------------------------------------------------------------------


def load_jax(device: str) -> Framework:
    """JAX eager ``jax.grad`` and, as an extra row, ``jax.jit`` of it; matmuls at full float32."""
    try:
        import jax
    except ImportError as error:
        raise FrameworkUnavailable(f"cannot import jax: {error}") from error
    platform = "gpu" if device == "gpu" else "cpu"
    try:
        target = jax.devices(platform)[0]
    except RuntimeError as error:
        raise FrameworkUnavailable(f"{platform.upper()} unavailable: {error}") from error
    # On a GPU, XLA's default float32 matmul may use TF32; "highest" matches CuPy and torch here.
    jax.config.update("jax_default_matmul_precision", "highest")

    def build(data: dict[str, np.ndarray]) -> list[Variant]:
        return jax_variants(jax, target, data)

    placement = f"{target} ({target.device_kind})"
    return Framework("jax", jax.__version__, placement, str(target), build)


def jax_variants(jax: Any, target: Any, data: dict[str, np.ndarray]) -> list[Variant]:
    """``jax.value_and_grad`` (what ``jax.grad`` calls) without and with ``jit``, blocked on."""
    import jax.numpy as jnp

    def mlp_loss(params: tuple[Any, ...], x: Any) -> Any:
        w1, b1, w2, b2, w3, b3 = params
        h1 = jnp.tanh(x @ w1 + b1)
        h2 = jnp.tanh(h1 @ w2 + b2)
        return jnp.mean(jnp.square(h2 @ w3 + b3))

    x = jax.device_put(data["x"], target)
    params = tuple(jax.device_put(data[name], target) for name in PARAM_NAMES)

    def devices_of(array: Any) -> set[str]:
        return {str(device) for device in array.devices()}

    def variant(mode: str, value_and_grad: Callable[..., Any]) -> Variant:
        def step() -> tuple[Any, tuple[Any, ...]]:
            loss, gradients = jax.block_until_ready(value_and_grad(params, x))
            return loss, tuple(gradients)

        return Variant(mode, step, np.asarray, devices_of)

    eager = jax.value_and_grad(mlp_loss)
    return [variant("eager jax.grad", eager), variant("jit(jax.grad)", jax.jit(eager))]


LOADERS: dict[str, Callable[[str], Framework]] = {
    "reference": load_reference,
    "torch": load_torch,
    "jax": load_jax,
}


# ---- the child: check, then time ----------------------------------------------------------------


def check_summary(variant: Variant, expected_device: str) -> dict[str, Any]:
    """Run the step once: loss, gradient norms, dtypes, shapes; raise if it ran elsewhere."""
    loss, gradients = variant.step()
    devices = set().union(*(variant.devices_of(array) for array in (loss, *gradients)))
    if devices != {expected_device}:
        raise PlacementError(
            f"results live on {sorted(devices)}, but should be on {expected_device} "
            f"[mlp on {variant.mode}]"
        )
    arrays = [variant.to_numpy(g) for g in gradients]
    return {
        "value": float(variant.to_numpy(loss)),
        "gradients": [summarize_gradient(array) for array in arrays],
        "dtypes": [str(array.dtype) for array in arrays],
        "shapes": [list(array.shape) for array in arrays],
    }


def time_width(variant: Variant, quick: bool) -> dict[str, Any]:
    """One finite-loss check at this width, then ``bench_overhead``'s warm-up/autorange/repeat."""
    loss, _ = variant.step()
    value = float(variant.to_numpy(loss))
    if not math.isfinite(value):
        raise ArithmeticError(f"loss={value}, but should be finite [mlp on {variant.mode}]")
    return time_step(variant.step, quick)


def run_child(options: argparse.Namespace) -> int:
    """Child process: load one framework, report its check values, then (if allowed) time it.

    With ``--await-go`` the child waits for the parent to answer ``go`` after checking the values,
    so a variant that computes wrong numbers is never timed. Timings are sent one width at a
    time, so a crash or a timeout at a large width keeps the smaller ones.
    """
    try:
        framework = LOADERS[options.child](options.device)
    except FrameworkUnavailable as reason:
        emit({"kind": "skipped", "framework": options.child, "reason": str(reason)})
        return 0
    widths = options.widths
    variants = framework.build(make_mlp_data(min(widths), options.batch))
    checks = {v.mode: check_summary(v, framework.expected_device) for v in variants}
    emit(
        {
            "kind": "check",
            "framework": framework.name,
            "version": framework.version,
            "placement": framework.placement,
            "checks": checks,
        }
    )
    if options.await_go and sys.stdin.readline().strip() != "go":
        return 3
    for width in widths:
        variants = framework.build(make_mlp_data(width, options.batch))
        for variant in variants:
            emit(
                {
                    "kind": "timing",
                    "width": width,
                    "mode": variant.mode,
                    "timing": time_width(variant, options.quick),
                }
            )
        del variants  # free this width's device memory before the next is allocated
    emit({"kind": "done"})
    return 0


# ---- the parent: oracle, child processes --------------------------------------------------------


def compute_oracle(width: int, batch: int) -> dict[str, Any]:
    """The float64 NumPy answer at ``width`` (dtypes are those expected: float32)."""
    loss, gradients = numpy_mlp_step(make_mlp_data(width, batch, np.float64))()
    return {
        "value": float(loss),
        "gradients": [summarize_gradient(g) for g in gradients],
        "dtypes": [EXPECTED_DTYPE] * len(gradients),
        "shapes": [list(g.shape) for g in gradients],
    }


def check_pairs(observed: dict[str, Any], expected: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(what, observed, expected) for the loss and each gradient norm."""
    pairs = [("loss", observed["value"], expected["value"])]
    names = [f"|d loss/d {name}|" for name in PARAM_NAMES]
    pairs += list(zip(names, observed["gradients"], expected["gradients"], strict=True))
    return pairs


def compare_with_oracle(
    framework: str, checks: dict[str, Any], oracle: dict[str, Any], width: int
) -> tuple[list[str], float]:
    """Problems found (one message each) and the largest relative difference seen."""
    problems: list[str] = []
    largest = 0.0
    for mode, observed in checks.items():
        where = f"[mlp width {width} on {framework}/{mode}]"
        for field_name in ("dtypes", "shapes"):
            got, wanted = observed[field_name], oracle[field_name]
            if got != wanted:
                problems.append(f"{field_name}={got}, but should be {wanted} {where}")
        for what, got, want in check_pairs(observed, oracle):
            if got is None or not math.isfinite(got):
                problems.append(f"{what}={got}, but should be {want:.7g} {where}")
                continue
            difference = relative_difference(got, want)
            largest = max(largest, difference)
            if difference > ORACLE_RTOL:
                problems.append(
                    f"{what}={got:.7g}, but should be {want:.7g} (relative difference "
                    f"{difference:.1e} > {ORACLE_RTOL:.0e}) {where}"
                )
    return problems, largest


@dataclass
class ChildOutcome:
    """What one framework's child process produced."""

    framework: str
    status: str  # "ok", "skipped", "failed" or "rejected" (wrong numbers, not timed)
    detail: str = ""
    version: str = ""
    placement: str = ""
    checks: dict[str, Any] = field(default_factory=dict)
    largest_difference: float = 0.0
    timings: dict[str, dict[str, Any]] = field(default_factory=dict)  # mode -> str(width) -> timing
    seconds: float = 0.0


def child_command(framework: str, options: argparse.Namespace) -> list[str]:
    """``python benchmarks/bench_gpu.py --child FRAMEWORK ...`` with the parent's options."""
    command = [sys.executable, str(SCRIPT_PATH), "--child", framework, "--await-go"]
    command += ["--device", options.device, "--batch", str(options.batch)]
    command += ["--widths", ",".join(map(str, options.widths))]
    return command + (["--quick"] if options.quick else [])


def run_framework(
    framework: str, options: argparse.Namespace, oracle: dict[str, Any]
) -> ChildOutcome:
    """Start one child, check its numbers against the oracle, and only then let it time."""
    environment = dict(os.environ)
    environment.update(NO_TF32_ENVIRONMENT)
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr_file:
        child = subprocess.Popen(
            child_command(framework, options),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            cwd=REPO_ROOT,
            env=environment,
        )
        outcome = converse_with_child(child, framework, oracle, min(options.widths))
        return_code = child.wait()
        if outcome.status == "ok" and return_code != 0:
            outcome.status = "failed"
        if outcome.status == "failed":
            outcome.detail = (
                f"child exited with status {return_code}: {outcome.detail}\n"
                f"{stderr_tail(stderr_file)}"
            ).strip()
    outcome.seconds = time.perf_counter() - started
    return outcome


def converse_with_child(
    child: subprocess.Popen[str], framework: str, oracle: dict[str, Any], width: int
) -> ChildOutcome:
    """The check-then-go exchange with a started child, then its timings until ``done``."""
    assert child.stdin is not None and child.stdout is not None  # set by Popen(PIPE)
    first = read_message(child.stdout, framework)
    if first is None or first["kind"] not in ("skipped", "check"):
        child.stdin.close()
        return ChildOutcome(framework, "failed", "no check values received")
    if first["kind"] == "skipped":
        child.stdin.close()
        return ChildOutcome(framework, "skipped", first["reason"])
    problems, largest = compare_with_oracle(framework, first["checks"], oracle, width)
    outcome = ChildOutcome(
        framework,
        "ok",
        version=first["version"],
        placement=first["placement"],
        checks=first["checks"],
        largest_difference=largest,
    )
    child.stdin.write("stop\n" if problems else "go\n")
    child.stdin.close()
    if problems:
        outcome.status, outcome.detail = "rejected", "\n".join(problems)
        return outcome
    collect_timings(child.stdout, outcome)
    return outcome


def collect_timings(stream: IO[str], outcome: ChildOutcome) -> None:
    """Read ``timing`` messages into ``outcome`` until ``done``; no ``done`` means it failed."""
    while (message := read_message(stream, outcome.framework)) is not None:
        if message["kind"] == "done":
            return
        if message["kind"] == "timing":
            by_width = outcome.timings.setdefault(message["mode"], {})
            by_width[str(message["width"])] = message["timing"]
            print(
                f"  {outcome.framework}/{message['mode']} width {message['width']}: "
                f"{message['timing']['median_s'] * 1e3:.3g} ms",
                file=sys.stderr,
                flush=True,
            )
    outcome.status, outcome.detail = "failed", "the child stopped before timing every width"


def run_all(
    options: argparse.Namespace, on_progress: Callable[[list[ChildOutcome]], None]
) -> list[ChildOutcome]:
    """Every framework in its own process, one after another; ``on_progress`` after each."""
    oracle = compute_oracle(min(options.widths), options.batch)
    outcomes: list[ChildOutcome] = []
    for framework in options.frameworks:
        outcome = run_framework(framework, options, oracle)
        print(f"{framework}: {outcome.status} ({outcome.seconds:.1f} s)", file=sys.stderr)
        outcomes.append(outcome)
        on_progress(outcomes)
    return outcomes


# ---- summary and output -------------------------------------------------------------------------


def median_ms(outcome: ChildOutcome, mode: str, width: int) -> float | None:
    """The median milliseconds per step of (framework, mode) at ``width``, or None if not timed."""
    timing = outcome.timings.get(mode, {}).get(str(width))
    return None if timing is None else timing["median_s"] * 1e3


def table_row(
    outcome: ChildOutcome, mode: str, torch_outcome: ChildOutcome | None, widths: Sequence[int]
) -> dict[str, Any]:
    """One (framework, mode): per width the median and min ms and the ratio to torch's median."""
    row: dict[str, Any] = {"framework": outcome.framework, "mode": mode, "widths": {}}
    for width in widths:
        timing = outcome.timings[mode].get(str(width))
        median = None if timing is None else timing["median_s"] * 1e3
        torch_ms = (
            None if torch_outcome is None else median_ms(torch_outcome, DENOMINATOR[1], width)
        )
        row["widths"][str(width)] = {
            "median_ms": median,
            "min_ms": None if timing is None else timing["min_s"] * 1e3,
            "ratio_to_torch": median / torch_ms if median and torch_ms else None,
        }
    return row


def summarize(outcomes: Sequence[ChildOutcome], options: argparse.Namespace) -> dict[str, Any]:
    """Table rows (ms per width, × torch per width), the target verdict and pairwise agreement."""
    torch_outcome = {o.framework: o for o in outcomes}.get(DENOMINATOR[0])
    rows = [
        table_row(outcome, mode, torch_outcome, options.widths)
        for outcome in outcomes
        for mode in outcome.timings
    ]
    return {
        "rows": rows,
        "target": target_verdict(rows, options),
        "largest_pairwise_difference": largest_pairwise_difference(outcomes),
    }


def target_verdict(rows: Sequence[dict[str, Any]], options: argparse.Namespace) -> dict[str, Any]:
    """reference / torch at TARGET_WIDTH against TARGET_MAX (judged on ``--device gpu`` only)."""
    ratio = None
    for row in rows:
        if (row["framework"], row["mode"]) == ("reference", REFERENCE_MODE):
            ratio = row["widths"].get(str(TARGET_WIDTH), {}).get("ratio_to_torch")
    return {
        "width": TARGET_WIDTH,
        "target_max": TARGET_MAX,
        "device": options.device,
        "ratio": ratio,
        "met": None if ratio is None or options.device != "gpu" else ratio <= TARGET_MAX,
    }


def largest_pairwise_difference(outcomes: Sequence[ChildOutcome]) -> float | None:
    """The largest relative difference of loss or a gradient norm between two checked variants."""
    summaries = [s for o in outcomes if o.status == "ok" for s in o.checks.values()]
    largest = None
    for first, second in itertools.combinations(summaries, 2):
        for _, got, want in check_pairs(first, second):
            difference = relative_difference(got, want)
            largest = difference if largest is None else max(largest, difference)
    return largest


def device_headline(device: str) -> str:
    """Which device ran, in words nobody can misread."""
    if device == "gpu":
        return "GPU (--device gpu)"
    return "CPU (--device cpu): these are CPU figures, not GPU figures"


def render_header(
    outcomes: Sequence[ChildOutcome], options: argparse.Namespace, summary: dict[str, Any]
) -> list[str]:
    """Title, host, method, where each framework ran, skips, correctness."""
    host = host_description()
    method = (
        f"--quick: {QUICK_REPEATS} repeats of ≥{QUICK_MIN_BATCH_S} s batches"
        if options.quick
        else f"timeit autorange, {REPEATS} repeats"
    )
    lines = [
        "# MLP gradient step benchmark",
        "",
        f"Device: **{device_headline(options.device)}**.",
        "",
        f"Host: {host['platform']}, {host['cpu_count']} CPUs, Python {host['python']}. "
        f"Each framework in its own process; {method} after {WARMUP_CALLS} warm-up calls; every "
        "timed call ends with a device synchronisation. float32 throughout, TF32 off (full "
        "float32 matmuls in every framework).",
        "",
    ]
    for outcome in outcomes:
        if outcome.status == "ok":
            lines.append(f"- {outcome.framework} {outcome.version}: ran on {outcome.placement}")
        elif outcome.status == "skipped":
            lines.append(f"- {outcome.framework}: {outcome.detail} (skipped)")
        else:
            lines.append(f"- {outcome.framework}: {outcome.status} — {outcome.detail}")
    return lines + [""] + render_correctness(outcomes, options, summary)


def render_correctness(
    outcomes: Sequence[ChildOutcome], options: argparse.Namespace, summary: dict[str, Any]
) -> list[str]:
    """One line on the check made before timing."""
    checked = [o for o in outcomes if o.status == "ok"]
    if not checked:
        return []
    largest = max(o.largest_difference for o in checked)
    pairwise = summary["largest_pairwise_difference"]
    line = (
        f"Correctness at width {min(options.widths)}: the loss and the six gradient norms of every "
        f"timed variant match a float64 NumPy oracle within {ORACLE_RTOL:.0e} relative (largest "
        f"{largest:.1e})"
    )
    if pairwise is not None:
        line += f"; largest difference between two variants {pairwise:.1e} (≤ {PAIRWISE_RTOL:.0e})"
    return [line + ".", ""]


def format_cell(cell: dict[str, Any]) -> str:
    """``median (min)`` in ms, or a dash when that width was not timed."""
    if cell["median_ms"] is None:
        return "–"
    return f"{format_amount(cell['median_ms'])} ({format_amount(cell['min_ms'])})"


def render_tables(
    outcomes: Sequence[ChildOutcome], options: argparse.Namespace, summary: dict[str, Any]
) -> list[str]:
    """ms per step per width, then × torch per width."""
    placements = {o.framework: o.placement for o in outcomes}
    widths = [str(w) for w in options.widths]
    header = "| framework | mode | device | " + " | ".join(widths) + " |"
    rule = "|---|---|---|" + "---:|" * len(widths)
    lines = [
        f"## ms per step, median (min), batch {options.batch}, by width",
        "",
        header,
        rule,
    ]
    for row in summary["rows"]:
        cells = " | ".join(format_cell(row["widths"][w]) for w in widths)
        lines.append(
            f"| {row['framework']} | {row['mode']} | {placements[row['framework']]} | {cells} |"
        )
    if not summary["rows"]:
        return lines + ["| (nothing timed) | | |" + " |" * len(widths), ""]
    lines += ["", f"## × torch ({DENOMINATOR[1]}, same device), by width", ""]
    lines += ["| framework | mode | " + " | ".join(widths) + " |"]
    lines += ["|---|---|" + "---:|" * len(widths)]
    for row in summary["rows"]:
        ratios = " | ".join(format_ratio(row["widths"][w]["ratio_to_torch"]) for w in widths)
        lines.append(f"| {row['framework']} | {row['mode']} | {ratios} |")
    return lines + [""]


def render_target(outcomes: Sequence[ChildOutcome], verdict: dict[str, Any]) -> list[str]:
    """The project's target line: met, not met, informational on CPU, or why not measured."""
    target = f"Target reference / torch CUDA eager at width {TARGET_WIDTH} ≤ {TARGET_MAX:g}"
    ratio = verdict["ratio"]
    if ratio is None:
        statuses = {o.framework: o for o in outcomes}
        reasons = [
            f"{name} {statuses[name].status}" if name in statuses else f"{name} not selected"
            for name in ("reference", "torch")
            if name not in statuses or statuses[name].status != "ok"
        ]
        why = ", ".join(reasons) or f"width {TARGET_WIDTH} not timed"
        return [f"{target}: not measured ({why})."]
    if verdict["device"] != "gpu":
        return [
            f"{target}: not measured (this was a CPU run; the CPU ratio is {format_ratio(ratio)}, "
            "for information only)."
        ]
    return [f"{target}: **{format_ratio(ratio)} — {'met' if verdict['met'] else 'NOT met'}**"]


def render_report(
    outcomes: Sequence[ChildOutcome], options: argparse.Namespace, summary: dict[str, Any]
) -> str:
    """The whole Markdown report."""
    lines = render_header(outcomes, options, summary)
    lines += render_tables(outcomes, options, summary)
    lines += render_target(outcomes, summary["target"])
    return "\n".join(lines)


def json_payload(
    outcomes: Sequence[ChildOutcome], options: argparse.Namespace, complete: bool
) -> dict[str, Any]:
    """Everything measured, raw (per-call seconds per repeat) and summarised."""
    return {
        "schema": JSON_SCHEMA_ID,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,  # False while frameworks are still to run (or if it was cut short)
        "device": options.device,
        "host": host_description(),
        "options": {
            "frameworks": options.frameworks,
            "widths": options.widths,
            "batch": options.batch,
            "quick": options.quick,
            "warmup_calls": WARMUP_CALLS,
            "repeats": QUICK_REPEATS if options.quick else REPEATS,
            "oracle_rtol": ORACLE_RTOL,
        },
        "frameworks": {
            o.framework: {
                "status": o.status,
                "detail": o.detail,
                "version": o.version,
                "placement": o.placement,
                "largest_difference_vs_oracle": o.largest_difference,
                "checks": o.checks,
                "timings": o.timings,
                "seconds": o.seconds,
            }
            for o in outcomes
        },
        "summary": summarize(outcomes, options),
    }


# ---- command line -------------------------------------------------------------------------------


def width_list(text: str) -> list[int]:
    """An argparse type: comma-separated widths ≥ 1, order kept, duplicates dropped."""
    widths = [positive_int(part.strip()) for part in text.split(",") if part.strip()]
    if not widths:
        raise argparse.ArgumentTypeError("no width given, e.g. --widths 512,1024")
    return list(dict.fromkeys(widths))


def build_parser() -> argparse.ArgumentParser:
    """The command line; ``--child`` and ``--await-go`` are the parent/child protocol."""
    parser = argparse.ArgumentParser(
        description="MLP gradient step on a GPU: reference tape (CuPy) vs PyTorch CUDA and JAX.",
    )
    parser.add_argument(
        "--device",
        choices=DEVICES,
        default="gpu",
        help="gpu (default): reference GPU:0, torch cuda:0, JAX gpu; cpu: the same on the CPU",
    )
    parser.add_argument(
        "--frameworks",
        type=comma_list(FRAMEWORKS, "framework"),
        default=list(FRAMEWORKS),
        help=f"comma-separated subset of {','.join(FRAMEWORKS)} (default: all)",
    )
    parser.add_argument(
        "--widths",
        type=width_list,
        default=list(DEFAULT_WIDTHS),
        help=f"comma-separated layer widths (default: {','.join(map(str, DEFAULT_WIDTHS))})",
    )
    parser.add_argument(
        "--batch", type=positive_int, default=DEFAULT_BATCH, help="rows of x (default: 256)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_REPEATS} repeats of ≥{QUICK_MIN_BATCH_S} s batches",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="also write raw numbers here (rewritten after each framework)",
    )
    parser.add_argument(
        "--child",
        choices=FRAMEWORKS,
        metavar="FRAMEWORK",
        help="internal: time one framework and print JSON lines on stdout",
    )
    parser.add_argument("--await-go", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse options; run as the parent (default) or as one framework's child."""
    parser = build_parser()
    options = parser.parse_args(argv)
    if options.child:
        return run_child(options)
    if options.json is not None and not options.json.parent.is_dir():
        parser.error(f"--json: directory {options.json.parent} does not exist")
    print(f"device: {device_headline(options.device)}", file=sys.stderr, flush=True)

    def save(outcomes: list[ChildOutcome], complete: bool = False) -> None:
        if options.json is not None:
            write_json_atomically(options.json, json_payload(outcomes, options, complete))

    outcomes = run_all(options, save)
    save(outcomes, complete=True)
    print(render_report(outcomes, options, summarize(outcomes, options)))
    return report_errors(outcomes)


def report_errors(outcomes: Sequence[ChildOutcome]) -> int:
    """Exit status 1, reasons on stderr, if any framework failed or computed wrong values."""
    bad = [o for o in outcomes if o.status in ("failed", "rejected")]
    for outcome in bad:
        verb = "computed wrong values (not timed)" if outcome.status == "rejected" else "failed"
        print(f"error: {outcome.framework} {verb}:\n{outcome.detail}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
