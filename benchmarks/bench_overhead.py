"""Per-op overhead of reverse-mode autodiff: the reference tape beside torch, TF, JAX and NumPy.

Three workloads, each run in every framework in its own subprocess (so one framework's imports,
thread pools and allocators cannot slow another's): (i) the tutorial's scalar round trip, (ii) a
300-op scalar chain, (iii) a 3-layer 512-wide MLP gradient step. Before anything is timed, every
variant's values and gradient norms are checked against a float64 NumPy oracle, so the benchmark
never times wrong code. The output is one Markdown table per workload plus the ratios the project
targets (see benchmarks/README.md).

Example::

    .venv/bin/python benchmarks/bench_overhead.py --quick --frameworks numpy,torch --workloads i
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["FRAMEWORKS", "WORKLOADS", "main"]

SCRIPT_PATH = Path(__file__).resolve()
REPO_ROOT = SCRIPT_PATH.parent.parent
JSON_SCHEMA_ID = "tapeconf.bench_overhead/1"

FRAMEWORKS = ("reference", "torch", "tensorflow", "jax", "numpy")
WORKLOAD_KEYS = ("i", "ii", "iii")

CHAIN_LINKS = 100  # each link is y*1.01, +0.1, tanh: three ops
CHAIN_OPS = 3 * CHAIN_LINKS
CHAIN_START = 0.5
SEED_INPUT = 3.0
MLP_BATCH = 256
MLP_WIDTH = 512
MLP_PARAM_NAMES = ("w1", "b1", "w2", "b2", "w3", "b3")
DATA_SEED = 0

# Each variant must match the float64 oracle within half of the 1e-3 the frameworks must agree to,
# so any two variants that pass are within about 1e-3 of each other.
ORACLE_RTOL = 5e-4
EXPECTED_DTYPE = "float32"

WARMUP_CALLS = 2
REPEATS = 7
QUICK_REPEATS = 3
QUICK_MIN_BATCH_S = 0.01  # timeit's autorange aims at 0.2 s per batch; --quick at this

# The one mode of each framework that the project's target ratios compare.
TARGET_MODE = {
    "reference": "eager tape",
    "torch": "autograd.grad",
    "tensorflow": "eager tape",
    "jax": "eager jax.grad",
    "numpy": "hand-written backward",
}

Step = Callable[[], tuple[Any, tuple[Any, ...]]]
"""One timed call: forward and gradient, returning (value, gradients)."""


@dataclass(frozen=True)
class Workload:
    """A workload's display name, unit and the target ratio the project sets for it."""

    key: str
    title: str
    code: str
    unit: str
    seconds_to_unit: float  # multiply per-call seconds by this to get the unit
    target_denominator: str
    target_max: float


WORKLOADS: dict[str, Workload] = {
    "i": Workload(
        "i",
        "(i) seed round trip",
        "`x = constant(3.0)`; tape watches x; `y = x*x`; `gradient(y, x)`",
        "µs per call",
        1e6,
        "torch",
        0.5,
    ),
    "ii": Workload(
        "ii",
        "(ii) 300-op scalar chain",
        f"`y = x` then {CHAIN_LINKS} × `y = tanh(y*1.01 + 0.1)`, forward + gradient, "
        f"total / {CHAIN_OPS}",
        "µs per op",
        1e6 / CHAIN_OPS,
        "torch",
        1.0,
    ),
    "iii": Workload(
        "iii",
        "(iii) MLP gradient step",
        f"x({MLP_BATCH}×{MLP_WIDTH}) f32 → tanh(xW1+b1) → tanh(·W2+b2) → ·W3+b3 → mean(out²), "
        "gradient w.r.t. all six parameters",
        "ms per step",
        1e3,
        "numpy",
        1.15,
    ),
}


class FrameworkUnavailable(Exception):
    """The framework cannot be imported here (or is incomplete); it is skipped with this reason."""


@dataclass(frozen=True)
class Variant:
    """One way to run the three workloads in one framework (JAX has two: eager and jit)."""

    framework: str
    mode: str
    steps: dict[str, Step]
    to_numpy: Callable[[Any], np.ndarray]


# ---- shared inputs ------------------------------------------------------------------------------


def make_mlp_data(dtype: type = np.float32) -> dict[str, np.ndarray]:
    """The MLP's input and parameters from a fixed seed, drawn in float32, returned as ``dtype``.

    Drawing in float32 first means the float64 oracle sees exactly the children's inputs.
    """
    rng = np.random.default_rng(DATA_SEED)
    weight_scale = 1.0 / math.sqrt(MLP_WIDTH)  # keeps tanh out of saturation
    data = {"x": rng.standard_normal((MLP_BATCH, MLP_WIDTH))}
    for layer in (1, 2, 3):
        data[f"w{layer}"] = rng.standard_normal((MLP_WIDTH, MLP_WIDTH)) * weight_scale
        data[f"b{layer}"] = rng.standard_normal(MLP_WIDTH) * 0.1
    return {name: array.astype(np.float32).astype(dtype) for name, array in data.items()}


# ---- numpy with a hand-written backward (also the float64 oracle) --------------------------------


def numpy_seed_step(dtype: type) -> Step:
    """Scalar round trip with the derivative written by hand: d(x*x)/dx = 2x."""

    def step() -> tuple[Any, tuple[Any, ...]]:
        x = dtype(SEED_INPUT)
        y = x * x
        return y, (2 * x,)

    return step


def numpy_chain_step(dtype: type) -> Step:
    """The tanh chain forward, then its backward by the chain rule over the saved outputs."""
    x = dtype(CHAIN_START)

    def step() -> tuple[Any, tuple[Any, ...]]:
        y = x
        outputs = []
        for _ in range(CHAIN_LINKS):
            y = np.tanh(y * 1.01 + 0.1)
            outputs.append(y)
        grad = dtype(1.0)
        for out in reversed(outputs):
            grad = grad * (1 - out * out) * 1.01
        return y, (grad,)

    return step


def numpy_mlp_step(data: dict[str, np.ndarray]) -> Step:
    """The MLP loss and the gradients of all six parameters, backward written by hand."""
    x = data["x"]
    w1, b1, w2, b2, w3, b3 = (data[name] for name in MLP_PARAM_NAMES)

    def step() -> tuple[Any, tuple[Any, ...]]:
        h1 = np.tanh(x @ w1 + b1)
        h2 = np.tanh(h1 @ w2 + b2)
        out = h2 @ w3 + b3
        loss = np.mean(np.square(out))
        d_out = out * (2.0 / out.size)
        d_w3, d_b3 = h2.T @ d_out, d_out.sum(axis=0)
        d_z2 = (d_out @ w3.T) * (1 - h2 * h2)
        d_w2, d_b2 = h1.T @ d_z2, d_z2.sum(axis=0)
        d_z1 = (d_z2 @ w2.T) * (1 - h1 * h1)
        d_w1, d_b1 = x.T @ d_z1, d_z1.sum(axis=0)
        return loss, (d_w1, d_b1, d_w2, d_b2, d_w3, d_b3)

    return step


def numpy_variant(dtype: type = np.float32) -> Variant:
    """NumPy in ``dtype``: float32 is the benchmarked floor, float64 is the correctness oracle."""
    steps = {
        "i": numpy_seed_step(dtype),
        "ii": numpy_chain_step(dtype),
        "iii": numpy_mlp_step(make_mlp_data(dtype)),
    }
    return Variant("numpy", TARGET_MODE["numpy"], steps, np.asarray)


# ---- TensorFlow-shaped modules: TensorFlow itself and reference_impl -----------------------------

TF_NAMES_USED = ("constant", "Variable", "GradientTape", "tanh", "matmul", "reduce_mean", "square")


def tf_style_variant(tf: Any, framework: str) -> Variant:
    """The workloads written once against TF's public names (for tensorflow and reference)."""
    data = make_mlp_data()
    x_mlp = tf.constant(data["x"])
    params = [tf.Variable(data[name]) for name in MLP_PARAM_NAMES]
    x_chain = tf.constant(CHAIN_START)

    def seed() -> tuple[Any, tuple[Any, ...]]:
        x = tf.constant(SEED_INPUT)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        return y, (tape.gradient(y, x),)

    def chain() -> tuple[Any, tuple[Any, ...]]:
        with tf.GradientTape() as tape:
            tape.watch(x_chain)
            y = x_chain
            for _ in range(CHAIN_LINKS):
                y = tf.tanh(y * 1.01 + 0.1)
        return y, (tape.gradient(y, x_chain),)

    def mlp() -> tuple[Any, tuple[Any, ...]]:
        w1, b1, w2, b2, w3, b3 = params
        with tf.GradientTape() as tape:
            h1 = tf.tanh(tf.matmul(x_mlp, w1) + b1)
            h2 = tf.tanh(tf.matmul(h1, w2) + b2)
            out = tf.matmul(h2, w3) + b3
            loss = tf.reduce_mean(tf.square(out))
        return loss, tuple(tape.gradient(loss, params))

    def to_numpy(tensor: Any) -> np.ndarray:
        return np.asarray(tensor.numpy() if hasattr(tensor, "numpy") else tensor)

    steps = {"i": seed, "ii": chain, "iii": mlp}
    return Variant(framework, TARGET_MODE[framework], steps, to_numpy)


def load_reference() -> tuple[str, list[Variant]]:
    """``import reference_impl as tf`` from the repository root; incomplete means unavailable."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        import reference_impl as tf
    except ImportError as error:
        raise FrameworkUnavailable(f"cannot import reference_impl: {error}") from error
    missing = [name for name in TF_NAMES_USED if not hasattr(tf, name)]
    if missing:
        raise FrameworkUnavailable(f"reference_impl does not provide {', '.join(missing)} yet")
    return getattr(tf, "__version__", "unversioned"), [tf_style_variant(tf, "reference")]


def load_tensorflow() -> tuple[str, list[Variant]]:
    """TensorFlow eager execution with tf.GradientTape."""
    try:
        import tensorflow as tf
    except ImportError as error:
        raise FrameworkUnavailable(f"cannot import tensorflow: {error}") from error
    return tf.__version__, [tf_style_variant(tf, "tensorflow")]


# ---- torch --------------------------------------------------------------------------------------


def load_torch() -> tuple[str, list[Variant]]:
    """PyTorch autograd, gradients by ``torch.autograd.grad``."""
    try:
        import torch
    except ImportError as error:
        raise FrameworkUnavailable(f"cannot import torch: {error}") from error
    data = make_mlp_data()
    x_mlp = torch.from_numpy(data["x"])
    params = [torch.from_numpy(data[name]).requires_grad_() for name in MLP_PARAM_NAMES]
    x_chain = torch.tensor(CHAIN_START, requires_grad=True)

    def seed() -> tuple[Any, tuple[Any, ...]]:
        x = torch.tensor(SEED_INPUT, requires_grad=True)
        y = x * x
        return y, torch.autograd.grad(y, x)

    def chain() -> tuple[Any, tuple[Any, ...]]:
        y = x_chain
        for _ in range(CHAIN_LINKS):
            y = torch.tanh(y * 1.01 + 0.1)
        return y, torch.autograd.grad(y, x_chain)

    def mlp() -> tuple[Any, tuple[Any, ...]]:
        w1, b1, w2, b2, w3, b3 = params
        h1 = torch.tanh(x_mlp @ w1 + b1)
        h2 = torch.tanh(h1 @ w2 + b2)
        out = h2 @ w3 + b3
        loss = torch.mean(torch.square(out))
        return loss, torch.autograd.grad(loss, params)

    steps = {"i": seed, "ii": chain, "iii": mlp}
    variant = Variant("torch", TARGET_MODE["torch"], steps, lambda t: t.detach().numpy())
    return torch.__version__, [variant]


# ---- jax ----------------------------------------------------------------------------------------


def load_jax() -> tuple[str, list[Variant]]:
    """JAX eager ``jax.grad`` (re-traced every call) and, as an extra row, ``jax.jit`` of it.

    ``jax.value_and_grad`` is used so the value can be checked; ``jax.grad`` is that same
    function with the value dropped. Results are blocked on, since JAX dispatches asynchronously.
    """
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as error:
        raise FrameworkUnavailable(f"cannot import jax: {error}") from error

    def seed_fn(x: Any) -> Any:
        return x * x

    def chain_fn(x: Any) -> Any:
        y = x
        for _ in range(CHAIN_LINKS):
            y = jnp.tanh(y * 1.01 + 0.1)
        return y

    def mlp_loss(params: tuple[Any, ...], x: Any) -> Any:
        w1, b1, w2, b2, w3, b3 = params
        h1 = jnp.tanh(x @ w1 + b1)
        h2 = jnp.tanh(h1 @ w2 + b2)
        return jnp.mean(jnp.square(h2 @ w3 + b3))

    data = make_mlp_data()
    x_mlp = jnp.asarray(data["x"])
    params = tuple(jnp.asarray(data[name]) for name in MLP_PARAM_NAMES)
    x_chain = jnp.asarray(CHAIN_START, dtype=jnp.float32)

    def make_variant(mode: str, transform: Callable[[Any], Any]) -> Variant:
        seed_grad = transform(jax.value_and_grad(seed_fn))
        chain_grad = transform(jax.value_and_grad(chain_fn))
        mlp_grad = transform(jax.value_and_grad(mlp_loss))

        def seed() -> tuple[Any, tuple[Any, ...]]:
            value, grad = seed_grad(jnp.asarray(SEED_INPUT, dtype=jnp.float32))
            return jax.block_until_ready((value, (grad,)))

        def chain() -> tuple[Any, tuple[Any, ...]]:
            value, grad = chain_grad(x_chain)
            return jax.block_until_ready((value, (grad,)))

        def mlp() -> tuple[Any, tuple[Any, ...]]:
            return jax.block_until_ready(mlp_grad(params, x_mlp))

        return Variant("jax", mode, {"i": seed, "ii": chain, "iii": mlp}, np.asarray)

    eager = make_variant(TARGET_MODE["jax"], lambda function: function)
    return jax.__version__, [eager, make_variant("jit(jax.grad)", jax.jit)]


def load_numpy() -> tuple[str, list[Variant]]:
    """NumPy float32 with hand-written backward passes: the floor without any tape."""
    return np.__version__, [numpy_variant(np.float32)]


LOADERS: dict[str, Callable[[], tuple[str, list[Variant]]]] = {
    "reference": load_reference,
    "torch": load_torch,
    "tensorflow": load_tensorflow,
    "jax": load_jax,
    "numpy": load_numpy,
}


# ---- correctness summary and timing (run in the child) ------------------------------------------


def summarize_gradient(gradient: np.ndarray | None) -> float | None:
    """A scalar gradient itself (sign matters), an array gradient's L2 norm; None stays None."""
    if gradient is None:
        return None
    if gradient.ndim == 0:
        return float(gradient)
    return float(np.linalg.norm(gradient.astype(np.float64)))


def check_summary(variant: Variant, workload: str) -> dict[str, Any]:
    """Run one step once and summarise value, gradients, dtypes and shapes for the oracle check."""
    value, gradients = variant.steps[workload]()
    arrays = [None if g is None else variant.to_numpy(g) for g in gradients]
    return {
        "value": float(variant.to_numpy(value)),
        "gradients": [summarize_gradient(array) for array in arrays],
        "dtypes": [None if array is None else str(array.dtype) for array in arrays],
        "shapes": [None if array is None else list(array.shape) for array in arrays],
    }


def calibrate_number(timer: timeit.Timer, min_batch_s: float) -> int:
    """Like ``Timer.autorange`` (1, 2, 5, 10, ... calls) but with a chosen minimum batch time."""
    scale = 1
    while True:
        for multiple in (1, 2, 5):
            number = scale * multiple
            if timer.timeit(number) >= min_batch_s:
                return number
        scale *= 10


def time_step(step: Step, quick: bool) -> dict[str, Any]:
    """Warm up, size the batch with autorange, then repeat; per-call seconds (min and median)."""
    for _ in range(WARMUP_CALLS):
        step()
    timer = timeit.Timer(step)
    if quick:
        number, repeats = calibrate_number(timer, QUICK_MIN_BATCH_S), QUICK_REPEATS
    else:
        number, repeats = timer.autorange()[0], REPEATS
    per_call = [batch / number for batch in timer.repeat(repeat=repeats, number=number)]
    return {
        "number": number,
        "per_call_s": per_call,
        "min_s": min(per_call),
        "median_s": statistics.median(per_call),
    }


def emit(message: dict[str, Any]) -> None:
    """Send one JSON message to the parent: a single line on stdout."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def run_child(framework: str, workloads: Sequence[str], quick: bool, await_go: bool) -> int:
    """Child process: load one framework, report its check values, then (if allowed) time it.

    With ``await_go`` the child waits for the parent to answer ``go`` after checking the values,
    so a variant that computes wrong numbers is never timed.
    """
    try:
        version, variants = LOADERS[framework]()
    except FrameworkUnavailable as reason:
        emit({"kind": "skipped", "framework": framework, "reason": str(reason)})
        return 0
    checks = {v.mode: {key: check_summary(v, key) for key in WORKLOAD_KEYS} for v in variants}
    emit({"kind": "check", "framework": framework, "version": version, "checks": checks})
    if await_go and sys.stdin.readline().strip() != "go":
        return 3
    timings = {v.mode: {key: time_step(v.steps[key], quick) for key in workloads} for v in variants}
    emit({"kind": "result", "framework": framework, "timings": timings})
    return 0


# ---- the parent: oracle, child processes, aggregation -------------------------------------------


def compute_oracle() -> dict[str, dict[str, Any]]:
    """The float64 NumPy answers every variant must match (dtypes are those expected: float32)."""
    oracle_variant = numpy_variant(np.float64)
    oracle = {key: check_summary(oracle_variant, key) for key in WORKLOAD_KEYS}
    for summary in oracle.values():
        summary["dtypes"] = [EXPECTED_DTYPE] * len(summary["dtypes"])
    return oracle


def relative_difference(observed: float, expected: float) -> float:
    """|observed - expected| relative to the larger magnitude (0 when both are 0)."""
    scale = max(abs(observed), abs(expected))
    return 0.0 if scale == 0.0 else abs(observed - expected) / scale


def compare_with_oracle(
    framework: str, checks: dict[str, Any], oracle: dict[str, Any]
) -> tuple[list[str], float]:
    """Problems found (one message each) and the largest relative difference seen."""
    problems: list[str] = []
    largest = 0.0
    for mode, by_workload in checks.items():
        for key, expected in oracle.items():
            where = f"[workload {key} on {framework}/{mode}]"
            observed = by_workload[key]
            for field_name in ("dtypes", "shapes"):
                if observed[field_name] != expected[field_name]:
                    problems.append(
                        f"{field_name}={observed[field_name]}, but should be "
                        f"{expected[field_name]} {where}"
                    )
            pairs = [("value", observed["value"], expected["value"])]
            pairs += [
                (f"gradient[{index}]", got, want)
                for index, (got, want) in enumerate(
                    zip(observed["gradients"], expected["gradients"], strict=True)
                )
            ]
            for what, got, want in pairs:
                if got is None or not math.isfinite(got):
                    problems.append(f"{what}={got}, but should be {want:.7g} {where}")
                    continue
                difference = relative_difference(got, want)
                largest = max(largest, difference)
                if difference > ORACLE_RTOL:
                    problems.append(
                        f"{what}={got:.7g}, but should be {want:.7g} "
                        f"(relative difference {difference:.1e} > {ORACLE_RTOL:.0e}) {where}"
                    )
    return problems, largest


@dataclass
class ChildOutcome:
    """What one framework's child process produced in one run."""

    framework: str
    status: str  # "ok", "skipped", "failed" or "rejected" (wrong numbers, not timed)
    detail: str = ""
    version: str = ""
    checks: dict[str, Any] = field(default_factory=dict)
    largest_difference: float = 0.0
    timings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def read_message(stream: IO[str], framework: str) -> dict[str, Any] | None:
    """The child's next JSON message; stray stdout lines are passed on to stderr."""
    while line := stream.readline():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            message = None
        if isinstance(message, dict) and "kind" in message:
            return message
        sys.stderr.write(f"[{framework} stdout] {line}")
    return None


def stderr_tail(stderr_file: IO[str], lines: int = 8) -> str:
    """The last lines the child wrote to stderr, for error messages."""
    stderr_file.seek(0)
    return "".join(stderr_file.readlines()[-lines:]).rstrip() or "(no stderr output)"


def child_command(framework: str, workloads: Sequence[str], quick: bool) -> list[str]:
    """``python benchmarks/bench_overhead.py --child FRAMEWORK ...`` with the parent's options."""
    command = [sys.executable, str(SCRIPT_PATH), "--child", framework]
    command += ["--workloads", ",".join(workloads), "--await-go"]
    return command + (["--quick"] if quick else [])


def run_framework(
    framework: str, workloads: Sequence[str], quick: bool, oracle: dict[str, Any]
) -> ChildOutcome:
    """Start one child, check its numbers against the oracle, and only then let it time."""
    environment = dict(os.environ)
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieter logs; threading untouched
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr_file:
        child = subprocess.Popen(
            child_command(framework, workloads, quick),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
            cwd=REPO_ROOT,
            env=environment,
        )
        outcome = converse_with_child(child, framework, oracle)
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
    child: subprocess.Popen[str], framework: str, oracle: dict[str, Any]
) -> ChildOutcome:
    """The check-then-go exchange with a started child; always closes its stdin."""
    assert child.stdin is not None and child.stdout is not None  # set by Popen(PIPE)
    first = read_message(child.stdout, framework)
    if first is None or first["kind"] not in ("skipped", "check"):
        child.stdin.close()
        return ChildOutcome(framework, "failed", "no check values received")
    if first["kind"] == "skipped":
        child.stdin.close()
        return ChildOutcome(framework, "skipped", first["reason"])
    problems, largest = compare_with_oracle(framework, first["checks"], oracle)
    outcome = ChildOutcome(
        framework,
        "ok",
        version=first["version"],
        checks=first["checks"],
        largest_difference=largest,
    )
    child.stdin.write("stop\n" if problems else "go\n")
    child.stdin.close()
    if problems:
        outcome.status, outcome.detail = "rejected", "\n".join(problems)
        return outcome
    result = read_message(child.stdout, framework)
    if result is None or result["kind"] != "result":
        outcome.status, outcome.detail = "failed", "no timings received"
        return outcome
    outcome.timings = result["timings"]
    return outcome


def run_all(
    frameworks: Sequence[str], workloads: Sequence[str], quick: bool, repeat_runs: int
) -> list[dict[str, ChildOutcome]]:
    """Every framework in its own process, the whole comparison ``repeat_runs`` times."""
    oracle = compute_oracle()
    runs: list[dict[str, ChildOutcome]] = []
    skipped: dict[str, ChildOutcome] = {}
    for run_index in range(repeat_runs):
        outcomes: dict[str, ChildOutcome] = {}
        for framework in frameworks:
            if framework in skipped:  # not installed is not going to change between runs
                outcomes[framework] = skipped[framework]
                continue
            outcome = run_framework(framework, workloads, quick, oracle)
            print(
                f"[run {run_index + 1}/{repeat_runs}] {framework}: {outcome.status} "
                f"({outcome.seconds:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
            if outcome.status == "skipped":
                skipped[framework] = outcome
            outcomes[framework] = outcome
        runs.append(outcomes)
    return runs


def rows_for(
    workload: Workload, runs: Sequence[dict[str, ChildOutcome]], frameworks: Sequence[str]
) -> list[dict[str, Any]]:
    """Table rows (framework, mode) with medians over runs, min over runs, ratio to the target's
    denominator (median of per-run ratios)."""
    rows = []
    for framework in frameworks:
        modes: list[str] = []
        for outcomes in runs:
            for mode in outcomes[framework].timings:
                if mode not in modes:
                    modes.append(mode)
        for mode in modes:
            per_run = [
                outcomes[framework].timings[mode][workload.key]
                for outcomes in runs
                if mode in outcomes[framework].timings
            ]
            ratios = per_run_ratios(workload, runs, (framework, mode))
            rows.append(
                {
                    "framework": framework,
                    "mode": mode,
                    "median_s": statistics.median(t["median_s"] for t in per_run),
                    "min_s": min(t["min_s"] for t in per_run),
                    "per_run_median_s": [t["median_s"] for t in per_run],
                    "ratio_to_denominator": statistics.median(ratios) if ratios else None,
                }
            )
    return rows


def per_run_ratios(
    workload: Workload, runs: Sequence[dict[str, ChildOutcome]], numerator: tuple[str, str]
) -> list[float]:
    """numerator median / denominator median, for every run where both were timed."""
    denominator = (workload.target_denominator, TARGET_MODE[workload.target_denominator])
    ratios = []
    for outcomes in runs:
        top = median_in_run(outcomes, numerator, workload.key)
        bottom = median_in_run(outcomes, denominator, workload.key)
        if top is not None and bottom:
            ratios.append(top / bottom)
    return ratios


def median_in_run(
    outcomes: dict[str, ChildOutcome], which: tuple[str, str], workload_key: str
) -> float | None:
    """One run's median per-call seconds for (framework, mode), or None if it was not timed."""
    framework, mode = which
    outcome = outcomes.get(framework)
    if outcome is None or mode not in outcome.timings:
        return None
    return outcome.timings[mode].get(workload_key, {}).get("median_s")


def target_verdict(workload: Workload, runs: Sequence[dict[str, ChildOutcome]]) -> dict[str, Any]:
    """The project's target ratio for this workload: value, per-run values, met or not."""
    ratios = per_run_ratios(workload, runs, ("reference", TARGET_MODE["reference"]))
    ratio = statistics.median(ratios) if ratios else None
    return {
        "numerator": "reference",
        "denominator": workload.target_denominator,
        "target_max": workload.target_max,
        "per_run_ratios": ratios,
        "ratio": ratio,
        "met": None if ratio is None else ratio <= workload.target_max,
    }


# ---- output -------------------------------------------------------------------------------------


def format_amount(value: float) -> str:
    """Three significant figures without scientific notation for the sizes seen here."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_ratio(ratio: float | None) -> str:
    """Two decimals, or two significant figures for ratios below 0.1; a dash when missing."""
    if ratio is None:
        return "–"
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"


def describe_missing_target(workload: Workload, statuses: dict[str, ChildOutcome]) -> str:
    """Why a target ratio could not be computed (which side was not timed, and why)."""
    reasons = []
    for side in ("reference", workload.target_denominator):
        outcome = statuses.get(side)
        if outcome is None:
            reasons.append(f"{side} not selected")
        elif outcome.status != "ok":
            reasons.append(f"{side} {outcome.status}")
    return ", ".join(reasons) or "not timed"


def render_workload(
    workload: Workload,
    rows: list[dict[str, Any]],
    verdict: dict[str, Any],
    statuses: dict[str, ChildOutcome],
) -> list[str]:
    """One workload's Markdown: heading, code line, table, target line."""
    denominator = workload.target_denominator
    lines = [
        f"## {workload.title} — {workload.unit}",
        "",
        workload.code + ".",
        "",
        f"| framework | mode | median | min | × {denominator} |",
        "|---|---|---:|---:|---:|",
    ]
    for row in rows:
        ratio = row["ratio_to_denominator"]
        lines.append(
            f"| {row['framework']} | {row['mode']} | "
            f"{format_amount(row['median_s'] * workload.seconds_to_unit)} | "
            f"{format_amount(row['min_s'] * workload.seconds_to_unit)} | "
            f"{format_ratio(ratio)} |"
        )
    if not rows:
        lines.append("| (nothing timed) | | | | |")
    target = f"reference / {denominator} ≤ {workload.target_max:g}"
    if verdict["ratio"] is None:
        reason = describe_missing_target(workload, statuses)
        lines += ["", f"Target {target}: not measured ({reason})."]
    else:
        per_run = ", ".join(format_ratio(r) for r in verdict["per_run_ratios"])
        met = "met" if verdict["met"] else "NOT met"
        lines += ["", f"Target {target}: **{format_ratio(verdict['ratio'])} — {met}**"]
        if len(verdict["per_run_ratios"]) > 1:
            lines[-1] += f" (median of per-run ratios {per_run})"
    return lines + [""]


def last_statuses(runs: Sequence[dict[str, ChildOutcome]]) -> dict[str, ChildOutcome]:
    """Per framework, its outcome in the first run where it was not ok, else its last outcome."""
    statuses: dict[str, ChildOutcome] = {}
    for outcomes in runs:
        for framework, outcome in outcomes.items():
            if framework not in statuses or statuses[framework].status == "ok":
                statuses[framework] = outcome
    return statuses


def host_description() -> dict[str, Any]:
    """Machine and interpreter facts that belong next to any timing."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def render_report(
    runs: Sequence[dict[str, ChildOutcome]],
    workloads: Sequence[str],
    quick: bool,
    summary: dict[str, Any],
) -> str:
    """The whole Markdown report: header (host, versions, skips, correctness), then the tables."""
    host = host_description()
    statuses = last_statuses(runs)
    timed = [f"{name} {o.version}" for name, o in statuses.items() if o.status == "ok"]
    lines = [
        "# Autodiff overhead benchmark",
        "",
        f"Host: {host['platform']}, {host['cpu_count']} CPUs, Python {host['python']}. "
        f"Runs: {len(runs)}, each framework in its own process; "
        f"{'--quick: ' + str(QUICK_REPEATS) if quick else 'timeit autorange, ' + str(REPEATS)} "
        f"repeats after {WARMUP_CALLS} warm-up calls. Figures: median per call (min in the "
        "min column); library threading at defaults. The machine may be shared and noisy: "
        "compare ratios from one run, not absolute times across runs.",
        "",
        f"Timed: {', '.join(timed) or 'nothing'}.",
    ]
    for name, outcome in statuses.items():
        if outcome.status != "ok":
            lines.append(f"{outcome.status.capitalize()}: {name} — {outcome.detail}")
    largest = max(
        (o.largest_difference for o in statuses.values() if o.status == "ok"), default=None
    )
    if largest is not None:
        lines.append(
            "Correctness: every timed variant's value and gradients (scalars, or L2 norms for "
            f"the MLP) match a float64 NumPy oracle within {ORACLE_RTOL:.0e} relative, all in "
            f"{EXPECTED_DTYPE} (largest difference {largest:.1e})."
        )
    lines.append("")
    for key in workloads:
        workload = WORKLOADS[key]
        lines += render_workload(workload, summary[key]["rows"], summary[key]["target"], statuses)
    return "\n".join(lines)


def summarize(
    runs: Sequence[dict[str, ChildOutcome]], frameworks: Sequence[str], workloads: Sequence[str]
) -> dict[str, Any]:
    """Per workload: the table rows and the target verdict."""
    return {
        key: {
            "title": WORKLOADS[key].title,
            "unit": WORKLOADS[key].unit,
            "seconds_to_unit": WORKLOADS[key].seconds_to_unit,
            "rows": rows_for(WORKLOADS[key], runs, frameworks),
            "target": target_verdict(WORKLOADS[key], runs),
        }
        for key in workloads
    }


def json_payload(
    runs: Sequence[dict[str, ChildOutcome]], options: argparse.Namespace, summary: dict[str, Any]
) -> dict[str, Any]:
    """Everything measured, raw (per-call seconds per repeat) and summarised."""
    return {
        "schema": JSON_SCHEMA_ID,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": host_description(),
        "options": {
            "frameworks": options.frameworks,
            "workloads": options.workloads,
            "quick": options.quick,
            "repeat_runs": options.repeat_runs,
            "warmup_calls": WARMUP_CALLS,
            "repeats": QUICK_REPEATS if options.quick else REPEATS,
            "oracle_rtol": ORACLE_RTOL,
        },
        "runs": [
            {
                name: {
                    "status": o.status,
                    "detail": o.detail,
                    "version": o.version,
                    "largest_difference_vs_oracle": o.largest_difference,
                    "checks": o.checks,
                    "timings": o.timings,
                }
                for name, o in outcomes.items()
            }
            for outcomes in runs
        ],
        "summary": summary,
    }


def current_umask() -> int:
    """The process umask (reading it requires setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json_atomically(path: Path, payload: dict[str, Any]) -> None:
    """Write to a temporary file in the same directory, then ``os.replace`` it into place."""
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes it private (0600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---- command line -------------------------------------------------------------------------------


def comma_list(valid: Sequence[str], what: str) -> Callable[[str], list[str]]:
    """An argparse type: comma-separated names from ``valid``, order kept, duplicates dropped."""

    def parse(text: str) -> list[str]:
        names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
        unknown = [name for name in names if name not in valid]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}"
            )
        if not names:
            raise argparse.ArgumentTypeError(f"no {what} given; valid: {', '.join(valid)}")
        return names

    return parse


def positive_int(text: str) -> int:
    """An argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line; ``--child`` and ``--await-go`` are the parent/child protocol."""
    parser = argparse.ArgumentParser(
        description="Per-op autodiff overhead: reference tape vs torch, TensorFlow, JAX, NumPy.",
    )
    parser.add_argument(
        "--frameworks",
        type=comma_list(FRAMEWORKS, "framework"),
        default=list(FRAMEWORKS),
        help=f"comma-separated subset of {','.join(FRAMEWORKS)} (default: all)",
    )
    parser.add_argument(
        "--workloads",
        type=comma_list(WORKLOAD_KEYS, "workload"),
        default=list(WORKLOAD_KEYS),
        help="comma-separated subset of i,ii,iii (default: all)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_REPEATS} repeats of ≥{QUICK_MIN_BATCH_S} s batches",
    )
    parser.add_argument(
        "--repeat-runs",
        type=positive_int,
        default=1,
        metavar="N",
        help="run the whole comparison N times; report the median of per-run ratios",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write raw numbers here")
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
        return run_child(options.child, options.workloads, options.quick, options.await_go)
    if options.json is not None and not options.json.parent.is_dir():
        parser.error(f"--json: directory {options.json.parent} does not exist")
    runs = run_all(options.frameworks, options.workloads, options.quick, options.repeat_runs)
    summary = summarize(runs, options.frameworks, options.workloads)
    print(render_report(runs, options.workloads, options.quick, summary))
    if options.json is not None:
        write_json_atomically(options.json, json_payload(runs, options, summary))
    return report_errors(runs)


def report_errors(runs: Sequence[dict[str, ChildOutcome]]) -> int:
    """Exit status 1, reasons on stderr, if any framework failed or computed wrong values."""
    bad = [o for o in last_statuses(runs).values() if o.status in ("failed", "rejected")]
    for outcome in bad:
        verb = "computed wrong values (not timed)" if outcome.status == "rejected" else "failed"
        print(f"error: {outcome.framework} {verb}:\n{outcome.detail}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
