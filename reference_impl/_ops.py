"""Primitives, their vector-Jacobian products, and the public op functions.

Every primitive is registered with one VJP rule per input (HIPS autograd's ``defvjp`` shape):
``rule(g, ans, *inputs, **kwargs)`` returns the gradient for that input, or ``None`` for "no
gradient". Rules are written with the ops of this module, so a tape that records while another
tape computes its gradient records the backward pass too: that is how nested tapes give higher
derivatives. Broadcasting is undone once, centrally (``_core.unbroadcast``), for primitives
registered with ``broadcasts=True``. Rules follow TensorFlow's ``math_grad.py`` so that special
values (kinks, zeros, infinities) come out the same.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from reference_impl import _dtypes as dt
from reference_impl import errors
from reference_impl._core import IndexedSlices, Primitive, Tensor, call, convert, state, to_array
from reference_impl._dtypes import DType, as_dtype

_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}
_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def _quiet(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a NumPy kernel without floating-point warnings (TensorFlow's kernels emit none)."""

    def kernel(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return kernel


def defvjp(primitive: Primitive, *rules: Callable[..., Any] | None) -> Primitive:
    primitive.rules = rules
    return primitive


# ---- operand conversion -----------------------------------------------------------------------


def _tensor(value: Any) -> Tensor:
    return value if type(value) is Tensor else convert(value)


_scalar_constants: dict[tuple[type, Any, DType], Tensor] = {}


def _like(value: Any, dtype: DType) -> Tensor:
    """``value`` as a tensor of ``dtype`` when it is a Python/NumPy value (TF's operand rule).

    Python scalars in arithmetic (``y * 1.01``) are converted once and cached: such a constant
    is never watched (no one else holds it), so sharing it between ops is safe.
    """
    if type(value) is Tensor:
        return value
    if hasattr(value, "_as_tensor"):
        return value._as_tensor()
    if isinstance(value, (bool, int, float, complex)):
        key = (type(value), value, dtype)
        cached = _scalar_constants.get(key)
        if cached is None:
            array, _ = to_array(value, dtype)
            if len(_scalar_constants) > 4096:
                _scalar_constants.clear()
            cached = _scalar_constants[key] = Tensor(array[()], dtype)
        return cached
    return convert(value)


def _binary_operands(x: Any, y: Any, op: str) -> tuple[Tensor, Tensor]:
    if type(x) is not Tensor:
        x = _like(x, y._dtype) if type(y) is Tensor else _tensor(x)
    if type(y) is not Tensor:
        y = _like(y, x._dtype)
    if x._dtype is not y._dtype:
        expected = _TF_TYPE_NAMES.get(x._dtype.name, x._dtype.name)
        got = _TF_TYPE_NAMES.get(y._dtype.name, y._dtype.name)
        raise errors.InvalidArgumentError(
            None, None,
            f"cannot compute {op} as input #1(zero-based) was expected to be a {expected} tensor "
            f"but is a {got} tensor [Op:{op}] name: ",
        )
    return x, y


def _incompatible(op: str, x: Tensor, y: Tensor) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(
        None, None,
        f"{{{{function_node __wrapped__{op}_device_{_DEVICE}}}}} Incompatible shapes: "
        f"{list(np.shape(x._value))} vs. {list(np.shape(y._value))} [Op:{op}] name: ",
    )


def _binary(primitive: Primitive, x: Any, y: Any) -> Tensor:
    if type(x) is not Tensor or type(y) is not Tensor or x._dtype is not y._dtype:
        x, y = _binary_operands(x, y, primitive.tf_name)
    try:
        return call(primitive, (x, y), dtype=x._dtype)
    except ValueError as error:
        if "broadcast" in str(error):
            raise _incompatible(primitive.tf_name, x, y) from None
        raise


def _unary(primitive: Primitive, x: Any) -> Tensor:
    x = _tensor(x)
    return call(primitive, (x,), dtype=x._dtype)


# ---- primitives: binary arithmetic ------------------------------------------------------------

# Python's operators dispatch to the same NumPy kernels, minus the ufunc call overhead on scalars.
_add = Primitive("add", operator.add, tf_name="AddV2", broadcasts=True)
_sub = Primitive("subtract", operator.sub, tf_name="Sub", broadcasts=True)
_mul = Primitive("multiply", operator.mul, tf_name="Mul", broadcasts=True)
_div = Primitive("divide", _quiet(np.true_divide), tf_name="RealDiv", broadcasts=True)
_pow = Primitive("pow", _quiet(np.power), tf_name="Pow", broadcasts=True)
_maximum = Primitive("maximum", np.maximum, tf_name="Maximum", broadcasts=True)
_minimum = Primitive("minimum", np.minimum, tf_name="Minimum", broadcasts=True)


def _pow_grad_exponent(g: Tensor, ans: Tensor, x: Tensor, y: Tensor) -> Tensor:
    # d(x**y)/dy = x**y * log(x), defined as 0 where x <= 0 (TensorFlow's _PowGrad).
    if x._dtype.is_complex:
        return g * conj(ans * log(x))
    positive = greater(x, zeros_like(x))
    safe_log = where(positive, log(where(positive, x, ones_like(x))), zeros_like(x))
    return g * ans * safe_log


defvjp(_add, lambda g, ans, x, y: g, lambda g, ans, x, y: g)
defvjp(_sub, lambda g, ans, x, y: g, lambda g, ans, x, y: negative(g))
defvjp(_mul, lambda g, ans, x, y: multiply(g, conj(y)), lambda g, ans, x, y: multiply(conj(x), g))
defvjp(_div, lambda g, ans, x, y: divide(g, conj(y)),
       lambda g, ans, x, y: g * conj(divide(divide(negative(x), y), y)))
defvjp(_pow, lambda g, ans, x, y: g * conj(y * pow(x, y - 1)), _pow_grad_exponent)
defvjp(_maximum, lambda g, ans, x, y: where(greater_equal(x, y), g, zeros_like(g)),
       lambda g, ans, x, y: where(greater_equal(x, y), zeros_like(g), g))
defvjp(_minimum, lambda g, ans, x, y: where(less_equal(x, y), g, zeros_like(g)),
       lambda g, ans, x, y: where(less_equal(x, y), zeros_like(g), g))

# ---- primitives: unary elementwise ------------------------------------------------------------

_neg = Primitive("negative", operator.neg, tf_name="Neg")
_square = Primitive("square", np.square, tf_name="Square")
_sqrt = Primitive("sqrt", _quiet(np.sqrt), tf_name="Sqrt")
_exp = Primitive("exp", _quiet(np.exp), tf_name="Exp")
_log = Primitive("log", _quiet(np.log), tf_name="Log")
_sin = Primitive("sin", np.sin, tf_name="Sin")
_cos = Primitive("cos", np.cos, tf_name="Cos")
_tanh = Primitive("tanh", np.tanh, tf_name="Tanh")
_sigmoid = Primitive("sigmoid", _quiet(lambda x: 1 / (1 + np.exp(-x))), tf_name="Sigmoid")
_relu = Primitive("relu", lambda x: np.maximum(x, 0).astype(x.dtype, copy=False), tf_name="Relu")
_abs = Primitive("abs", np.abs, tf_name="Abs")
_conj = Primitive("conj", np.conj, tf_name="Conj")
_identity = Primitive("identity", lambda x: x, tf_name="Identity")


def _sqrt_grad_kernel(y: Any, dy: Any) -> Any:
    # TensorFlow's SqrtGrad: 0 where the upstream gradient is 0, even at y == 0 (no 0 * inf).
    with np.errstate(all="ignore"):
        return np.where(dy == 0, np.zeros_like(dy), dy * 0.5 / np.conj(y)).astype(dy.dtype, copy=False)


_sqrt_grad = Primitive("sqrt_grad", _sqrt_grad_kernel, tf_name="SqrtGrad")
defvjp(_sqrt_grad,
       lambda g, ans, y, dy: negative(g) * conj(ans / y),
       lambda g, ans, y, dy: g * conj(0.5 / y))


def _abs_grad(g: Tensor, ans: Tensor, x: Tensor) -> Tensor:
    if x._dtype.is_complex:  # d|z| = z/|z| (TensorFlow's _ComplexAbsGrad, 0 at z == 0)
        ratio = where(equal(ans, zeros_like(ans)), zeros_like(x), x / cast(ans, x._dtype))
        return cast(g, x._dtype) * ratio
    return g * sign(x)


defvjp(_neg, lambda g, ans, x: negative(g))
defvjp(_square, lambda g, ans, x: multiply(g, 2.0 * conj(x)))
defvjp(_sqrt, lambda g, ans, x: _call_sqrt_grad(ans, g))
defvjp(_exp, lambda g, ans, x: g * conj(ans))
defvjp(_log, lambda g, ans, x: g * reciprocal(conj(x)))
defvjp(_sin, lambda g, ans, x: g * conj(cos(x)))
defvjp(_cos, lambda g, ans, x: negative(g) * conj(sin(x)))
defvjp(_tanh, lambda g, ans, x: g * conj(1.0 - ans * ans))
defvjp(_sigmoid, lambda g, ans, x: g * conj(ans * (1.0 - ans)))
defvjp(_relu, lambda g, ans, x: where(greater(x, zeros_like(x)), g, zeros_like(g)))
defvjp(_abs, _abs_grad)
defvjp(_conj, lambda g, ans, x: conj(g))
defvjp(_identity, lambda g, ans, x: g)


def _call_sqrt_grad(y: Tensor, dy: Tensor) -> Tensor:
    return call(_sqrt_grad, (y, dy), dtype=dy._dtype)


# Piecewise-constant ops: round/floor/ceil have no gradient (None); sign's gradient is zeros.
_floor = defvjp(Primitive("floor", np.floor, tf_name="Floor"), None)
_ceil = defvjp(Primitive("ceil", np.ceil, tf_name="Ceil"), None)
_round = defvjp(Primitive("round", np.round, tf_name="Round"), None)
_sign = defvjp(Primitive("sign", np.sign, tf_name="Sign"), lambda g, ans, x: zeros_like(x))

# ---- complex parts ----------------------------------------------------------------------------

_real = Primitive("real", np.real, tf_name="Real")
_imag = Primitive("imag", np.imag, tf_name="Imag")
_complex = Primitive("complex", lambda re, im: re + 1j * im, tf_name="Complex", broadcasts=True)
defvjp(_real, lambda g, ans, z: complex(g, zeros_like(g)))
defvjp(_imag, lambda g, ans, z: complex(zeros_like(g), g))
defvjp(_complex, lambda g, ans, re, im: real(g), lambda g, ans, re, im: imag(g))

# ---- selection and casts ----------------------------------------------------------------------

_where = Primitive("where", np.where, tf_name="SelectV2", broadcasts=True)
defvjp(_where, None,
       lambda g, ans, c, x, y: where(c, g, zeros_like(g)),
       lambda g, ans, c, x, y: where(c, zeros_like(g), g))

_cast = Primitive("cast", lambda x, dtype: x.astype(dtype._np), tf_name="Cast")


def _cast_grad(g: Tensor, ans: Tensor, x: Tensor, dtype: DType) -> Tensor | None:
    # Only float/complex -> float/complex casts carry a gradient (TensorFlow's _CastGrad).
    if x._dtype.is_trainable and dtype.is_trainable:
        return cast(g, x._dtype)
    return None


defvjp(_cast, _cast_grad)

# ---- linear algebra and reductions ------------------------------------------------------------


def _matmul_kernel(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False) -> Any:
    return np.matmul(np.swapaxes(a, -1, -2) if transpose_a else a,
                     np.swapaxes(b, -1, -2) if transpose_b else b)


_matmul = Primitive("matmul", _matmul_kernel, tf_name="MatMul")


def _matmul_grad_a(g: Tensor, ans: Tensor, a: Tensor, b: Tensor, transpose_a: bool = False,
                   transpose_b: bool = False) -> Tensor:
    if transpose_a:
        return matmul(conj(b), g, transpose_a=transpose_b, transpose_b=True)
    return matmul(g, conj(b), transpose_b=not transpose_b)


def _matmul_grad_b(g: Tensor, ans: Tensor, a: Tensor, b: Tensor, transpose_a: bool = False,
                   transpose_b: bool = False) -> Tensor:
    if transpose_b:
        return matmul(g, conj(a), transpose_a=True, transpose_b=transpose_a)
    return matmul(conj(a), g, transpose_a=not transpose_a)


defvjp(_matmul, _matmul_grad_a, _matmul_grad_b)


def _keepdims_shape(x: Tensor, axis: tuple[int, ...] | None) -> tuple[int, ...]:
    shape = np.shape(x._value)
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in axis}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g: Tensor, x: Tensor, axis: tuple[int, ...] | None, keepdims: bool) -> Tensor:
    """Broadcast a reduction's upstream gradient back to the input's shape."""
    if not keepdims:
        g = reshape(g, _keepdims_shape(x, axis))
    return broadcast_to(g, np.shape(x._value))


def _count(x: Tensor, axis: tuple[int, ...] | None) -> int:
    shape = np.shape(x._value)
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axis], dtype=np.int64))


def _max_grad(g: Tensor, ans: Tensor, x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    # Ties share the gradient evenly (TensorFlow's _MinOrMaxGrad).
    kept = reshape(ans, _keepdims_shape(x, axis))
    chosen = cast(equal(kept, x), g._dtype)
    share = chosen / reduce_sum(chosen, axis=axis, keepdims=True)
    return share * _spread(g, x, axis, keepdims)


_sum = Primitive("reduce_sum", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
                 tf_name="Sum")
_mean = Primitive("reduce_mean",
                  lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims).astype(x.dtype),
                  tf_name="Mean")
_max = Primitive("reduce_max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
                 tf_name="Max")
defvjp(_sum, lambda g, ans, x, axis=None, keepdims=False: _spread(g, x, axis, keepdims))
defvjp(_mean, lambda g, ans, x, axis=None, keepdims=False:
       _spread(g, x, axis, keepdims) / float(max(_count(x, axis), 1)))
defvjp(_max, _max_grad)

_broadcast_to = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape), tf_name="BroadcastTo",
                          broadcasts=True)
defvjp(_broadcast_to, lambda g, ans, x, shape: g)

# ---- shapes -----------------------------------------------------------------------------------

_reshape = Primitive("reshape", lambda x, shape: np.reshape(x, shape), tf_name="Reshape")
defvjp(_reshape, lambda g, ans, x, shape: reshape(g, np.shape(x._value)))

_transpose = Primitive("transpose", lambda x, perm: np.transpose(x, perm), tf_name="Transpose")
defvjp(_transpose, lambda g, ans, x, perm: transpose(g, tuple(np.argsort(perm))))

_tile = Primitive("tile", lambda x, multiples: np.tile(x, multiples), tf_name="Tile")


def _tile_grad(g: Tensor, ans: Tensor, x: Tensor, multiples: tuple[int, ...]) -> Tensor:
    shape = np.shape(x._value)
    split = [n for pair in zip(multiples, shape) for n in pair]
    return reduce_sum(reshape(g, split), axis=tuple(range(0, 2 * len(shape), 2)))


defvjp(_tile, _tile_grad)


def _take_kernel(x: Any, index: int, axis: int) -> Any:
    return np.take(x, index, axis=axis)


def _embed_kernel(g: Any, index: int, axis: int, size: int) -> Any:
    out = np.zeros(np.shape(g)[:axis] + (size,) + np.shape(g)[axis:], dtype=g.dtype)
    slicer = (slice(None),) * axis + (index,)
    out[slicer] = g
    return out


# take one slice along an axis, and its adjoint (the slice placed into zeros): a closed pair, so
# stack/concat/unstack gradients are themselves differentiable.
_take = Primitive("take", _take_kernel, tf_name="StridedSlice")
_embed = Primitive("embed", _embed_kernel, tf_name="StridedSliceGrad")
defvjp(_take, lambda g, ans, x, index, axis: _embed_slice(g, index, axis, np.shape(x._value)[axis]))
defvjp(_embed, lambda g, ans, x, index, axis, size: _take_slice(g, index, axis))


def _take_slice(x: Tensor, index: int, axis: int) -> Tensor:
    return call(_take, (x,), {"index": index, "axis": axis}, dtype=x._dtype)


def _embed_slice(g: Tensor, index: int, axis: int, size: int) -> Tensor:
    return call(_embed, (g,), {"index": index, "axis": axis, "size": size}, dtype=g._dtype)


_stack = Primitive("stack", lambda *xs, axis=0: np.stack(xs, axis=axis), tf_name="Pack", variadic=True)
defvjp(_stack, lambda i, g, ans, inputs, axis=0: _take_slice(g, i, axis % np.ndim(ans._value)))


def _concat_kernel(*xs: Any, axis: int = 0) -> Any:
    return np.concatenate(xs, axis=axis)


def _concat_grad(i: int, g: Tensor, ans: Tensor, inputs: Sequence[Tensor], axis: int = 0) -> Tensor:
    axis = axis % np.ndim(ans._value)
    start = sum(np.shape(t._value)[axis] for t in inputs[:i])
    stop = start + np.shape(inputs[i]._value)[axis]
    return _slice_axis(g, start, stop, axis)


_concat = Primitive("concat", _concat_kernel, tf_name="ConcatV2", variadic=True)
defvjp(_concat, _concat_grad)

_slice = Primitive("slice", lambda x, start, stop, axis: np.take(x, np.arange(start, stop), axis=axis),
                   tf_name="Slice")
_pad = Primitive("pad_axis", lambda g, start, size, axis: np.concatenate(
    [np.zeros(np.shape(g)[:axis] + (start,) + np.shape(g)[axis + 1:], g.dtype), g,
     np.zeros(np.shape(g)[:axis] + (size - start - np.shape(g)[axis],) + np.shape(g)[axis + 1:], g.dtype)],
    axis=axis), tf_name="Pad")
defvjp(_slice, lambda g, ans, x, start, stop, axis: call(
    _pad, (g,), {"start": start, "size": np.shape(x._value)[axis], "axis": axis}, dtype=g._dtype))
defvjp(_pad, lambda g, ans, x, start, size, axis: _slice_axis(g, start, start + np.shape(x._value)[axis], axis))


def _slice_axis(x: Tensor, start: int, stop: int, axis: int) -> Tensor:
    return call(_slice, (x,), {"start": start, "stop": stop, "axis": axis}, dtype=x._dtype)


def _scatter_add_kernel(g: Any, indices: Any, axis: int, size: int) -> Any:
    shape = list(np.shape(g))
    index_rank = np.ndim(indices)
    out_shape = shape[:axis] + [size] + shape[axis + index_rank:]
    out = np.zeros(out_shape, dtype=g.dtype)
    moved = np.moveaxis(out, axis, 0)
    flat_g = np.reshape(np.moveaxis(g, tuple(range(axis, axis + index_rank)), tuple(range(index_rank))),
                        (-1,) + tuple(np.shape(moved)[1:]))
    np.add.at(moved, np.reshape(indices, -1), flat_g)
    return out


_gather = Primitive("gather", lambda x, indices, axis: np.take(x, indices, axis=axis), tf_name="GatherV2")
_scatter_add = Primitive("scatter_add", _scatter_add_kernel, tf_name="UnsortedSegmentSum")


def _gather_grad(g: Tensor, ans: Tensor, x: Tensor, indices: Any, axis: int) -> Any:
    shape = np.shape(x._value)
    if axis != 0:
        return call(_scatter_add, (g,), {"indices": indices, "axis": axis, "size": shape[axis]}, dtype=g._dtype)
    # Along axis 0 the gradient is sparse, as TensorFlow's: the gathered rows at their indices.
    flat_indices = np.reshape(np.asarray(indices), -1).astype(np.int32)
    values = reshape(g, (flat_indices.size,) + tuple(shape[1:]))
    return IndexedSlices(values, Tensor(flat_indices, dt.int32), Tensor(np.asarray(shape, np.int32), dt.int32))


def scatter_rows(values: Tensor, indices: Any, size: int) -> Tensor:
    """The dense tensor of ``size`` rows with ``values`` summed in at rows ``indices``."""
    return call(_scatter_add, (values,), {"indices": np.asarray(indices), "axis": 0, "size": size},
                dtype=values._dtype)


defvjp(_gather, _gather_grad)
defvjp(_scatter_add, lambda g, ans, x, indices, axis, size: gather(g, indices, axis=axis))


def _getitem_kernel(x: Any, key: Any) -> Any:
    return np.asarray(x[key])


def _setitem_zeros_kernel(g: Any, key: Any, shape: tuple[int, ...]) -> Any:
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, key, g)
    return out


_getitem = Primitive("getitem", _getitem_kernel, tf_name="StridedSlice")
_setitem_zeros = Primitive("getitem_grad", _setitem_zeros_kernel, tf_name="StridedSliceGrad")
defvjp(_getitem, lambda g, ans, x, key: call(
    _setitem_zeros, (g,), {"key": key, "shape": np.shape(x._value)}, dtype=g._dtype))
defvjp(_setitem_zeros, lambda g, ans, x, key, shape: call(_getitem, (g,), {"key": key}, dtype=g._dtype))


# ---- public ops -------------------------------------------------------------------------------


def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary(_add, x, y)


def subtract(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary(_sub, x, y)


def multiply(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary(_mul, x, y)


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    x, y = _binary_operands(x, y, "RealDiv")
    if x._dtype.is_integer:  # TensorFlow's truediv casts integers to float64
        x, y = cast(x, dt.float64), cast(y, dt.float64)
    return _binary(_div, x, y)


def pow(x: Any, y: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TensorFlow's name
    return _binary(_pow, x, y)


def maximum(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary(_maximum, x, y)


def minimum(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary(_minimum, x, y)


def negative(x: Any, name: str | None = None) -> Tensor:
    return _unary(_neg, x)


def square(x: Any, name: str | None = None) -> Tensor:
    return _unary(_square, x)


def sqrt(x: Any, name: str | None = None) -> Tensor:
    return _unary(_sqrt, x)


def exp(x: Any, name: str | None = None) -> Tensor:
    return _unary(_exp, x)


def log(x: Any, name: str | None = None) -> Tensor:
    return _unary(_log, x)


def reciprocal(x: Any, name: str | None = None) -> Tensor:
    x = _tensor(x)
    return divide(ones_like(x), x)


def sin(x: Any, name: str | None = None) -> Tensor:
    return _unary(_sin, x)


def cos(x: Any, name: str | None = None) -> Tensor:
    return _unary(_cos, x)


def tanh(x: Any, name: str | None = None) -> Tensor:
    return _unary(_tanh, x)


def sigmoid(x: Any, name: str | None = None) -> Tensor:
    return _unary(_sigmoid, x)


def relu(features: Any, name: str | None = None) -> Tensor:
    return _unary(_relu, features)


def abs(x: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TensorFlow's name
    x = _tensor(x)
    return call(_abs, (x,), dtype=x._dtype.real_dtype)


def sign(x: Any, name: str | None = None) -> Tensor:
    return _unary(_sign, x)


def floor(x: Any, name: str | None = None) -> Tensor:
    return _unary(_floor, x)


def ceil(x: Any, name: str | None = None) -> Tensor:
    return _unary(_ceil, x)


def round(x: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TensorFlow's name
    return _unary(_round, x)


def conj(x: Any, name: str | None = None) -> Tensor:
    if type(x) is not Tensor:
        x = _tensor(x)
    if not x._dtype.is_complex:  # as math_ops.conj: the identity (no op) for real tensors
        return x
    return call(_conj, (x,), dtype=x._dtype)


def real(input: Any, name: str | None = None) -> Tensor:  # noqa: A002 - TensorFlow's name
    x = _tensor(input)
    if not x._dtype.is_complex:
        return x
    return call(_real, (x,), dtype=x._dtype.real_dtype)


def imag(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    if not x._dtype.is_complex:
        return zeros_like(x)
    return call(_imag, (x,), dtype=x._dtype.real_dtype)


def complex(real: Any, imag: Any, name: str | None = None) -> Tensor:  # noqa: A001
    re, im = _binary_operands(real, imag, "Complex")
    dtype = dt.complex128 if re._dtype is dt.float64 else dt.complex64
    return call(_complex, (re, im), dtype=dtype)


def identity(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    return _unary(_identity, input)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The same value as a new tensor that no tape has seen: gradients stop here."""
    x = _tensor(input)
    return Tensor(x._value, x._dtype)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    x = _tensor(x)
    dtype = as_dtype(dtype)
    if x._dtype is dtype:
        return x
    return call(_cast, (x,), {"dtype": dtype}, dtype=dtype)


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    condition = _tensor(condition)
    if x is None and y is None:
        return Tensor(np.argwhere(condition._value).astype(np.int64), dt.int64)
    if type(x) is not Tensor and type(y) is Tensor:
        x = _like(x, y._dtype)
    x = _tensor(x)
    y = _like(y, x._dtype)
    if x._dtype is not y._dtype:
        _binary_operands(x, y, "SelectV2")
    try:
        return call(_where, (condition, x, y), dtype=x._dtype)
    except ValueError as error:
        raise _incompatible("SelectV2", x, y) from error


def _compare(kernel: Callable[[Any, Any], Any], op: str, x: Any, y: Any) -> Tensor:
    x, y = _binary_operands(x, y, op)
    try:
        return Tensor(kernel(x._value, y._value), dt.bool_)  # comparisons are not differentiable
    except ValueError:
        raise _incompatible(op, x, y) from None


def greater(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(np.greater, "Greater", x, y)


def greater_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(np.greater_equal, "GreaterEqual", x, y)


def less(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(np.less, "Less", x, y)


def less_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(np.less_equal, "LessEqual", x, y)


def equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(np.equal, "Equal", x, y)


def not_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(np.not_equal, "NotEqual", x, y)


def logical_not(x: Any, name: str | None = None) -> Tensor:
    return Tensor(np.logical_not(_tensor(x)._value), dt.bool_)


def argmax(input: Any, axis: int | None = None, output_type: Any = dt.int64, name: str | None = None) -> Tensor:  # noqa: A002,E501
    x = _tensor(input)
    dtype = as_dtype(output_type)
    return Tensor(np.asarray(np.argmax(x._value, axis=0 if axis is None else axis)).astype(dtype._np), dtype)


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False,
           name: str | None = None) -> Tensor:
    a, b = _binary_operands(a, b, "MatMul")
    kwargs = {"transpose_a": transpose_a, "transpose_b": transpose_b} if transpose_a or transpose_b else None
    try:
        return call(_matmul, (a, b), kwargs, dtype=a._dtype)
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None,
            f"Matrix size-incompatible: In[0]: {list(np.shape(a._value))}, In[1]: "
            f"{list(np.shape(b._value))} [Op:MatMul] name: ",
        ) from None


def _axes(axis: Any) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis._value.tolist()
    return tuple(int(a) for a in np.atleast_1d(axis))


def _reduce(primitive: Primitive, x: Any, axis: Any, keepdims: bool) -> Tensor:
    x = _tensor(x)
    axes = _axes(axis)
    kwargs = {"axis": axes, "keepdims": bool(keepdims)}
    return call(primitive, (x,), kwargs, dtype=x._dtype)


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    return _reduce(_sum, input_tensor, axis, keepdims)


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    return _reduce(_mean, input_tensor, axis, keepdims)


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    return _reduce(_max, input_tensor, axis, keepdims)


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    shape = tuple(int(n) for n in shape)
    if np.shape(x._value) == shape:
        return x
    return call(_broadcast_to, (x,), {"shape": shape}, dtype=x._dtype)


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, Tensor):
        shape = shape._value.tolist()
    return tuple(int(n) for n in np.atleast_1d(shape)) if np.ndim(shape) or shape != () else ()


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    x = _tensor(tensor)
    shape = _shape_tuple(shape) if not isinstance(shape, tuple) else shape
    try:
        return call(_reshape, (x,), {"shape": shape}, dtype=x._dtype)
    except ValueError:
        raise errors.InvalidArgumentError(
            None, None,
            f"Input to reshape is a tensor with {np.size(x._value)} values, but the requested shape "
            f"has {int(np.prod(shape))} [Op:Reshape]",
        ) from None


def transpose(a: Any, perm: Any = None, conjugate: bool = False, name: str | None = None) -> Tensor:
    x = _tensor(a)
    rank = np.ndim(x._value)
    perm = tuple(range(rank))[::-1] if perm is None else tuple(int(p) for p in perm)
    out = call(_transpose, (x,), {"perm": perm}, dtype=x._dtype)
    return conj(out) if conjugate else out


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    return call(_tile, (x,), {"multiples": _shape_tuple(multiples)}, dtype=x._dtype)


def stack(values: Sequence[Any], axis: int = 0, name: str | None = None) -> Tensor:
    tensors = [_tensor(v) for v in values]
    first = tensors[0]
    tensors = [first] + [_like(v, first._dtype) for v in tensors[1:]]
    return call(_stack, tuple(tensors), {"axis": axis}, dtype=first._dtype)


def unstack(value: Any, axis: int = 0, name: str | None = None) -> list[Tensor]:
    x = _tensor(value)
    axis = axis % np.ndim(x._value)
    return [_take_slice(x, i, axis) for i in range(np.shape(x._value)[axis])]


def concat(values: Sequence[Any], axis: int, name: str | None = None) -> Tensor:
    tensors = tuple(_tensor(v) for v in values)
    return call(_concat, tensors, {"axis": int(axis)}, dtype=tensors[0]._dtype)


def gather(params: Any, indices: Any, axis: int = 0, batch_dims: int = 0, name: str | None = None) -> Tensor:
    x = _tensor(params)
    index_array = np.asarray(indices._value if isinstance(indices, Tensor) else indices)
    return call(_gather, (x,), {"indices": index_array, "axis": int(axis) % max(np.ndim(x._value), 1)},
                dtype=x._dtype)


def getitem(x: Tensor, key: Any) -> Tensor:
    if isinstance(key, Tensor):
        key = key._value
    return call(_getitem, (x,), {"key": key}, dtype=x._dtype)


def softmax(logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    x = _tensor(logits)
    shifted = x - stop_gradient(reduce_max(x, axis=axis, keepdims=True))
    e = exp(shifted)
    return e / reduce_sum(e, axis=axis, keepdims=True)


def norm(tensor: Any, ord: str = "euclidean", axis: Any = None, keepdims: bool | None = None,  # noqa: A002
         name: str | None = None) -> Tensor:
    """The Euclidean norm, as TensorFlow computes it: sqrt(sum(x * conj(x)))."""
    x = _tensor(tensor)
    if ord not in ("euclidean", 2, 2.0):
        raise ValueError(f"'ord' must be 'euclidean' or 2 in reference_impl, got {ord!r}")
    squared = real(x * conj(x)) if x._dtype.is_complex else x * x
    return sqrt(reduce_sum(squared, axis=axis, keepdims=bool(keepdims)))


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    a, b = _binary_operands(a, b, "MatMul")
    a_shape, b_shape = list(np.shape(a._value)), list(np.shape(b._value))
    if isinstance(axes, int):
        a_axes = list(range(len(a_shape) - axes, len(a_shape)))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = ([int(v) for v in np.atleast_1d(ax)] for ax in axes)
    a_free = [i for i in range(len(a_shape)) if i not in a_axes]
    b_free = [i for i in range(len(b_shape)) if i not in b_axes]
    size = int(np.prod([a_shape[i] for i in a_axes], dtype=np.int64))
    a2 = reshape(transpose(a, a_free + a_axes), (-1, size))
    b2 = reshape(transpose(b, b_axes + b_free), (size, -1))
    out_shape = tuple(a_shape[i] for i in a_free) + tuple(b_shape[i] for i in b_free)
    return reshape(matmul(a2, b2), out_shape)


# ---- creation -----------------------------------------------------------------------------------


def zeros_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    dtype = as_dtype(dtype) if dtype is not None else x._dtype
    if dtype is dt.string:
        return Tensor(np.full(np.shape(x._value), b"", dtype=object), dt.string)
    return Tensor(np.zeros(np.shape(x._value), dtype=dtype._np), dtype)


def ones_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    dtype = as_dtype(dtype) if dtype is not None else x._dtype
    shape = np.shape(x._value)
    if not shape:  # scalar seeds are the hot path of every scalar gradient
        return Tensor(_scalar_ones.get(dtype) or _scalar_ones.setdefault(dtype, dtype._np.type(1)), dtype)
    return Tensor(np.ones(shape, dtype=dtype._np), dtype)


_scalar_ones: dict[DType, Any] = {}


def zeros(shape: Any, dtype: Any = dt.float32, name: str | None = None) -> Tensor:
    dtype = as_dtype(dtype)
    return Tensor(np.zeros(_shape_tuple(shape), dtype=dtype._np), dtype)


def ones(shape: Any, dtype: Any = dt.float32, name: str | None = None) -> Tensor:
    dtype = as_dtype(dtype)
    return Tensor(np.ones(_shape_tuple(shape), dtype=dtype._np), dtype)


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    v = _tensor(value)
    return Tensor(np.full(_shape_tuple(dims), v._value, dtype=v._value.dtype), v._dtype)


def range_(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str | None = None) -> Tensor:
    if limit is None:
        start, limit = 0, start
    array, resolved = to_array(np.arange(start, limit, delta), dtype)
    if dtype is None and isinstance(start, int) and isinstance(limit, int):
        array, resolved = array.astype(np.int32), dt.int32
    return Tensor(array, resolved)


def shape(input: Any, out_type: Any = dt.int32, name: str | None = None) -> Tensor:  # noqa: A002
    dtype = as_dtype(out_type)
    return Tensor(np.asarray(np.shape(_tensor(input)._value), dtype=dtype._np), dtype)


def size(input: Any, out_type: Any = dt.int32, name: str | None = None) -> Tensor:  # noqa: A002
    dtype = as_dtype(out_type)
    return Tensor(np.asarray(np.size(_tensor(input)._value), dtype=dtype._np), dtype)


def uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = dt.float32, seed: Any = None,
            name: str | None = None) -> Tensor:
    dtype = as_dtype(dtype)
    rng = np.random.default_rng(seed)
    high = 1.0 if maxval is None else maxval
    return Tensor(rng.uniform(minval, high, _shape_tuple(shape)).astype(dtype._np), dtype)


def normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dt.float32, seed: Any = None,
           name: str | None = None) -> Tensor:
    dtype = as_dtype(dtype)
    rng = np.random.default_rng(seed)
    return Tensor(rng.normal(mean, stddev, _shape_tuple(shape)).astype(dtype._np), dtype)


# ---- eager control flow -------------------------------------------------------------------------


def cond(pred: Any, true_fn: Callable[[], Any] | None = None, false_fn: Callable[[], Any] | None = None,
         name: str | None = None) -> Any:
    """Eager ``tf.cond``: run the branch that ``pred`` selects (its ops are recorded as usual)."""
    return true_fn() if bool(pred) else false_fn()


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any, **_: Any) -> Any:
    """Eager ``tf.while_loop``: a Python loop over ``loop_vars`` (a list/tuple, or one value)."""
    packed = isinstance(loop_vars, (list, tuple))
    values = list(loop_vars) if packed else [loop_vars]
    while bool(cond(*values)):
        result = body(*values)
        values = list(result) if isinstance(result, (list, tuple)) else [result]
    return type(loop_vars)(values) if packed else values[0]


def device_name() -> str:
    return state.device


# ---- operators ------------------------------------------------------------------------------------


def _reflected(fn: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
    return lambda self, other: fn(other, self)


def _eq(self: Any, other: Any) -> Any:
    if other is None:
        return False
    return equal(self, other)


def _ne(self: Any, other: Any) -> Any:
    if other is None:
        return True
    return not_equal(self, other)


OPERATORS: dict[str, Callable[..., Any]] = {
    "__add__": add, "__radd__": _reflected(add),
    "__sub__": subtract, "__rsub__": _reflected(subtract),
    "__mul__": multiply, "__rmul__": _reflected(multiply),
    "__truediv__": divide, "__rtruediv__": _reflected(divide),
    "__pow__": pow, "__rpow__": _reflected(pow),
    "__matmul__": matmul, "__rmatmul__": _reflected(matmul),
    "__neg__": negative, "__abs__": abs,
    "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
    "__eq__": _eq, "__ne__": _ne,
    "__getitem__": lambda self, key: getitem(_tensor(self), key),
}


def install_operators(cls: type) -> None:
    """Give ``cls`` (Tensor, Variable) TensorFlow's arithmetic and comparison operators."""
    for name, fn in OPERATORS.items():
        setattr(cls, name, fn)


install_operators(Tensor)
