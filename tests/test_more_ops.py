"""The names in ``reference_impl/_more_ops.py`` against real TensorFlow and finite differences.

Each case is one function of tensors written for a TF-shaped namespace, so the same code runs on
``reference_impl`` and on TensorFlow. Forward values, dtypes and shapes are compared with
TensorFlow (float32 inputs, the suite's per-dtype tolerance); first and second derivatives
(nested tapes, gradient of ``reduce_sum``) with TensorFlow's (float64) and with central finite
differences on the reference's own forward function (``conformance.oracle``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import reference_impl as rtf
from conformance.expect import tolerance
from conformance.oracle import Derivatives
from reference_impl import _core, _more_ops

RNG = np.random.default_rng(20261201)


def _signed(*shape: int) -> np.ndarray:
    """Values at least 0.2 away from zero."""
    return RNG.uniform(0.2, 1.5, shape) * RNG.choice([-1.0, 1.0], shape)


def _well_conditioned(n: int, batch: tuple[int, ...] = ()) -> np.ndarray:
    return np.eye(n) * 2.0 + RNG.uniform(-0.4, 0.4, (*batch, n, n))


# name -> (function of (tf, *tensors), inputs). Inputs avoid kinks and discontinuities.
CASES: dict[str, tuple[Any, list[np.ndarray]]] = {
    "softplus": (lambda tf, x: tf.nn.softplus(x), [np.array([-3.0, -0.5, 0.0, 0.7, 4.0])]),
    "math.softplus": (lambda tf, x: tf.math.softplus(x) * x, [_signed(2, 3)]),
    "floormod": (
        lambda tf, x, y: tf.math.floormod(x, y),
        [np.array([5.3, -5.3, 2.2]), np.array([3.1, 3.1, -0.7])],
    ),
    "mod_operator": (lambda tf, x, y: (x * x) % y, [np.array([2.5, -1.7]), np.array([1.3, 0.9])]),
    "linspace": (lambda tf, a, b: tf.linspace(a, b, 5) ** 2, [np.array(0.3), np.array(1.7)]),
    "linspace_batched_axis1": (
        lambda tf, a, b: tf.linspace(a, b, 4, axis=1) ** 2,
        [np.array([0.1, -1.0]), np.array([2.0, 0.5])],
    ),
    "linspace_one": (lambda tf, a, b: tf.linspace(a, b, 1) * b, [np.array(0.3), np.array(1.7)]),
    "clip_by_norm_clipped": (
        lambda tf, x: tf.clip_by_norm(x, 1.0) * x,
        [np.array([3.0, -4.0, 1.0])],
    ),
    "clip_by_norm_unclipped": (
        lambda tf, x: tf.clip_by_norm(x, 10.0) ** 2,
        [np.array([3.0, -4.0])],
    ),
    "clip_by_norm_axes": (
        lambda tf, x: tf.clip_by_norm(x, 1.5, axes=[1]) ** 2,
        [np.array([[3.0, 4.0], [0.3, 0.4]])],
    ),
    "softmax_cross_entropy": (
        lambda tf, labels, logits: (
            tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits) ** 2
        ),
        [np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]]), _signed(2, 3)],
    ),
    "nn.elu": (lambda tf, x: tf.nn.elu(x) * x, [_signed(2, 3)]),
    "reduce_prod": (lambda tf, x: tf.reduce_prod(x), [_signed(2, 3)]),
    "reduce_prod_axis_with_zero": (
        lambda tf, x: tf.reduce_prod(x, axis=1),
        [np.array([[2.0, 0.0, 3.0], [1.0, -0.5, 1.5]])],
    ),
    "reduce_prod_axes_keepdims": (
        lambda tf, x: tf.math.reduce_prod(x, axis=[0, 2], keepdims=True) ** 2,
        [_signed(2, 2, 3)],
    ),
    "math.log1p": (lambda tf, x: tf.math.log1p(x), [np.array([1e-4, 0.5, 2.0])]),
    "clip_by_value": (
        lambda tf, x: tf.clip_by_value(x, -1.0, 1.0) * x,
        [np.array([-2.0, -0.5, 0.25, 0.8, 3.0])],
    ),
    "clip_by_value_tensor_bounds": (
        lambda tf, x, low, high: tf.clip_by_value(x, low, high) ** 2,
        [np.array([[-2.0, 0.5], [3.0, 1.2]]), np.array([0.1, 1.0]), np.array(2.0)],
    ),
    "reduce_min": (
        lambda tf, x: tf.reduce_min(x * x, axis=1) ** 2,
        [np.array([[0.3, -1.2, 0.5], [2.0, 1.0, -0.4]])],
    ),
    "expand_dims_squeeze": (
        lambda tf, x: tf.squeeze(tf.expand_dims(x, 1) * x[:, None], axis=1) ** 2,
        [_signed(3, 2)],
    ),
    "linalg.matmul_adjoint": (
        lambda tf, a, b: tf.linalg.matmul(a, b, adjoint_a=True) ** 2,
        [_signed(3, 2), _signed(3, 2)],
    ),
    "linalg.inv": (lambda tf, a: tf.linalg.inv(a) ** 2, [_well_conditioned(3)]),
    "linalg.inv_batched_adjoint": (
        lambda tf, a: tf.linalg.inv(a, adjoint=True) * a,
        [_well_conditioned(2, (2,))],
    ),
    "linalg.solve": (
        lambda tf, a, b: tf.linalg.solve(a, b) ** 2,
        [_well_conditioned(3), _signed(3, 2)],
    ),
    "linalg.solve_batched_adjoint": (
        lambda tf, a, b: tf.linalg.solve(a, b, adjoint=True) * b,
        [_well_conditioned(2, (2,)), _signed(2, 2, 1)],
    ),
    "linalg.solve_with_eye": (
        lambda tf, a, b: tf.linalg.solve(a + tf.eye(3, dtype=a.dtype) * 0.5, b),
        [_well_conditioned(3), _signed(3, 1)],
    ),
    "linalg.det": (lambda tf, a: tf.linalg.det(a) ** 2, [_well_conditioned(3)]),
    "linalg.det_batched": (lambda tf, a: tf.linalg.det(a), [_well_conditioned(2, (3,))]),
    "linalg.diag_part": (lambda tf, a: tf.linalg.diag_part(a) ** 2, [_signed(2, 3, 3)]),
    "linalg.diag_part_wide": (lambda tf, a: tf.linalg.diag_part(a) ** 2, [_signed(2, 4)]),
    "linalg.diag": (lambda tf, d: tf.linalg.diag(d * d) * 2.0, [_signed(2, 3)]),
    "linalg.trace": (lambda tf, a: tf.linalg.trace(a * a), [_signed(3, 3)]),
    "linalg.norm": (lambda tf, x: tf.linalg.norm(x), [_signed(2, 3)]),
    "linalg.norm_ord1_axis": (lambda tf, x: tf.linalg.norm(x, ord=1, axis=1), [_signed(2, 3)]),
    "linalg.norm_inf": (lambda tf, x: tf.linalg.norm(x, ord=np.inf), [np.array([0.5, -2.0, 1.0])]),
    "linalg.norm_p3_keepdims": (
        lambda tf, x: tf.linalg.norm(x, ord=3, axis=0, keepdims=True),
        [_signed(3, 2)],
    ),
    "linalg.norm_fro_matrix": (
        lambda tf, x: tf.linalg.norm(x, ord="fro", axis=[0, 1]),
        [_signed(2, 3)],
    ),
    "linalg.norm_matrix_1": (
        lambda tf, x: tf.linalg.norm(x, ord=1, axis=(-2, -1)),
        [np.array([[1.0, -2.0], [0.5, 3.0]])],
    ),
    "linalg.norm_matrix_inf": (
        lambda tf, x: tf.linalg.norm(x, ord=np.inf, axis=[0, 1]),
        [np.array([[1.0, -2.0], [0.5, 3.0]])],
    ),
    "conv2d_valid": (
        lambda tf, x, f: tf.nn.conv2d(x, f, strides=1, padding="VALID") ** 2,
        [_signed(1, 4, 4, 2), _signed(2, 2, 2, 3)],
    ),
    "conv2d_same_strided": (
        lambda tf, x, f: tf.nn.conv2d(x, f, strides=[1, 2, 2, 1], padding="SAME") ** 2,
        [_signed(2, 5, 4, 1), _signed(3, 2, 1, 2)],
    ),
    "conv2d_dilated_same": (
        lambda tf, x, f: tf.nn.conv2d(x, f, strides=1, padding="SAME", dilations=2) ** 2,
        [_signed(1, 5, 5, 1), _signed(2, 2, 1, 1)],
    ),
    "conv2d_explicit_padding": (
        lambda tf, x, f: (
            tf.nn.conv2d(x, f, strides=(2, 1), padding=[[0, 0], [1, 0], [0, 2], [0, 0]]) ** 2
        ),
        [_signed(1, 4, 3, 2), _signed(2, 2, 2, 1)],
    ),
}

# Primitives checked by a case above under another name.
COVERED_BY = {
    "softplus": "softplus",
    "elu": "nn.elu",
    "log1p": "math.log1p",
    "reduce_min": "reduce_min",
    "floormod": "floormod",
    "reduce_prod": "reduce_prod",
    "others_product": "reduce_prod",  # the gradient's kernel; its VJP runs in the second order
    "others_product_grad": "reduce_prod_axis_with_zero",
    "matrix_inverse": "linalg.inv",
    "matrix_solve": "linalg.solve",
    "matrix_determinant": "linalg.det",
    "matrix_diag_part": "linalg.diag_part",
    "matrix_diag": "linalg.diag",
    "extract_patches": "conv2d_valid",
    "extract_patches_grad": "conv2d_valid",  # its VJP runs in every second-order conv2d check
}


# Cases whose gradient real TensorFlow cannot compute on CPU (finite differences still check ours).
TF_CPU_HAS_NO_GRADIENT = {
    "conv2d_dilated_same": "TensorFlow's CPU Conv2DBackpropInput does not support dilation rates > 1",
}


# Cases where TensorFlow's second derivative is not the derivative (finite differences check ours).
TF_SECOND_ORDER_DIFFERS = {
    "reduce_prod_axis_with_zero": "TensorFlow's second derivative of reduce_prod is 0 at the other "
    "elements of a group holding a zero (its _CumprodGrad divides by x); finite differences and "
    "the reference give the product of the remaining elements",
}


def _sums(fw: Any, fn: Any, xs: list[Any]) -> tuple[list[Any], list[Any], Any]:
    """The output, first and second derivatives of ``reduce_sum(fn(*xs))`` by nested tapes."""
    with fw.GradientTape(persistent=True) as outer:
        outer.watch(xs)
        with fw.GradientTape() as inner:
            inner.watch(xs)
            out = fn(fw, *xs)
            total = fw.reduce_sum(out)
        first = inner.gradient(total, xs)
        first_sums = [fw.reduce_sum(g) for g in first]
    second = [outer.gradient(s, x) for s, x in zip(first_sums, xs, strict=True)]
    as_array = lambda g, like: (
        np.zeros(like.shape) if g is None else fw.convert_to_tensor(g).numpy()
    )  # noqa: E731
    return (
        [as_array(g, x) for g, x in zip(first, xs, strict=True)],
        [as_array(g, x) for g, x in zip(second, xs, strict=True)],
        out,
    )


def _reference_derivatives(fn: Any, inputs: list[np.ndarray]) -> tuple[list[Any], list[Any]]:
    xs = [rtf.constant(x, dtype=rtf.float64) for x in inputs]
    first, second, _ = _sums(rtf, fn, xs)
    return first, second


@pytest.fixture(scope="module")
def real_tf() -> Any:
    return pytest.importorskip("tensorflow")


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences(name: str) -> None:
    """First and second derivatives equal central finite differences of the forward function."""
    fn, inputs = CASES[name]
    first, second = _reference_derivatives(fn, inputs)
    numeric = Derivatives(lambda fw, *xs: fn(rtf, *xs), inputs)
    for j, (tape, fd) in enumerate(zip(first, numeric.first[0], strict=True)):
        np.testing.assert_allclose(
            tape, fd, rtol=1e-6, atol=1e-6, err_msg=f"first order, input {j} of {name}"
        )
    for j, (tape, fd) in enumerate(zip(second, numeric.second[0], strict=True)):
        np.testing.assert_allclose(
            tape, fd, rtol=1e-4, atol=1e-4, err_msg=f"second order, input {j} of {name}"
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_matches_tensorflow(name: str, real_tf: Any) -> None:
    """Values, dtype and shape equal TensorFlow's for float32 inputs."""
    fn, inputs = CASES[name]
    ours = fn(rtf, *[rtf.constant(x, dtype=rtf.float32) for x in inputs])
    theirs = fn(real_tf, *[real_tf.constant(x, dtype=real_tf.float32) for x in inputs])
    assert ours.dtype.name == theirs.dtype.name, (
        f"dtype={ours.dtype.name}, but should be {theirs.dtype.name} [{name}]"
    )
    assert tuple(ours.shape) == tuple(theirs.shape), (
        f"shape={tuple(ours.shape)}, but should be {tuple(theirs.shape)} [{name}]"
    )
    tol = tolerance("float32")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_tensorflow(name: str, real_tf: Any) -> None:
    """First and second derivatives (nested tapes, float64) equal TensorFlow's."""
    if name in TF_CPU_HAS_NO_GRADIENT:
        pytest.skip(TF_CPU_HAS_NO_GRADIENT[name])
    fn, inputs = CASES[name]
    first, second = _reference_derivatives(fn, inputs)
    tf_first, tf_second, _ = _sums(
        real_tf, fn, [real_tf.constant(x, dtype=real_tf.float64) for x in inputs]
    )
    tol = tolerance("float64")
    orders = [("first", first, tf_first), ("second", second, tf_second)]
    if name in TF_SECOND_ORDER_DIFFERS:
        orders = orders[:1]
    for order, ours, theirs in orders:
        for j, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            np.testing.assert_allclose(
                a, b, rtol=tol, atol=tol, err_msg=f"{order} order, input {j} of {name}"
            )


def test_every_new_primitive_is_checked() -> None:
    """Each primitive defined in _more_ops has a finite-difference case."""
    primitives = {p.name for p in vars(_more_ops).values() if isinstance(p, _core.Primitive)}
    assert set(COVERED_BY.values()) <= set(CASES)
    assert sorted(primitives - set(COVERED_BY)) == []


def test_integer_and_sign_results_match_tensorflow(real_tf: Any) -> None:
    """Integer conv2d and reduce_prod keep int32; floor modulo keeps TF's signed zero."""
    for fw_case in (
        lambda tf: tf.nn.conv2d(
            tf.ones([1, 4, 4, 1], tf.int32), tf.ones([2, 2, 1, 1], tf.int32), 1, "VALID"
        ),
        lambda tf: tf.reduce_prod([[1, 2], [3, 4]], axis=1, keepdims=True),
        lambda tf: tf.constant([-6.0, 6.0, -7.5]) % 3.0,
    ):
        ours, theirs = fw_case(rtf), fw_case(real_tf)
        assert (ours.dtype.name, ours.numpy().dtype) == (theirs.dtype.name, theirs.numpy().dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        np.testing.assert_array_equal(np.signbit(ours.numpy()), np.signbit(theirs.numpy()))


def test_classification_and_shape_ops_match_tensorflow(real_tf: Any) -> None:
    """is_nan/is_inf/is_finite give bools; expand_dims/squeeze and reduce_min shapes and dtypes."""
    special = np.array([1.0, np.nan, np.inf, -np.inf], dtype=np.float32)
    for fw_case in (
        lambda tf: tf.math.is_nan(tf.constant(special)),
        lambda tf: tf.math.is_inf(tf.constant(special)),
        lambda tf: tf.math.is_finite(special),
        lambda tf: tf.expand_dims(tf.constant(1.0), 0),
        lambda tf: tf.squeeze(tf.ones([1, 2, 1])),
        lambda tf: tf.squeeze(tf.ones([1, 2, 1]), axis=[-1]),
        lambda tf: tf.reduce_min(tf.constant([[3, 1], [2, 5]]), axis=1),
        lambda tf: tf.clip_by_value(tf.constant([-2, 0, 3]), -1, 1),
    ):
        ours, theirs = fw_case(rtf), fw_case(real_tf)
        assert (ours.dtype.name, tuple(ours.shape)) == (theirs.dtype.name, tuple(theirs.shape))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_linspace_dtypes_match_tensorflow(real_tf: Any) -> None:
    """Integer end points give float64, Python floats float32, num=0 an empty tensor (as TF)."""
    for args in ((0, 10, 5), (0.0, 1.0, 5), (0.0, 1.0, 0), (2.0, 3.0, 2)):
        ours, theirs = rtf.linspace(*args), real_tf.linspace(*args)
        assert ours.dtype.name == theirs.dtype.name, f"dtype of linspace{args}"
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_mod_operator_matches_tensorflow(real_tf: Any) -> None:
    """``%`` is floor modulo for ints and floats, on either side of a Python number."""
    for fw_case in (
        lambda tf: tf.constant([-5, 5, 7]) % tf.constant([3, -3, 2]),
        lambda tf: tf.constant(5.0) % 3.0,
        lambda tf: 7.0 % tf.constant(-3.0),
        lambda tf: tf.Variable([-5.5, 2.0]) % 2.0,
    ):
        ours, theirs = fw_case(rtf), fw_case(real_tf)
        assert ours.dtype.name == theirs.dtype.name
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_random_is_deterministic_after_set_seed(real_tf: Any) -> None:
    """set_seed makes the reference repeat its sequence (TF's Philox numbers are not reproduced);
    dtypes and shapes are TensorFlow's, and uniform stays in [minval, maxval)."""

    def draw(fw: Any) -> list[Any]:
        fw.random.set_seed(7)
        return [
            fw.random.normal([2, 3]),
            fw.random.normal([2], seed=1),
            fw.random.uniform([4], minval=-1.0, maxval=2.0, dtype=fw.float64),
            fw.random.uniform([5], maxval=10, dtype=fw.int32),
        ]

    first, second, theirs = draw(rtf), draw(rtf), draw(real_tf)
    for a, b, t in zip(first, second, theirs, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert (a.dtype.name, tuple(a.shape)) == (t.dtype.name, tuple(t.shape))
    assert np.all((first[2].numpy() >= -1.0) & (first[2].numpy() < 2.0))
    assert np.all((first[3].numpy() >= 0) & (first[3].numpy() < 10))
    rtf.random.set_seed(8)
    assert not np.array_equal(rtf.random.normal([2, 3]).numpy(), first[0].numpy())
    rtf.random.set_seed(7)
    same_op_seed = [rtf.random.normal([2], seed=1).numpy() for _ in range(2)]
    assert not np.array_equal(*same_op_seed), "one op seed continues one stream, as in TF eager"


def test_random_draws_are_differentiable_in_their_parameters(real_tf: Any) -> None:
    """normal = z * stddev + mean and uniform = u * (max - min) + min, as TF composes them, so
    gradients reach tensor parameters (the reparameterization idiom)."""
    for fw in (rtf, real_tf):
        mu, sigma = fw.Variable(0.5), fw.Variable(2.0)
        low, high = fw.Variable(-1.0), fw.Variable(3.0)
        with fw.GradientTape(persistent=True) as tape:
            z = fw.random.normal([4, 3], mean=mu, stddev=sigma)
            u = fw.random.uniform([5], minval=low, maxval=high)
        d_mu, d_sigma = tape.gradient(z, [mu, sigma])
        d_low, d_high = tape.gradient(u, [low, high])
        unit = (u.numpy() - low.numpy()) / (high.numpy() - low.numpy())
        assert float(d_mu) == 12.0
        np.testing.assert_allclose(float(d_sigma), ((z.numpy() - 0.5) / 2.0).sum(), rtol=1e-5)
        np.testing.assert_allclose(
            [float(d_low), float(d_high)], [(1 - unit).sum(), unit.sum()], rtol=1e-5
        )


def test_clip_by_norm_bounds_as_tensorflow(real_tf: Any) -> None:
    """A tensor bound is cast to the values' dtype (and differentiable); a negative Python bound
    clips to zeros."""

    def program(fw: Any) -> list[Any]:
        values = fw.constant([3.0, 4.0])
        bound = fw.Variable(1.0, dtype=fw.float64)
        with fw.GradientTape() as tape:
            clipped = fw.clip_by_norm(values, bound)
        return [
            clipped.numpy(),
            tape.gradient(clipped, bound).numpy(),
            fw.clip_by_norm(values, -1.0).numpy(),
        ]

    for ours, theirs in zip(program(rtf), program(real_tf), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_random_uniform_integer_needs_maxval(real_tf: Any) -> None:
    """An integer uniform without maxval is the ValueError TensorFlow raises, same message."""
    messages = []
    for fw in (rtf, real_tf):
        with pytest.raises(ValueError) as info:
            fw.random.uniform([2], dtype=fw.int32)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_eye_matches_tensorflow(real_tf: Any) -> None:
    """tf.eye: square, rectangular, batched, and dtype as TensorFlow."""
    for args, kwargs in (((2,), {}), ((2, 3), {"dtype": "float64"}), ((2,), {"batch_shape": [2]})):
        ours, theirs = rtf.eye(*args, **kwargs), real_tf.eye(*args, **kwargs)
        assert ours.dtype.name == theirs.dtype.name
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_get_static_value_matches_tensorflow(real_tf: Any) -> None:
    """A tensor gives its NumPy value, a variable None, a Python value itself."""
    for fw_case in (
        lambda tf: tf.constant([1, 2]),
        lambda tf: tf.Variable(1.0),
        lambda tf: 3,
        lambda tf: [1.0, 2.0],
    ):
        ours, theirs = (
            rtf.get_static_value(fw_case(rtf)),
            real_tf.get_static_value(fw_case(real_tf)),
        )
        assert type(ours) is type(theirs)
        if ours is not None:
            np.testing.assert_array_equal(ours, theirs)


def _recompute_program(fw: Any, with_variable: bool, second_order: bool) -> Any:
    x = fw.constant(0.7, dtype=fw.float64)
    v = fw.Variable(1.3, dtype=fw.float64)
    block = fw.recompute_grad(lambda u: fw.sin(u) * u * (v if with_variable else 1.3))
    with fw.GradientTape(persistent=True) as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            y = block(x)
        dx, dv = inner.gradient(y, [x, v])
    if second_order:
        try:
            return ("returns", float(outer.gradient(dx, x)))
        except Exception as error:  # noqa: BLE001 - the raised type is the observation compared
            return ("raises", type(error).__name__, str(error))
    return [float(y), float(dx), None if dv is None else float(dv)]


def test_recompute_grad_gives_tensorflows_gradients(real_tf: Any) -> None:
    """First-order gradients through recompute_grad, for inputs and read variables, equal TF's."""
    for with_variable in (False, True):
        ours, theirs = (_recompute_program(fw, with_variable, False) for fw in (rtf, real_tf))
        assert (ours[2] is None) == (theirs[2] is None), (
            f"variable gradient {ours[2]} vs {theirs[2]}"
        )
        np.testing.assert_allclose(
            [v for v in ours if v is not None], [v for v in theirs if v is not None], rtol=1e-12
        )


def test_recompute_grad_second_order_without_variables(real_tf: Any) -> None:
    """Without variables the second derivative flows through the recomputation, as in TF."""
    ours, theirs = (_recompute_program(fw, False, True) for fw in (rtf, real_tf))
    assert ours[0] == theirs[0] == "returns"
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def test_recompute_grad_second_order_with_variables_raises(real_tf: Any) -> None:
    """With a variable, TF cannot differentiate recompute_grad's backward: NotImplementedError."""
    ours, theirs = (_recompute_program(fw, True, True) for fw in (rtf, real_tf))
    assert theirs[:2] == ("raises", "NotImplementedError")
    assert ours == theirs


ERROR_CASES = {
    "inv_singular": lambda tf: tf.linalg.inv(tf.constant([[1.0, 2.0], [2.0, 4.0]])),
    "det_not_square": lambda tf: tf.linalg.det(tf.ones([2, 3])),
    "normal_int_dtype": lambda tf: tf.random.normal([2], dtype=tf.int32),
    "uniform_bool_dtype": lambda tf: tf.random.uniform([2], dtype=tf.bool),
    "uniform_empty_int_range": lambda tf: tf.random.uniform(
        [2], minval=2, maxval=2, dtype=tf.int32
    ),
    "conv2d_lowercase_padding": lambda tf: tf.nn.conv2d(
        tf.ones([1, 3, 3, 1]), tf.ones([1, 1, 1, 1]), 1, "same"
    ),
    "conv2d_three_strides": lambda tf: tf.nn.conv2d(
        tf.ones([1, 3, 3, 1]), tf.ones([1, 1, 1, 1]), [1, 1, 1], "VALID"
    ),
    "cross_entropy_shapes": lambda tf: tf.nn.softmax_cross_entropy_with_logits(
        [[0.0, 1.0, 0.0]], [[1.0, 2.0]]
    ),
    "diag_part_vector": lambda tf: tf.linalg.diag_part(tf.ones([3])),
    "matmul_transpose_and_adjoint": lambda tf: tf.linalg.matmul(
        tf.ones([2, 3]), tf.ones([2, 3]), adjoint_a=True, transpose_a=True
    ),
    "norm_repeated_axis": lambda tf: tf.linalg.norm(tf.ones([2, 2]), axis=[0, 0]),
    "uniform_bound_of_other_dtype": lambda tf: tf.random.uniform(
        [2], minval=tf.constant(0.0, tf.float64)
    ),
    "is_nan_of_int": lambda tf: tf.math.is_nan(tf.constant([1])),
    "expand_dims_out_of_range": lambda tf: tf.expand_dims(tf.constant([1.0, 2.0]), 3),
    "squeeze_non_unit_axis": lambda tf: tf.squeeze(tf.ones([1, 2, 1]), axis=1),
    "norm_axis_list_of_one": lambda tf: tf.linalg.norm(tf.constant([3.0, 4.0]), axis=[0]),
    "solve_singular": lambda tf: tf.linalg.solve(
        tf.constant([[1.0, 2.0], [2.0, 4.0]]), tf.ones([2, 1])
    ),
    "solve_rank_mismatch": lambda tf: tf.linalg.solve(tf.eye(2), tf.ones([2])),
    "softplus_int": lambda tf: tf.nn.softplus(tf.constant(1)),
    "floormod_int_by_zero": lambda tf: tf.constant(5) % tf.constant(0),
    "norm_bad_vector_order": lambda tf: tf.linalg.norm(tf.constant([1.0, 2.0]), ord=0),
    "norm_fro_vector": lambda tf: tf.linalg.norm(tf.constant([1.0, 2.0]), ord="fro"),
    "conv2d_channel_mismatch": lambda tf: tf.nn.conv2d(
        tf.ones([1, 3, 3, 2]), tf.ones([2, 2, 1, 1]), 1, "VALID"
    ),
}


# TensorFlow's CPU build routes these through its oneDNN kernel (_MklNativeConv2D), whose messages
# are a build detail: only the exception type is compared.
MESSAGES_NAME_ONEDNN_KERNELS = {"conv2d_channel_mismatch", "conv2d_lowercase_padding"}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_errors_have_tensorflows_type(name: str, real_tf: Any) -> None:
    """Bad input raises TensorFlow's exception type, with its message."""
    kinds = []
    for fw in (rtf, real_tf):
        with pytest.raises(Exception) as info:  # noqa: PT011 - the type itself is compared below
            ERROR_CASES[name](fw)
        kinds.append((type(info.value).__name__, str(info.value)))
    assert kinds[0][0] == kinds[1][0], f"error={kinds[0]}, but should be {kinds[1]} [{name}]"
    if name not in MESSAGES_NAME_ONEDNN_KERNELS:
        assert kinds[0][1] == kinds[1][1], f"message={kinds[0][1]!r}, but should be {kinds[1][1]!r}"


def test_unsupported_arguments_fail_clearly() -> None:
    """What the reference does not implement is a typed error that says what is valid."""
    x = rtf.constant([1.0, 2.0, 3.0])
    with rtf.GradientTape() as t3, rtf.GradientTape() as t2, rtf.GradientTape() as t1:
        for tape in (t1, t2, t3):
            tape.watch(x)
        y = rtf.reduce_prod(x)
        g1 = t1.gradient(y, x)
        g2 = t2.gradient(g1, x)
    with pytest.raises(NotImplementedError, match="third derivative of reduce_prod"):
        t3.gradient(g2, x)
    with pytest.raises(ValueError, match="NHWC"):
        rtf.nn.conv2d(
            rtf.ones([1, 3, 3, 1]), rtf.ones([1, 1, 1, 1]), 1, "VALID", data_format="NCHW"
        )
    with pytest.raises(ValueError, match="padding must be 'SAME', 'VALID'"):
        rtf.nn.conv2d(rtf.ones([1, 3, 3, 1]), rtf.ones([1, 1, 1, 1]), 1, [[1, 1], [0, 0]])
    with pytest.raises(ValueError, match="strides of 1 in the batch and channel dimensions"):
        rtf.nn.conv2d(rtf.ones([1, 3, 3, 1]), rtf.ones([1, 1, 1, 1]), [2, 1, 1, 1], "VALID")
    with pytest.raises(
        rtf.errors.InvalidArgumentError, match="Computed output size would be negative"
    ):
        rtf.nn.conv2d(rtf.ones([1, 3, 3, 1]), rtf.ones([4, 4, 1, 1]), 1, "VALID")
    with pytest.raises(NotImplementedError, match="matrix 2-norm"):
        rtf.linalg.norm(rtf.ones([2, 2]), ord=2, axis=[0, 1])
