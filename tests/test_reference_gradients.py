"""Every reference op's gradient against central finite differences, first and second order.

Each case is a function of float64 tensors evaluated at random points away from kinks; the
tape's gradient of ``reduce_sum(f(*args))`` must match finite differences, and so must the
gradient of that gradient computed with nested tapes (which exercises every backward rule's
own backward rule).
"""

from __future__ import annotations

import numpy as np
import pytest

import reference_impl as tf
from conformance.oracle import Derivatives
from reference_impl import _core, _ops

RNG = np.random.default_rng(20261127)


def _positive(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def _signed(*shape):
    """Values at least 0.2 away from zero (and from each other's kinks)."""
    magnitude = RNG.uniform(0.2, 1.5, shape)
    return magnitude * RNG.choice([-1.0, 1.0], shape)


# name -> (function of (tf, *tensors), inputs); names cover every Primitive in _ops/_variables.
CASES = {
    "add": (lambda tf, x, y: x + y, [_signed(2, 3), _signed(3)]),
    "subtract": (lambda tf, x, y: x - y, [_signed(2, 3), _signed(2, 1)]),
    "multiply": (lambda tf, x, y: x * y, [_signed(2, 3), _signed(3)]),
    "divide": (lambda tf, x, y: x / y, [_signed(3), _positive(3)]),
    "pow": (lambda tf, x, y: tf.pow(x, y), [_positive(3), _signed(3)]),
    "maximum": (
        lambda tf, x, y: tf.maximum(x, y),
        [np.array([0.5, -1.0, 2.0]), np.array([1.0, -2.0, 1.0])],
    ),
    "minimum": (
        lambda tf, x, y: tf.minimum(x, y),
        [np.array([0.5, -1.0, 2.0]), np.array([1.0, -2.0, 1.0])],
    ),
    "negative": (lambda tf, x: -x, [_signed(4)]),
    "square": (lambda tf, x: tf.square(x), [_signed(4)]),
    "sqrt": (lambda tf, x: tf.sqrt(x), [_positive(4)]),
    "exp": (lambda tf, x: tf.exp(x), [_signed(4)]),
    "log": (lambda tf, x: tf.math.log(x), [_positive(4)]),
    "sin": (lambda tf, x: tf.sin(x), [_signed(4)]),
    "cos": (lambda tf, x: tf.cos(x), [_signed(4)]),
    "tanh": (lambda tf, x: tf.tanh(x), [_signed(4)]),
    "sigmoid": (lambda tf, x: tf.sigmoid(x), [_signed(4)]),
    "relu": (lambda tf, x: tf.nn.relu(x) * x, [_signed(4)]),
    "abs": (lambda tf, x: tf.abs(x) * x, [_signed(4)]),
    "sign": (lambda tf, x: tf.sign(x) * x * x, [_signed(4)]),
    "identity": (lambda tf, x: tf.identity(x) * x, [_signed(3)]),
    "where": (lambda tf, x, y: tf.where(x > 0.0, x * y, y * y), [_signed(4), _signed(4)]),
    # (float64 -> complex128 -> float64 keeps every bit, so finite differences stay exact)
    "cast": (
        lambda tf, x: tf.math.real(tf.cast(x, tf.complex128) * tf.cast(x * x, tf.complex128)),
        [_signed(3)],
    ),
    "matmul": (lambda tf, a, b: tf.matmul(a, b) ** 2, [_signed(2, 3), _signed(3, 2)]),
    "matmul_transposed": (
        lambda tf, a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True) ** 2,
        [_signed(3, 2), _signed(2, 3)],
    ),
    "reduce_sum": (lambda tf, x: tf.reduce_sum(x * x, axis=1) ** 2, [_signed(2, 3)]),
    "reduce_mean": (
        lambda tf, x: tf.reduce_mean(x * x, axis=0, keepdims=True) ** 2,
        [_signed(2, 3)],
    ),
    "reduce_max": (
        lambda tf, x: tf.reduce_max(x * x, axis=1) ** 2,
        [np.array([[0.3, -1.2, 0.5], [2.0, 1.0, -0.4]])],
    ),
    "broadcast_to": (lambda tf, x: tf.broadcast_to(x, (2, 3)) ** 2, [_signed(1, 3)]),
    "reshape": (lambda tf, x: tf.reshape(x, (3, 2)) ** 3, [_signed(2, 3)]),
    "transpose": (lambda tf, x: tf.matmul(tf.transpose(x), x) ** 2, [_signed(2, 3)]),
    "tile": (lambda tf, x: tf.tile(x, (2, 3)) ** 3, [_signed(2, 2)]),
    "stack": (lambda tf, x, y: tf.stack([x * y, x], axis=1) ** 2, [_signed(3), _signed(3)]),
    "unstack": (lambda tf, x: tf.unstack(x, axis=1)[1] ** 3, [_signed(2, 3)]),
    "concat": (lambda tf, x, y: tf.concat([x, x * y], axis=0) ** 2, [_signed(2, 2), _signed(2, 2)]),
    "gather": (lambda tf, x: tf.gather(x, [2, 0, 2]) ** 3, [_signed(3, 2)]),
    "getitem": (lambda tf, x: x[1:, ::2] ** 3, [_signed(3, 4)]),
    "softmax": (lambda tf, x: tf.nn.softmax(x) * x, [_signed(2, 3)]),
    "norm": (lambda tf, x: tf.norm(x) * tf.reduce_sum(x), [_signed(4)]),
    "tensordot": (lambda tf, a, b: tf.tensordot(a, b, 1) ** 2, [_signed(2, 3), _signed(3, 2)]),
    "variable_read": (None, [_signed(3)]),  # covered by test_variable_gradient_second_order
}

# Primitives checked by a case above under another name (internal adjoint pairs and helpers).
COVERED_INDIRECTLY = {
    "sqrt_grad": "sqrt (second order)",
    "tanh_grad": "tanh (second order)",
    "sigmoid_grad": "sigmoid (second order)",
    "relu_grad": "relu (second order: relu(x) * x differentiates ReluGrad)",
    "take": "unstack/stack",
    "embed": "stack (second order)",
    "slice": "concat",
    "pad_axis": "concat (second order)",
    "scatter_add": "gather (second order)",
    "getitem_grad": "getitem (second order)",
    "read_variable": "variable_read",
    "copy": "tests/test_backends.py (device copies)",
    "conj": "test_complex_gradients",
    "real": "test_complex_gradients",
    "imag": "test_complex_gradients",
    "complex": "test_complex_gradients",
    "floor": "test_piecewise_constant_ops_have_no_gradient",
    "ceil": "test_piecewise_constant_ops_have_no_gradient",
    "round": "test_piecewise_constant_ops_have_no_gradient",
}

FD_CASES = {name: case for name, case in CASES.items() if case[0] is not None}


def _tape_derivatives(fn, inputs):
    xs = [tf.constant(x, dtype=tf.float64) for x in inputs]
    with tf.GradientTape(persistent=True) as outer:
        outer.watch(xs)
        with tf.GradientTape() as inner:
            inner.watch(xs)
            y = tf.reduce_sum(fn(tf, *xs))
        first = inner.gradient(y, xs)
        first_sums = [tf.reduce_sum(g) for g in first]
    second = [outer.gradient(s, x) for s, x in zip(first_sums, xs, strict=True)]
    dense = tf.convert_to_tensor  # gather gradients are IndexedSlices
    return [dense(g).numpy() for g in first], [
        np.zeros_like(x) if g is None else dense(g).numpy() for g, x in zip(second, inputs, strict=True)
    ]


@pytest.mark.parametrize("name", sorted(FD_CASES))
def test_gradient_matches_finite_differences(name):
    """First and second derivatives of each op equal finite differences (float64)."""
    fn, inputs = FD_CASES[name]
    first, second = _tape_derivatives(fn, inputs)
    numeric = Derivatives(lambda fw, *xs: fn(tf, *xs), inputs)
    for j, (tape_grad, fd_grad) in enumerate(zip(first, numeric.first[0], strict=True)):
        np.testing.assert_allclose(
            tape_grad, fd_grad, rtol=1e-6, atol=1e-7, err_msg=f"first order, input {j} of {name}"
        )
    for j, (tape_grad, fd_grad) in enumerate(zip(second, numeric.second[0], strict=True)):
        np.testing.assert_allclose(
            tape_grad, fd_grad, rtol=1e-4, atol=1e-5, err_msg=f"second order, input {j} of {name}"
        )


def test_every_primitive_is_checked():
    """Each registered primitive has a finite-difference case or names the test that covers it."""
    primitives = {
        p.name
        for module in (_ops,)
        for p in vars(module).values()
        if isinstance(p, _core.Primitive)
    }
    primitives.add("read_variable")
    unchecked = sorted(primitives - set(CASES) - set(COVERED_INDIRECTLY))
    assert unchecked == [], f"primitives without a gradient check: {unchecked}"


def test_variable_gradient_second_order():
    """Gradients through variable reads, first and second order, at a random point."""
    start = _signed(3)
    v = tf.Variable(start)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.reduce_sum(tf.sin(v) * v)
        g = inner.gradient(y, v)
    h = outer.gradient(g, v)
    np.testing.assert_allclose(g.numpy(), np.cos(start) * start + np.sin(start), rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), -np.sin(start) * start + 2 * np.cos(start), rtol=1e-12)


def test_complex_gradients():
    """Complex gradients follow TensorFlow's convention conj(dy/dz) * upstream (spec D02)."""
    z = tf.constant(1.0 + 2.0j, tf.complex128)
    with tf.GradientTape(persistent=True) as t:
        t.watch(z)
        a = z * z
        b = tf.math.real(z * tf.math.conj(z))
        c = tf.abs(z)
        d = tf.math.imag(z)
        e = tf.complex(tf.math.real(z), tf.math.imag(z) * 2.0)
    assert t.gradient(a, z).numpy() == pytest.approx(2 - 4j)
    assert t.gradient(b, z).numpy() == pytest.approx(2 + 4j)
    assert t.gradient(c, z).numpy() == pytest.approx((1 + 2j) / np.sqrt(5))
    assert t.gradient(d, z).numpy() == pytest.approx(1j)
    assert t.gradient(e, z).numpy() == pytest.approx(
        1 + 0j
    )  # sum of real(e)+... seeds: d/dz of re + 2i*im


def test_piecewise_constant_ops_have_no_gradient():
    """round/floor/ceil have no gradient (None); sign's is zero (spec OP03)."""
    x = tf.constant(2.3)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        outs = [tf.round(x), tf.floor(x), tf.math.ceil(x), tf.sign(x)]
    grads = [t.gradient(o, x) for o in outs]
    assert grads[:3] == [None, None, None]
    assert grads[3].numpy() == 0.0


def test_long_chain_does_not_recurse():
    """A 20 000-op chain differentiates without hitting Python's recursion limit."""
    x = tf.constant(0.5, tf.float64)
    with tf.GradientTape() as t:
        t.watch(x)
        y = x
        for _ in range(20_000):
            y = y * 1.0
    assert t.gradient(y, x).numpy() == 1.0
