"""The array-backend layer: kernels portable to any array API library, devices, mixing errors.

Without a GPU, portability is proved on ``array-api-strict``: every reference scenario and every
op's first and second derivatives must come out the same there as on NumPy, so a kernel that
only works on NumPy fails here. Its fake devices test the device-mixing rules.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_reference_gradients import FD_CASES, _tape_derivatives

import reference_impl as tf
from adapters.reference_adapter import ReferenceAdapter
from conformance.outcome import Verdict, judge, observe
from conformance.registry import all_scenarios

pytest.importorskip(
    "array_api_strict", reason="array-api-strict is not installed (pip install array-api-strict)"
)

STRICT = "STRICT:CPU_DEVICE"


class StrictReferenceAdapter(ReferenceAdapter):
    """The reference adapter, placing every scenario's tensors on array-api-strict."""

    def devices(self):
        return [STRICT]


def _host_only(scenario):
    # string tensors live on the host, as in TensorFlow; the array API standard has no float16
    return bool({"strings", "float16"} & set(scenario.features))


@pytest.mark.parametrize(
    "scenario", [s for s in all_scenarios() if not _host_only(s)], ids=lambda s: s.id
)
def test_every_scenario_conforms_on_array_api_strict(scenario):
    """The reference gives the spec's outcome for every scenario with arrays on array-api-strict."""
    adapter = StrictReferenceAdapter()
    cell = judge(scenario, adapter.name, STRICT, observe(scenario, adapter, STRICT), None)
    assert cell.verdict is Verdict.CONFORMS, cell.detail


def test_tensors_really_live_on_strict():
    """Under tf.device, new tensors and op results are array-api-strict arrays on that device."""
    with tf.device("STRICT:device1"):
        x = tf.constant([1.0, 2.0])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(tf.sin(x) * x)
        g = tape.gradient(y, x)
    for tensor in (x, y, g):
        assert type(tensor._value).__module__.startswith("array_api_strict")
        assert tensor.device.endswith("device:STRICT:device1")
    np.testing.assert_allclose(
        g.numpy(), np.cos([1.0, 2.0]) * [1.0, 2.0] + np.sin([1.0, 2.0]), rtol=1e-6
    )


@pytest.mark.parametrize(
    "name", ["matmul", "gather", "concat", "stack", "tile", "softmax", "getitem", "reduce_max"]
)
def test_op_gradients_match_numpy(name):
    """First and second derivatives on array-api-strict equal those on NumPy."""
    fn, inputs = FD_CASES[name]
    on_numpy = _tape_derivatives(fn, inputs)
    with tf.device(STRICT):
        on_strict = _tape_derivatives(fn, inputs)
    for want, got in zip(on_numpy, on_strict, strict=True):
        for a, b in zip(want, got, strict=True):
            np.testing.assert_allclose(np.asarray(b), a, rtol=1e-12)


def test_mixing_devices_is_a_clear_error():
    """An op on tensors of two devices raises, naming both and how to copy."""
    with tf.device("STRICT:device1"):
        a = tf.constant([1.0, 2.0])
    with tf.device("STRICT:device2"):
        b = tf.constant([3.0, 4.0])
    with pytest.raises(
        tf.DeviceMismatchError,
        match=r"Mul got tensors on different devices "
        r"\['STRICT:device1', 'STRICT:device2'\].*tf.identity",
    ):
        a * b
    cpu = tf.constant([1.0, 2.0])
    with pytest.raises(
        tf.DeviceMismatchError, match=r"\['CPU:0', 'STRICT:device1'\]|\['STRICT:device1', 'CPU:0'\]"
    ):
        cpu + a


def test_identity_copies_across_devices_and_gradients_flow_back():
    """tf.identity under tf.device copies; the gradient returns to the source's device."""
    with tf.device("STRICT:device1"):
        x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        with tf.device("STRICT:device2"):
            moved = tf.identity(x)
            y = tf.reduce_sum(moved * moved)
    g = tape.gradient(y, x)
    assert moved.device.endswith("STRICT:device2")
    assert g.device.endswith("STRICT:device1")
    np.testing.assert_allclose(g.numpy(), [2.0, 4.0])


def test_unknown_and_missing_devices_say_what_is_valid():
    with pytest.raises(
        ValueError, match=r"unknown device 'TPU:0'; valid: CPU:0, GPU:<n>, STRICT:<name>"
    ):
        with tf.device("TPU:0"):
            pass
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(
            RuntimeError,
            match=r"no GPU backend: CuPy is not installed.*pip install 'tape-conformance\[gpu\]'",
        ):
            with tf.device("GPU:0"):
                pass


def test_gpu_matches_cpu_when_present():
    """On a CUDA GPU (CuPy), the MLP gradient equals the CPU one; skipped without one."""
    if "GPU:0" not in tf.available_devices():
        pytest.skip(
            "no GPU: reference_impl needs CuPy (pip install 'tape-conformance[gpu]') and a CUDA device"
        )
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(8, 16)).astype(np.float32), rng.normal(size=(16, 4)).astype(np.float32)

    def grads():
        xv, wv = tf.constant(x), tf.Variable(w)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.tanh(tf.matmul(xv, wv))))
        return tape.gradient(loss, wv).numpy()

    cpu = grads()
    with tf.device("GPU:0"):
        gpu = grads()
    np.testing.assert_allclose(gpu, cpu, rtol=1e-4, atol=1e-6)


def test_variables_report_their_device_and_copy_to_host():
    """A variable created under tf.device lives there; .numpy() and np.asarray copy it to the host."""
    with tf.device("STRICT:device1"):
        v = tf.Variable([1.0, 2.0])
    assert v.device.endswith("device:STRICT:device1")
    np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(v), [1.0, 2.0])
