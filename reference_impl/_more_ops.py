"""TensorFlow names that real tape programs use beyond the core op set.

``linspace``, ``nn.softplus``, ``clip_by_norm``, seeded ``random``, floor ``%``,
``nn.softmax_cross_entropy_with_logits``, ``get_static_value``, ``recompute_grad``, the common
``linalg`` entries (``matmul``, ``inv``, ``det``, ``solve``, ``diag``, ``diag_part``, ``trace``,
``norm``), ``nn.conv2d``, and a few more that the corpus of real programs needed (``eye``,
``nn.elu``, ``reduce_prod``, ``reduce_min``, ``clip_by_value``, ``expand_dims``, ``squeeze``,
``math.log1p``, ``math.is_nan``/``is_inf``/``is_finite``). Ops that are one kernel in TensorFlow
(Softplus, Elu, Log1p, FloorMod, Prod, MatrixInverse, MatrixDeterminant, MatrixSolve,
MatrixDiagPart, the patch extraction inside Conv2D) are primitives registered with ``defvjp`` like
those of ``_ops``; ops that TensorFlow itself composes in Python (``linspace``, ``clip_by_norm``,
``clip_by_value``, ``norm``, ``trace``, the cross entropy, the random draws) are composed here from
the library's ops the same way. Every backward rule is written with the library's own ops,
so nested tapes give higher derivatives.

>>> import reference_impl as tf
>>> x = tf.constant([[2.0, 1.0], [1.0, 3.0]])
>>> with tf.GradientTape() as tape:
...     tape.watch(x)
...     y = tf.linalg.det(x)
>>> tape.gradient(y, x).numpy().tolist()
[[3.0, -1.0], [-1.0, 2.0]]
"""

from __future__ import annotations

import contextlib
import functools
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from reference_impl import _dtypes as dt
from reference_impl import _ops, errors
from reference_impl._core import KernelTypes, Primitive, Tensor, call, convert, place, state
from reference_impl._dtypes import DType, as_dtype
from reference_impl._ops import _device, _ns, defvjp

__all__ = [
    "clip_by_norm",
    "clip_by_value",
    "conv2d",
    "det",
    "diag",
    "diag_part",
    "elu",
    "expand_dims",
    "export_into",
    "eye",
    "floormod",
    "get_static_value",
    "inv",
    "is_finite",
    "is_inf",
    "is_nan",
    "linalg_matmul",
    "linalg_norm",
    "linspace",
    "log1p",
    "matrix_transpose",
    "normal",
    "recompute_grad",
    "reduce_min",
    "reduce_prod",
    "set_seed",
    "softmax_cross_entropy_with_logits",
    "softplus",
    "solve",
    "squeeze",
    "trace",
    "uniform",
]

_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def _op_error(op: str, message: str, name: str = "") -> errors.InvalidArgumentError:
    """An InvalidArgumentError worded as TensorFlow's eager kernels word theirs (``name``: the
    Python op name TensorFlow appends, where its wrapper passes one)."""
    return errors.InvalidArgumentError(
        None,
        None,
        f"{{{{function_node __wrapped__{op}_device_{_DEVICE}}}}} {message} [Op:{op}] name: {name}",
    )


# The dtypes each TensorFlow op has kernels for, in TensorFlow's order and with its signature:
# checked by _core.KernelTypes, which raises TensorFlow's own error text for any other dtype.
_FLOATS = ("half", "bfloat16", "float", "double")
_FLOATS_BF16_FIRST = ("bfloat16", "half", "float", "double")
_MATRIX_TYPES = ("double", "float", "half", "complex64", "complex128")
_ADJOINT_ATTR = "; attr=adjoint:bool,default=false"
_REDUCTION_TRAITS = "; attr=Tidx:type,default=DT_INT32,allowed=[DT_INT32, DT_INT64]"
_CONV2D_TRAITS = (
    "; attr=strides:list(int); attr=use_cudnn_on_gpu:bool,default=true; attr=padding:string,"
    'allowed=["SAME", "VALID", "EXPLICIT"]; attr=explicit_paddings:list(int),default=[]; '
    'attr=data_format:string,default="NHWC",allowed=["NHWC", "NCHW"]; '
    "attr=dilations:list(int),default=[1, 1, 1, 1]"
)
_cross_entropy_kernel = KernelTypes(
    "SoftmaxCrossEntropyWithLogits",
    _FLOATS,
    "features:T, labels:T -> loss:T, backprop:T",
)
_conv2d_kernel = KernelTypes(
    "Conv2D", (*_FLOATS, "int32"), "input:T, filter:T -> output:T", _CONV2D_TRAITS
)
_min_kernel = KernelTypes(
    "Min",
    (
        "float",
        "double",
        "int32",
        "uint8",
        "int16",
        "int8",
        "int64",
        "bfloat16",
        "uint16",
        "half",
        "uint32",
        "uint64",
        "qint8",
        "quint8",
        "qint32",
        "qint16",
        "quint16",
    ),
    "input:T, reduction_indices:Tidx -> output:T; attr=keep_dims:bool,default=false",
    _REDUCTION_TRAITS,
)


def _checked_call(primitive: Primitive, inputs: tuple[Tensor, ...], kwargs: Any = None) -> Tensor:
    """``call`` after the primitive's kernel dtype check (TensorFlow's error for other dtypes)."""
    primitive.kernel.check(inputs[0]._dtype)
    return call(primitive, inputs, kwargs, dtype=inputs[0]._dtype)


def _matrix_transpose(x: Tensor) -> Tensor:
    rank = np.ndim(x._value)
    return _ops.transpose(x, (*range(rank - 2), rank - 1, rank - 2))


def matrix_transpose(a: Any, name: str | None = None, conjugate: bool = False) -> Tensor:
    """``tf.linalg.matrix_transpose``: swap the last two dimensions (and conjugate if asked)."""
    x = _matrix_transpose(_ops._tensor(a))
    return _ops.conj(x) if conjugate else x


def _adjoint(x: Tensor) -> Tensor:
    return _ops.conj(_matrix_transpose(x))


def _expand_dims(x: Tensor, axis: int) -> Tensor:
    shape = list(np.shape(x._value))
    shape.insert(axis % (len(shape) + 1), 1)
    return _ops.reshape(x, tuple(shape))


# ---- elementwise ------------------------------------------------------------------------------

_softplus = Primitive(
    "softplus", _ops._quiet(lambda x: _ns(x).logaddexp(_ns(x).zeros_like(x), x)), tf_name="Softplus"
).kernels(_FLOATS, "features:T -> activations:T")
# d softplus(x) = sigmoid(x) (TensorFlow's SoftplusGrad); sigmoid has its own VJP for order two.
defvjp(_softplus, lambda g, ans, x: g * _ops.sigmoid(x))


def softplus(features: Any, name: str | None = None) -> Tensor:
    """``tf.nn.softplus``: log(exp(x) + 1), computed without overflow."""
    return _ops._unary(_softplus, features)


def _floormod_kernel(x: Any, y: Any) -> Any:
    xp = _ns(x)
    if dt.dtype_of_array(x).is_integer and bool(xp.any(y == 0)):
        raise ZeroDivisionError
    with np.errstate(all="ignore"):
        if not hasattr(xp, "fmod"):
            return xp.remainder(x, y)
        # TensorFlow's FloorMod: the truncated remainder, moved by y when the signs differ (so
        # -6.0 % 3.0 is -0.0, as TF prints it)
        truncated = xp.fmod(x, y)
        return xp.where((truncated != 0) & ((y < 0) != (truncated < 0)), truncated + y, truncated)


_floormod = Primitive("floormod", _floormod_kernel, tf_name="FloorMod", broadcasts=True).kernels(
    ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", *_FLOATS_BF16_FIRST),
    "x:T, y:T -> z:T",
)
# x mod y = x - floor(x / y) * y: d/dx = 1, d/dy = -floor(x / y) (TensorFlow's _FloorModGrad).
defvjp(
    _floormod,
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: g * _ops.negative(_ops.floor(_ops.divide(x, y))),
)


def floormod(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``tf.math.floormod`` and ``x % y``: the remainder with the sign of the divisor."""
    try:
        return _ops._binary(_floormod, x, y)
    except ZeroDivisionError:
        raise _op_error("FloorMod", "Integer division by zero") from None


def _elu_kernel(x: Any) -> Any:
    xp = _ns(x)
    with np.errstate(all="ignore"):
        return xp.where(x > 0, x, xp.expm1(x))


_elu = Primitive("elu", _elu_kernel, tf_name="Elu").kernels(_FLOATS, "features:T -> activations:T")
# d elu(x) = 1 for x > 0, exp(x) = elu(x) + 1 otherwise (TensorFlow's EluGrad, from the output).
defvjp(
    _elu,
    lambda g, ans, x: _ops.where(
        _ops.greater(x, _ops.zeros_like(x)), g, g * (ans + _ops.ones_like(ans))
    ),
)


def elu(features: Any, name: str | None = None) -> Tensor:
    """``tf.nn.elu``: x for x > 0, exp(x) - 1 otherwise."""
    return _ops._unary(_elu, features)


def _grouped(x: Any, axis: tuple[int, ...] | None) -> tuple[Any, Any]:
    """``x`` with the reduced axes moved last and flattened into one, and how to undo that."""
    xp = _ns(x)
    rank = x.ndim
    axes = tuple(range(rank)) if axis is None else tuple(a % rank for a in axis)
    kept = tuple(i for i in range(rank) if i not in axes)
    moved = xp.permute_dims(x, (*kept, *axes))
    group = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    flat = xp.reshape(moved, (*(x.shape[i] for i in kept), group))

    def ungroup(y: Any) -> Any:
        return xp.permute_dims(xp.reshape(y, moved.shape), tuple(np.argsort((*kept, *axes))))

    return flat, ungroup


def _exclusive_products(flat: Any) -> Any:
    """Along the last axis, each element's product of the others, without division (zeros
    are fine): exclusive cumulative products from both ends, multiplied."""
    xp = _ns(flat)
    ones = xp.ones((*flat.shape[:-1], 1), dtype=flat.dtype, device=_device(flat))
    before = xp.concat([ones, xp.cumulative_prod(flat[..., :-1], axis=-1)], axis=-1)
    reversed_after = xp.cumulative_prod(xp.flip(flat[..., 1:], axis=-1), axis=-1)
    after = xp.flip(xp.concat([ones, reversed_after], axis=-1), axis=-1)
    return before * after


def _others_product_kernel(x: Any, axis: tuple[int, ...] | None) -> Any:
    flat, ungroup = _grouped(x, axis)
    return ungroup(_exclusive_products(flat))


def _others_product_vjp_kernel(g: Any, x: Any, axis: tuple[int, ...] | None) -> Any:
    """out_j = sum over i != j of g_i * (product of the group without x_i and x_j)."""
    xp = _ns(x)
    flat, ungroup = _grouped(x, axis)
    flat_g, _ = _grouped(g, axis)
    n = flat.shape[-1]
    eye = xp.astype(xp.eye(n, device=_device(x)), x.dtype)
    rows = flat[..., None, :] * (1 - eye) + eye  # row i: the group with x_i replaced by 1
    pair = _exclusive_products(rows) * (1 - eye)  # [i, j]: product without x_i and x_j
    return ungroup(xp.sum(flat_g[..., :, None] * pair, axis=-2))


_prod = Primitive(
    "reduce_prod",
    lambda x, axis=None, keepdims=False: _ns(x).prod(
        x, axis=axis, keepdims=keepdims, dtype=x.dtype
    ),
    tf_name="Prod",
).kernels(
    (
        "float",
        "double",
        "int32",
        "uint8",
        "int16",
        "int8",
        "complex64",
        "int64",
        "qint8",
        "quint8",
        "qint32",
        "bfloat16",
        "qint16",
        "quint16",
        "uint16",
        "complex128",
        "half",
        "uint32",
        "uint64",
    ),
    "input:T, reduction_indices:Tidx -> output:T; attr=keep_dims:bool,default=false",
)
_prod.kernel.traits = _REDUCTION_TRAITS
_others_product = Primitive("others_product", _others_product_kernel, tf_name="Cumprod")
_others_product_vjp = Primitive(
    "others_product_grad", _others_product_vjp_kernel, tf_name="CumprodGrad"
)


def _prod_grad(
    g: Tensor, ans: Tensor, x: Tensor, axis: Any = None, keepdims: bool = False
) -> Tensor:
    others = call(_others_product, (x,), {"axis": axis}, dtype=x._dtype)
    return _ops._spread(g, x, axis, keepdims) * _ops.conj(others)


def _third_order(*_: Any, **__: Any) -> Tensor:
    raise NotImplementedError(
        "reference_impl has no third derivative of reduce_prod: the VJP of others_product_grad "
        "is not defined"
    )


defvjp(_prod, _prod_grad)
defvjp(
    _others_product,
    lambda g, ans, x, axis=None: call(_others_product_vjp, (g, x), {"axis": axis}, dtype=g._dtype),
)
defvjp(_others_product_vjp, _third_order, _third_order)


def reduce_prod(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """``tf.reduce_prod``: the product over ``axis`` (all axes by default)."""
    x = _ops._tensor(input_tensor)
    return _checked_call(_prod, (x,), {"axis": _ops._axes(axis), "keepdims": bool(keepdims)})


# ---- creation ---------------------------------------------------------------------------------


def linspace(start: Any, stop: Any, num: Any, name: str | None = None, axis: int = 0) -> Tensor:
    """``tf.linspace``: ``num`` evenly spaced values from ``start`` to ``stop`` (both included).

    Composed as TensorFlow's ``linspace_nd``: [start, start + k * delta ..., stop], so the end
    points are exact and the result is differentiable in ``start`` and ``stop``.
    """
    start, stop = _ops._binary_operands(start, stop, "LinSpace")
    if start._dtype.is_integer:  # TensorFlow computes integer end points in float64
        start, stop = _ops.cast(start, dt.float64), _ops.cast(stop, dt.float64)
    count = int(num._value) if isinstance(num, Tensor) else int(num)
    rank = np.ndim(start._value) + 1
    axis = axis % rank
    first, last = _expand_dims(start, axis), _expand_dims(stop, axis)
    delta = (last - first) / float(max(count - 1, 1))
    steps_shape = [1] * rank
    steps_shape[axis] = max(count - 2, 0)
    steps = np.arange(1, max(count - 1, 1), dtype=start._dtype._np).reshape(steps_shape)
    middle = first + Tensor(place(steps), start._dtype) * delta
    every = _ops.concat([first, middle, last], axis=axis)
    return _ops._slice_axis(every, 0, count, axis)


# ---- random numbers ---------------------------------------------------------------------------


class _RandomState:
    """The global seed and one generator per op seed, reset by ``set_seed``.

    TensorFlow's exact random streams (Philox) are not reproduced: the numbers differ from TF's,
    but after ``set_seed(s)`` the reference gives the same sequence on every run, and successive
    calls with one op seed continue one stream, as TensorFlow's eager kernels do.
    """

    def __init__(self) -> None:
        self.global_seed: int | None = None
        self.streams: dict[int | None, np.random.Generator] = {}

    def reset(self, seed: int | None) -> None:
        self.global_seed = seed
        self.streams = {}

    def generator(self, op_seed: Any) -> np.random.Generator:
        key = None if op_seed is None else int(op_seed)
        stream = self.streams.get(key)
        if stream is None:
            if self.global_seed is None and key is None:
                stream = np.random.default_rng()  # unseeded: nondeterministic, as TensorFlow
            else:
                stream = np.random.default_rng([self.global_seed or 87654321, key or 0])
            self.streams[key] = stream
        return stream


_random_state = _RandomState()


def set_seed(seed: int | None) -> None:
    """``tf.random.set_seed``: make later random ops repeat the same sequence (not TF's numbers)."""
    _random_state.reset(None if seed is None else int(seed))


_UNIFORM_DTYPES = tuple(  # bfloat16 is None where ml_dtypes is missing
    d
    for d in (dt.float16, dt.bfloat16, dt.float32, dt.float64, dt.int32, dt.int64)
    if d is not None
)


def _converted(name: str, value: Any, dtype: DType) -> Tensor:
    """``convert_to_tensor(value, dtype, name=name)``: TF's message starts with the name."""
    try:
        return convert(value, dtype)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _draws(rng_values: np.ndarray, dtype: DType) -> Tensor:
    return Tensor(place(np.asarray(rng_values).astype(dtype._np)), dtype)


def uniform(
    shape: Any,
    minval: Any = 0,
    maxval: Any = None,
    dtype: Any = dt.float32,
    seed: Any = None,
    name: str | None = None,
) -> Tensor:
    """``tf.random.uniform``: values in [minval, maxval); integer dtypes need ``maxval``.

    As TensorFlow composes it, a float result is ``u * (maxval - minval) + minval`` with ``u`` in
    [0, 1), so gradients flow to tensor bounds.
    """
    dtype = as_dtype(dtype)
    if dtype not in _UNIFORM_DTYPES:
        accepted = ", ".join(f"tf.{d.name}" for d in _UNIFORM_DTYPES)
        raise ValueError(
            f"Argument `dtype` got invalid value {dtype}. Accepted dtypes are ({accepted})."
        )
    if maxval is None:
        if dtype.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        maxval = 1
    size = _ops._shape_tuple(shape)
    low, high = _converted("min", minval, dtype), _converted("max", maxval, dtype)
    rng = _random_state.generator(seed)
    if dtype.is_integer:
        lo, hi = int(low.numpy()), int(high.numpy())
        if lo >= hi:
            raise _op_error("RandomUniformInt", f"Need minval < maxval, got {lo} >= {hi}")
        return _draws(rng.integers(lo, hi, size), dtype)
    unit = _draws(rng.random(size), dtype)
    if isinstance(minval, int) and minval == 0:
        return unit if isinstance(maxval, int) and maxval == 1 else unit * high
    return unit * (high - low) + low


def normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = dt.float32,
    seed: Any = None,
    name: str | None = None,
) -> Tensor:
    """``tf.random.normal``: ``z * stddev + mean`` with standard normal ``z``, as TensorFlow
    composes it (so gradients reach tensor ``mean`` and ``stddev``, the reparameterization)."""
    dtype = as_dtype(dtype)
    mean_tensor, stddev_tensor = (
        _converted("mean", mean, dtype),
        _converted("stddev", stddev, dtype),
    )
    z = _draws(_random_state.generator(seed).standard_normal(_ops._shape_tuple(shape)), dtype)
    return z * stddev_tensor + mean_tensor


# ---- more elementwise and shape ops (common in real programs) ---------------------------------


_CLASSIFY_KERNELS = {
    op: KernelTypes(op, _FLOATS_BF16_FIRST, "x:T -> y:bool")
    for op in ("IsNan", "IsInf", "IsFinite")
}


def _classify(x: Any, test: Callable[[Any], Any], op: str) -> Tensor:
    value = _ops._tensor(x)
    _CLASSIFY_KERNELS[op].check(value._dtype)
    return Tensor(test(value._value), dt.bool_)  # a bool result: never differentiable


def is_nan(x: Any, name: str | None = None) -> Tensor:
    """``tf.math.is_nan``: elementwise NaN test."""
    return _classify(x, lambda v: _ns(v).isnan(v), "IsNan")


def is_inf(x: Any, name: str | None = None) -> Tensor:
    """``tf.math.is_inf``: elementwise test for +-inf."""
    return _classify(x, lambda v: _ns(v).isinf(v), "IsInf")


def is_finite(x: Any, name: str | None = None) -> Tensor:
    """``tf.math.is_finite``: elementwise test for a finite value."""
    return _classify(x, lambda v: _ns(v).isfinite(v), "IsFinite")


_log1p = Primitive("log1p", _ops._quiet(lambda x: _ns(x).log1p(x)), tf_name="Log1p").kernels(
    (*_FLOATS_BF16_FIRST, "complex64", "complex128")
)
# d log(1 + x) = 1 / (1 + x) (TensorFlow's _Log1pGrad)
defvjp(_log1p, lambda g, ans, x: g * _ops.reciprocal(_ops.conj(x) + _ops.ones_like(x)))


def log1p(x: Any, name: str | None = None) -> Tensor:
    """``tf.math.log1p``: log(1 + x), accurate for small x."""
    return _ops._unary(_log1p, x)


def clip_by_value(
    t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None
) -> Tensor:
    """``tf.clip_by_value``: ``maximum(minimum(t, max), min)``, composed as TensorFlow does (so the
    gradient passes where ``t`` is inside the bounds, ties included)."""
    values = _ops._tensor(t)
    return _ops.maximum(_ops.minimum(values, clip_value_max), clip_value_min)


_min = Primitive(
    "reduce_min",
    lambda x, axis=None, keepdims=False: _ns(x).min(x, axis=axis, keepdims=keepdims),
    tf_name="Min",
)
defvjp(_min, _ops._max_grad)  # TensorFlow's _MinOrMaxGrad serves both: the chosen elements share g


def reduce_min(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """``tf.reduce_min``: the minimum over ``axis``; ties share the gradient (TensorFlow's _MinGrad)."""
    x = _ops._tensor(input_tensor)
    _min_kernel.check(x._dtype)
    return call(_min, (x,), {"axis": _ops._axes(axis), "keepdims": bool(keepdims)}, dtype=x._dtype)


def expand_dims(input: Any, axis: int, name: str | None = None) -> Tensor:  # noqa: A002
    """``tf.expand_dims``: a new axis of length 1 at ``axis``."""
    x = _ops._tensor(input)
    rank = np.ndim(x._value)
    if not -rank - 1 <= int(axis) <= rank:
        raise _op_error(
            "ExpandDims",
            f"Tried to expand dim index {int(axis)} for tensor with {rank} dimensions.",
        )
    return _expand_dims(x, int(axis))


def squeeze(input: Any, axis: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    """``tf.squeeze``: drop axes of length 1 (all of them, or those in ``axis``)."""
    x = _ops._tensor(input)
    shape = np.shape(x._value)
    rank = len(shape)
    if axis is None:
        dropped = {i for i, n in enumerate(shape) if n == 1}
    else:
        dropped = {int(a) % rank for a in np.atleast_1d(axis)}
        for a in sorted(dropped):
            if shape[a] != 1:
                raise _op_error(
                    "Squeeze",
                    f"Can not squeeze dim[{a}], expected a dimension of 1, got {shape[a]}",
                )
    return _ops.reshape(x, tuple(n for i, n in enumerate(shape) if i not in dropped))


# ---- utilities --------------------------------------------------------------------------------


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """``tf.clip_by_norm``: ``t * clip_norm / max(l2norm(t), clip_norm)``, as TensorFlow composes it.

    The norm is taken through a ``where`` so that an all-zero ``t`` has a zero (not NaN) gradient.
    """
    values = _ops._tensor(t)
    l2sum = _ops.reduce_sum(values * values, axes, keepdims=True)
    positive = _ops.greater(l2sum, _ops.zeros_like(l2sum))
    l2sum_safe = _ops.where(positive, l2sum, _ops.ones_like(l2sum))
    l2norm = _ops.where(positive, _ops.sqrt(l2sum_safe), l2sum)
    if np.isscalar(clip_norm):  # as TensorFlow: a negative Python bound means 0
        clip: Any = max(clip_norm, 0)
    else:
        clip = _ops.cast(_ops.maximum(clip_norm, 0), values._dtype)
    return _ops.identity(values * clip / _ops.maximum(l2norm, clip))


def get_static_value(tensor: Any, partial: bool = False) -> Any:
    """``tf.get_static_value`` in eager mode: a tensor's NumPy value, ``None`` for a variable
    (its value can change), and any other value unchanged."""
    if type(tensor) is Tensor:
        return tensor.numpy()
    if hasattr(tensor, "_as_tensor"):  # a Variable: not a constant
        return None
    return tensor


@contextlib.contextmanager
def _tapes_paused() -> Iterator[None]:
    """No tape records inside the block (TensorFlow's ``record.stop_recording``); custom_gradient's
    variable watchers still see the variables read."""
    paused, state.tapes = state.tapes, []
    try:
        yield
    finally:
        state.tapes = paused


def recompute_grad(f: Callable[..., Any]) -> Callable[..., Any]:
    """``tf.recompute_grad``: ``f`` whose intermediates are recomputed during backprop.

    Built as TensorFlow builds it: a custom gradient whose forward runs with tapes paused and whose
    backward reruns ``f`` under a fresh tape. That backward is itself a custom gradient that cannot
    be differentiated again once it has variables, so, as in TensorFlow, a second derivative
    through a block that reads variables raises NotImplementedError.
    """
    from reference_impl._custom_gradient import custom_gradient
    from reference_impl._gradient_tape import GradientTape

    def recomputed(*args: Any, **kwargs: Any) -> Any:
        read: dict[int, Any] = {}
        state.variable_watchers.append(read)
        try:
            with _tapes_paused():
                result = f(*args, **kwargs)
        finally:
            state.variable_watchers.remove(read)
        for variable in read.values():
            # TensorFlow reads each variable again as an input of the recorded op, after the
            # forward: that read is what makes the active tapes watch it.
            variable.read_value()

        def grad_fn(*upstream: Any, variables: Any = None) -> Any:
            @custom_gradient
            def backward(*dresult: Any) -> Any:
                with GradientTape() as tape:
                    inputs = [_ops.identity(a) for a in args]
                    tape.watch(inputs)
                    if variables:
                        tape.watch(variables)
                    again = f(*inputs, **kwargs)
                grads = tape.gradient(
                    again,
                    [*inputs, *(variables or [])],
                    output_gradients=list(dresult),
                    unconnected_gradients="zero",
                )

                def transpose(*_: Any, **__: Any) -> Any:
                    raise NotImplementedError(
                        f"recompute_grad tried to transpose grad of {f.__name__}. Consider not "
                        "using recompute_grad in forward modeautodiff"  # TensorFlow's wording
                    )

                return (grads[: len(inputs)], grads[len(inputs) :]), transpose

            return backward(*upstream)

        return result, grad_fn

    return functools.wraps(f)(custom_gradient(recomputed))


def softmax_cross_entropy_with_logits(
    labels: Any, logits: Any, axis: int = -1, name: str | None = None
) -> Tensor:
    """``tf.nn.softmax_cross_entropy_with_logits``: -sum(labels * log_softmax(logits)) on ``axis``.

    Differentiable in both arguments, as in TensorFlow 2 (gradients flow into the labels too).
    """
    logits = _ops._tensor(logits)
    _cross_entropy_kernel.check(logits._dtype)  # composed here; one op in TensorFlow
    labels = _ops._like(labels, logits)
    try:
        np.broadcast_shapes(np.shape(logits._value), np.shape(labels._value))
    except ValueError:
        sizes = [",".join(str(n) for n in np.shape(t._value)) for t in (logits, labels)]
        raise _op_error(
            "SoftmaxCrossEntropyWithLogits",
            f"logits and labels must be broadcastable: logits_size=[{sizes[0]}] "
            f"labels_size=[{sizes[1]}]",
        ) from None
    shifted = logits - _ops.stop_gradient(_ops.reduce_max(logits, axis=axis, keepdims=True))
    log_softmax = shifted - _ops.log(_ops.reduce_sum(_ops.exp(shifted), axis=axis, keepdims=True))
    return _ops.negative(_ops.reduce_sum(labels * log_softmax, axis=axis))


# ---- linear algebra ---------------------------------------------------------------------------


def linalg_matmul(
    a: Any,
    b: Any,
    transpose_a: bool = False,
    transpose_b: bool = False,
    adjoint_a: bool = False,
    adjoint_b: bool = False,
    a_is_sparse: bool = False,
    b_is_sparse: bool = False,
    output_type: Any = None,
    name: str | None = None,
) -> Tensor:
    """``tf.linalg.matmul``: ``tf.matmul`` with TensorFlow's ``adjoint_a``/``adjoint_b`` too."""
    for side, transposed, adjointed in (
        ("a", transpose_a, adjoint_a),
        ("b", transpose_b, adjoint_b),
    ):
        if transposed and adjointed:
            raise ValueError(
                f"Only one of `transpose_{side}` and `adjoint_{side}` can be True. Received "
                f"`transpose_{side}`={transposed}, `adjoint_{side}`={adjointed}."
            )
    if adjoint_a:
        a, transpose_a = _ops.conj(_ops._tensor(a)), True
    if adjoint_b:
        b, transpose_b = _ops.conj(_ops._tensor(b)), True
    return _ops.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)


def _square_matrices(x: Tensor, op: str) -> None:
    shape = np.shape(x._value)
    if len(shape) < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {len(shape)} for '{op}'")
    if shape[-1] != shape[-2]:
        raise _op_error(op, "Input matrix must be square.")


def _inv_kernel(x: Any) -> Any:
    try:
        return _ns(x).linalg.inv(x)
    except np.linalg.LinAlgError:
        raise _op_error("MatrixInverse", "Input is not invertible.") from None


_inv = Primitive("matrix_inverse", _inv_kernel, tf_name="MatrixInverse").kernels(
    _MATRIX_TYPES, "input:T -> output:T" + _ADJOINT_ATTR
)
# d(A^-1) = -A^-1 dA A^-1, so the VJP is -A^-H g A^-H (TensorFlow's _MatrixInverseGrad).
defvjp(
    _inv,
    lambda g, ans, x: _ops.negative(
        _ops.matmul(
            _ops.conj(ans), _ops.matmul(g, _ops.conj(ans), transpose_b=True), transpose_a=True
        )
    ),
)


def inv(input: Any, adjoint: bool = False, name: str | None = None) -> Tensor:  # noqa: A002
    """``tf.linalg.inv``: the inverse of each square matrix in the last two dimensions."""
    x = _ops._tensor(input)
    _inv.kernel.check(x._dtype)
    _square_matrices(x, "MatrixInverse")
    if adjoint:
        x = _adjoint(x)
    return call(_inv, (x,), dtype=x._dtype)


_det = Primitive(
    "matrix_determinant", lambda x: _ns(x).linalg.det(x), tf_name="MatrixDeterminant"
).kernels(("half", "float", "double", "complex64", "complex128"), "input:T -> output:T")


def _det_grad(g: Tensor, ans: Tensor, x: Tensor) -> Tensor:
    # d det(A) = det(A) tr(A^-1 dA), so the VJP is g det(A) A^-H (TensorFlow's _MatrixDeterminantGrad)
    multipliers = _ops.reshape(g * ans, (*np.shape(ans._value), 1, 1))
    return multipliers * inv(x, adjoint=True)


defvjp(_det, _det_grad)


def det(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """``tf.linalg.det``: the determinant of each square matrix in the last two dimensions."""
    x = _ops._tensor(input)
    _det.kernel.check(x._dtype)
    _square_matrices(x, "MatrixDeterminant")
    return call(_det, (x,), dtype=x._dtype)


def _solve_kernel(a: Any, b: Any) -> Any:
    try:
        return _ns(a).linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise _op_error("MatrixSolve", "Input matrix is not invertible.") from None


_solve = Primitive("matrix_solve", _solve_kernel, tf_name="MatrixSolve").kernels(
    _MATRIX_TYPES, "matrix:T, rhs:T -> output:T" + _ADJOINT_ATTR
)


def _solve_grad_rhs(g: Tensor, ans: Tensor, a: Tensor, b: Tensor) -> Tensor:
    # X = A^-1 B: dB = A^-H g (TensorFlow's _MatrixSolveGrad)
    return solve(a, g, adjoint=True)


def _solve_grad_matrix(g: Tensor, ans: Tensor, a: Tensor, b: Tensor) -> Tensor:
    # dA = -(A^-H g) X^H
    return _ops.negative(_ops.matmul(solve(a, g, adjoint=True), _adjoint(ans)))


defvjp(_solve, _solve_grad_matrix, _solve_grad_rhs)


def solve(matrix: Any, rhs: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    """``tf.linalg.solve``: X with A X = B (A^H X = B with ``adjoint``), batched over leading axes."""
    a, b = _ops._binary_operands(matrix, rhs, "MatrixSolve")
    _solve.kernel.check(a._dtype)
    _square_matrices(a, "MatrixSolve")
    if np.ndim(a._value) != np.ndim(b._value):
        raise _op_error("MatrixSolve", "All input tensors must have the same rank.")
    if adjoint:
        a = _adjoint(a)
    return call(_solve, (a, b), dtype=a._dtype)


def eye(
    num_rows: int,
    num_columns: int | None = None,
    batch_shape: Any = None,
    dtype: Any = dt.float32,
    name: str | None = None,
) -> Tensor:
    """``tf.eye``: identity matrices (ones on the main diagonal), optionally batched."""
    dtype = as_dtype(dtype)
    matrix = np.eye(
        int(num_rows), None if num_columns is None else int(num_columns), dtype=dtype._np
    )
    if batch_shape is not None:
        matrix = np.broadcast_to(matrix, (*(int(n) for n in batch_shape), *matrix.shape)).copy()
    return Tensor(place(matrix), dtype)


def _diag_part_kernel(x: Any) -> Any:
    return _ns(x).linalg.diagonal(x)


def _diag_embed_kernel(d: Any, shape: tuple[int, ...]) -> Any:
    """``d`` (..., k) on the main diagonal of zeros of ``shape`` (..., m, n), k = min(m, n)."""
    xp = _ns(d)
    out = xp.zeros(shape, dtype=d.dtype, device=_device(d))
    for i in range(d.shape[-1]):
        out[..., i, i] = d[..., i]
    return out


# diag_part and its adjoint (the diagonal placed into zeros) are a closed pair of linear maps.
_diag_part = Primitive("matrix_diag_part", _diag_part_kernel, tf_name="MatrixDiagPartV3")
_diag_embed = Primitive("matrix_diag", _diag_embed_kernel, tf_name="MatrixDiagV3")
defvjp(
    _diag_part,
    lambda g, ans, x: call(_diag_embed, (g,), {"shape": np.shape(x._value)}, dtype=g._dtype),
)
defvjp(_diag_embed, lambda g, ans, d, shape: call(_diag_part, (g,), dtype=g._dtype))


def diag_part(input: Any, name: str | None = None, k: int = 0) -> Tensor:  # noqa: A002
    """``tf.linalg.diag_part``: the main diagonal of each matrix in the last two dimensions."""
    x = _ops._tensor(input)
    if np.ndim(x._value) < 2:
        raise _op_error(
            "MatrixDiagPartV3",
            f"input must be at least 2-dim, received shape: {list(np.shape(x._value))}",
            "diag_part",
        )
    if k != 0:
        raise NotImplementedError("reference_impl's tf.linalg.diag_part supports only k=0")
    return call(_diag_part, (x,), dtype=x._dtype)


def diag(diagonal: Any, name: str | None = None, k: int = 0) -> Tensor:
    """``tf.linalg.diag``: square matrices with ``diagonal`` (..., n) on the main diagonal."""
    d = _ops._tensor(diagonal)
    if k != 0:
        raise NotImplementedError("reference_impl's tf.linalg.diag supports only k=0")
    n = np.shape(d._value)[-1]
    return call(_diag_embed, (d,), {"shape": (*np.shape(d._value), n)}, dtype=d._dtype)


def trace(x: Any, name: str | None = None) -> Tensor:
    """``tf.linalg.trace``: the sum of each matrix's main diagonal."""
    return _ops.reduce_sum(diag_part(x), axis=-1)


_VECTOR_ORDERS = ("euclidean", 1, 2, np.inf)
_MATRIX_ORDERS = ("euclidean", "fro", 1, 2, np.inf)


def _norm_axes(axis: Any) -> tuple[tuple[int, ...] | None, bool]:
    """``axis`` as a tuple (or None) and whether it names a matrix norm, checked as TF does."""
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        first, second = (int(a) for a in axis)
        if first == second:
            raise ValueError(
                f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {tuple(axis)}"
            )
        return (first, second), True
    if axis is not None and not isinstance(axis, (int, np.integer)):
        raise ValueError(
            f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}"
        )
    return (None if axis is None else (int(axis),)), False


def _valid_order(ord: Any, matrix: bool) -> bool:  # noqa: A002
    if isinstance(ord, str):
        return ord == "euclidean" or (matrix and ord == "fro")
    if matrix:
        return ord in (1, 2, np.inf)
    return bool(np.isreal(ord)) and ord > 0


def linalg_norm(
    tensor: Any,
    ord: Any = "euclidean",  # noqa: A002
    axis: Any = None,
    keepdims: bool | None = None,
    name: str | None = None,
) -> Tensor:
    """``tf.norm`` / ``tf.linalg.norm``: vector p-norms and the matrix 1, inf and Frobenius norms.

    Composed as TensorFlow composes it; the Euclidean norm of a complex tensor keeps the complex
    dtype (sqrt of sum(x * conj(x))), exactly as TensorFlow returns it.
    """
    x = _ops._tensor(tensor)
    axes, matrix = _norm_axes(axis)
    if not _valid_order(ord, matrix):
        if matrix:
            raise ValueError(
                f"'ord' must be a supported matrix norm in {list(_MATRIX_ORDERS)}, got {ord}"
            )
        raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
    if matrix and not isinstance(ord, str) and ord == 2:
        raise NotImplementedError(
            "reference_impl's tf.norm has no matrix 2-norm (it needs an SVD); use 'fro', 1 or inf"
        )
    if isinstance(ord, str) or ord == 2:
        result = _ops.sqrt(_ops.reduce_sum(x * _ops.conj(x), axes, keepdims=True))
    else:
        result = _ops.abs(x)
        if ord == 1:
            result = _ops.reduce_sum(result, None if axes is None else axes[0], keepdims=True)
            if matrix:
                result = _ops.reduce_max(result, axes[-1], keepdims=True)
        elif ord == np.inf:
            if matrix:
                result = _ops.reduce_sum(result, axes[1], keepdims=True)
            result = _ops.reduce_max(result, None if axes is None else axes[0], keepdims=True)
        else:
            power = _ops.reduce_sum(_ops.pow(result, float(ord)), axes, keepdims=True)
            result = _ops.pow(power, 1.0 / float(ord))
    if keepdims:
        return result
    rank = np.ndim(x._value)
    dropped = set(range(rank)) if axes is None else {a % rank for a in axes}
    return _ops.reshape(
        result, tuple(n for i, n in enumerate(np.shape(result._value)) if i not in dropped)
    )


# ---- convolution ------------------------------------------------------------------------------


def _patches_kernel(
    x: Any,
    window: tuple[int, int],
    strides: tuple[int, int],
    dilations: tuple[int, int],
    pads: tuple[tuple[int, int], tuple[int, int]],
    out_size: tuple[int, int],
) -> Any:
    """The (padded) input's receptive fields: (N, OH, OW, KH * KW * C), rows in filter order."""
    xp = _ns(x)
    n, h, w, c = x.shape
    (top, bottom), (left, right) = pads
    padded = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=x.dtype, device=_device(x))
    padded[:, top : top + h, left : left + w, :] = x
    (oh, ow), (sh, sw), (dh, dw) = out_size, strides, dilations
    fields = [
        padded[
            :, i * dh : i * dh + (oh - 1) * sh + 1 : sh, j * dw : j * dw + (ow - 1) * sw + 1 : sw, :
        ]
        for i in range(window[0])
        for j in range(window[1])
    ]
    return xp.reshape(xp.stack(fields, axis=3), (n, out_size[0], out_size[1], -1))


def _unpatch_kernel(
    g: Any,
    window: tuple[int, int],
    strides: tuple[int, int],
    dilations: tuple[int, int],
    pads: tuple[tuple[int, int], tuple[int, int]],
    out_size: tuple[int, int],
    shape: tuple[int, int, int, int],
) -> Any:
    """The adjoint of ``_patches_kernel``: each field's values summed back where they came from."""
    xp = _ns(g)
    n, h, w, c = shape
    (top, bottom), (left, right) = pads
    (oh, ow), (sh, sw), (dh, dw) = out_size, strides, dilations
    padded = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=g.dtype, device=_device(g))
    fields = xp.reshape(g, (n, oh, ow, window[0] * window[1], c))
    for i in range(window[0]):
        for j in range(window[1]):
            rows = slice(i * dh, i * dh + (oh - 1) * sh + 1, sh)
            cols = slice(j * dw, j * dw + (ow - 1) * sw + 1, sw)
            padded[:, rows, cols, :] = (
                padded[:, rows, cols, :] + fields[:, :, :, i * window[1] + j, :]
            )
    return padded[:, top : top + h, left : left + w, :]


# Patch extraction and its adjoint are a closed pair of linear maps, so conv2d (patches @ filter)
# is differentiable to any order in both the input and the filter.
_patches = Primitive("extract_patches", _patches_kernel, tf_name="ExtractImagePatches")
_unpatch = Primitive("extract_patches_grad", _unpatch_kernel, tf_name="Conv2DBackpropInput")
defvjp(
    _patches,
    lambda g, ans, x, **geometry: call(
        _unpatch, (g,), {**geometry, "shape": np.shape(x._value)}, dtype=g._dtype
    ),
)
defvjp(
    _unpatch,
    lambda g, ans, x, shape, **geometry: call(_patches, (g,), geometry, dtype=g._dtype),
)


def _pair(value: Any, name: str) -> tuple[int, int]:
    """A stride or dilation given as TensorFlow accepts it (an int, 2 values, or 4 in NHWC)."""
    values = [int(v) for v in np.atleast_1d(value)]
    if len(values) == 1:
        return values[0], values[0]
    if len(values) == 2:
        return values[0], values[1]
    if len(values) != 4:
        raise ValueError(
            f"{name} should be of length 1, 2 or 4. Received: {name}={value} of length {len(values)}"
        )
    if values[0] == values[3] == 1:
        return values[1], values[2]
    raise ValueError(
        f"reference_impl's conv2d supports {name} of 1 in the batch and channel dimensions "
        f"(NHWC) only, got {value!r}"
    )


def _same_padding(size: int, window: int, stride: int) -> tuple[int, tuple[int, int]]:
    """TensorFlow's SAME: ceil(size / stride) outputs; the odd pixel of padding goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return out, (total // 2, total - total // 2)


def _conv_geometry(
    image: tuple[int, int], window: tuple[int, int], strides: tuple[int, int], padding: Any
) -> tuple[tuple[int, int], tuple[tuple[int, int], tuple[int, int]]]:
    """Output size and (top, bottom), (left, right) padding for ``padding`` as TF reads it."""
    if padding == "SAME":  # case-sensitive, as TensorFlow's attribute check
        (oh, top), (ow, left) = (_same_padding(image[d], window[d], strides[d]) for d in (0, 1))
        return (oh, ow), (top, left)
    if padding == "VALID":
        pads = ((0, 0), (0, 0))
    elif not isinstance(padding, str) and np.shape(padding) == (4, 2):
        explicit = [[int(v) for v in row] for row in padding]
        if explicit[0] != [0, 0] or explicit[3] != [0, 0]:
            raise ValueError(
                "Explicit padding of the batch and channel dimensions must be 0 (NHWC)"
            )
        pads = (tuple(explicit[1]), tuple(explicit[2]))
    elif isinstance(padding, str):  # TensorFlow's attribute check
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Value for attr 'padding' of \"{padding}\" is not in the list of allowed values: "
            '"SAME", "VALID", "EXPLICIT" [Op:Conv2D] name: ',
        )
    else:
        raise ValueError(
            f"padding must be 'SAME', 'VALID', or explicit [[0, 0], [top, bottom], [left, right], "
            f"[0, 0]], got {padding!r}"
        )
    out = tuple((image[d] + sum(pads[d]) - window[d]) // strides[d] + 1 for d in (0, 1))
    if min(out) <= 0:
        raise _op_error(
            "Conv2D",
            f"Computed output size would be negative: {min(out) - 1} [input_size: "
            f"{image}, effective_filter_size: {window}, stride: {strides}]",
        )
    return out, pads


def conv2d(
    input: Any,  # noqa: A002 - TensorFlow's name
    filters: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """``tf.nn.conv2d`` (NHWC): each output pixel is its receptive field times the filter.

    ``padding`` is 'SAME', 'VALID' or explicit, as TensorFlow defines them; ``strides`` and
    ``dilations`` are ints, pairs, or NHWC 4-lists.
    """
    if data_format != "NHWC":
        raise ValueError(
            f"reference_impl's conv2d supports data_format='NHWC' only, got {data_format!r}"
        )
    x, f = _ops._binary_operands(input, filters, "Conv2D")
    _conv2d_kernel.check(x._dtype)
    if np.ndim(x._value) != 4 or np.ndim(f._value) != 4:
        raise ValueError(
            f"conv2d needs a 4-D input (N, H, W, C) and a 4-D filter (KH, KW, C, O), got shapes "
            f"{list(np.shape(x._value))} and {list(np.shape(f._value))}"
        )
    n, h, w, c = np.shape(x._value)
    kh, kw, filter_c, out_c = np.shape(f._value)
    if filter_c != c:
        raise _op_error(
            "Conv2D",
            f"input depth must be evenly divisible by filter depth: {c} vs {filter_c}",
        )
    step, dilation = (
        _pair(strides, "strides"),
        _pair(1 if dilations is None else dilations, "dilations"),
    )
    window = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    out_size, pads = _conv_geometry((h, w), window, step, padding)
    geometry = {
        "window": (kh, kw),
        "strides": step,
        "dilations": dilation,
        "pads": pads,
        "out_size": out_size,
    }
    fields = call(_patches, (x,), geometry, dtype=x._dtype)
    flat = _ops.reshape(fields, (n * out_size[0] * out_size[1], kh * kw * c))
    product = _ops.matmul(flat, _ops.reshape(f, (kh * kw * c, out_c)))
    return _ops.reshape(product, (n, out_size[0], out_size[1], out_c))


# ---- export -----------------------------------------------------------------------------------


def export_into(package: types.ModuleType) -> None:
    """Add these names to ``reference_impl`` and its ``math``, ``nn``, ``random`` submodules, and
    create ``linalg``, where TensorFlow has them."""
    top = {
        "linspace": linspace,
        "clip_by_norm": clip_by_norm,
        "get_static_value": get_static_value,
        "recompute_grad": recompute_grad,
        "reduce_prod": reduce_prod,
        "eye": eye,
        "clip_by_value": clip_by_value,
        "reduce_min": reduce_min,
        "expand_dims": expand_dims,
        "squeeze": squeeze,
    }
    package.__dict__.update(top)
    package.math.__dict__.update(
        softplus=softplus,
        floormod=floormod,
        mod=floormod,
        reduce_prod=reduce_prod,
        reduce_min=reduce_min,
        is_nan=is_nan,
        is_inf=is_inf,
        is_finite=is_finite,
        log1p=log1p,
    )
    package.nn.__dict__.update(
        softplus=softplus,
        softmax_cross_entropy_with_logits=softmax_cross_entropy_with_logits,
        conv2d=conv2d,
        elu=elu,
    )
    package.random.__dict__.update(set_seed=set_seed, normal=normal, uniform=uniform)
    package.linalg = types.ModuleType(f"{package.__name__}.linalg")
    package.linalg.__dict__.update(
        matmul=linalg_matmul,
        inv=inv,
        det=det,
        solve=solve,
        eye=eye,
        diag=diag,
        diag_part=diag_part,
        trace=trace,
        norm=linalg_norm,
        matrix_transpose=matrix_transpose,
    )
    package.__all__ = sorted({*package.__all__, *top, "linalg"})
