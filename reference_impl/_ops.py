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

import builtins
import operator
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from reference_impl import _core, errors
from reference_impl import _dtypes as dt
from reference_impl._backend import backend_of, device_of, namespace
from reference_impl._core import (
    IndexedSlices,
    KernelTypes,
    Primitive,
    Tensor,
    call,
    check_same_device,
    convert,
    convert_beside,
    place,
    state,
    to_array,
)
from reference_impl._dtypes import DType, as_dtype
from reference_impl._logging import logger

_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def _ns(array: Any) -> Any:
    """The array API namespace of ``array`` (NumPy's, CuPy's, array-api-strict)."""
    return namespace(array)


def _device(array: Any) -> Any:
    """``array``'s native device, for creating arrays beside it."""
    return (
        getattr(array, "device", None) if not isinstance(array, (np.ndarray, np.generic)) else None
    )


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
#
# TensorFlow converts an op's non-tensor operands in one of two ways, and each public op below
# uses the one its TensorFlow counterpart uses:
# - matching (the eager fast path, ``args_to_matching_eager``; multiply, subtract, pow, maximum,
#   comparisons, where, stack, concat): the first tensor or variable decides the dtype and the
#   other values are converted to it strictly (``tf.multiply(x, 2.5)`` with int32 ``x`` is a
#   TypeError); without one, the first value's own conversion decides;
# - hinted (``add``, ``matmul``, ``truediv``): the first operand is converted on its own, the
#   second with the first's dtype as a hint (falling back to its own dtype), then both must agree.
# A reflected operator (``2 * v``, ``1 / v``) converts its left operand with the tensor's dtype
# first, as TensorFlow's ``r_binary_op_wrapper``.

_PYTHON_SCALARS = (bool, int, float, builtins.complex)  # ``complex`` is the op of that name here


def _tensor(value: Any) -> Tensor:
    return value if type(value) is Tensor else convert(value)


def _is_tensor_like(value: Any) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_tensor")


def _fast_path_operand(value: Any) -> bool:
    """Whether TensorFlow's eager fast path takes ``value`` as it is: tensors, variables, NumPy
    arrays and real Python numbers. Lists, complex numbers and NumPy scalars send the op down
    its slow path, whose kernel errors do not end with " name: " (found by tapeconf fuzz)."""
    return _is_tensor_like(value) or type(value) in (np.ndarray, bool, int, float)


_scalar_constants: dict[tuple[type, Any, DType, Any], Tensor] = {}


def _like(value: Any, other: Tensor) -> Tensor:
    """``value`` as a tensor of ``other``'s dtype, beside it (TF's operand rule); strict, so a
    value the dtype cannot hold is TensorFlow's TypeError. Tensors and variables pass through.

    Python scalars in arithmetic (``y * 1.01``) are converted once and cached: such a constant
    is never watched (no one else holds it), so sharing it between ops is safe.
    """
    if type(value) is Tensor:
        return value
    if isinstance(value, _PYTHON_SCALARS):
        dtype, beside = other._dtype, other._value
        on_host = isinstance(beside, (np.ndarray, np.generic))
        key = (type(value), value, dtype, None if on_host else device_of(beside))
        cached = _scalar_constants.get(key)
        if cached is None:
            array, _ = to_array(value, dtype)
            placed = array[()] if on_host else backend_of(beside).asarray(array, device_of(beside))
            if len(_scalar_constants) > 4096:
                _scalar_constants.clear()
            cached = _scalar_constants[key] = Tensor(placed, dtype)
        return cached
    return convert_beside(value, other._dtype, other._value)


def _hinted(value: Any, other: Tensor) -> Tensor:
    """``value`` converted with ``other``'s dtype as a hint (``dtype_hint``): its own if not."""
    if isinstance(value, Tensor) or hasattr(value, "_as_tensor"):
        return convert(value)
    try:
        return _like(value, other)
    except (TypeError, ValueError):
        return convert(value)


def _dtype_mismatch(
    op: str, index: int, expected: DType, got: DType, name: str = ""
) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(
        None,
        None,
        f"cannot compute {op} as input #{index}(zero-based) was expected to be a "
        f"{dt.type_string(expected)} tensor but is a {dt.type_string(got)} tensor [Op:{op}] "
        f"name: {name}",
    )


def _check_dtypes(op: str, tensors: Sequence[Tensor], name: str = "", first_index: int = 0) -> None:
    expected = tensors[0]._dtype
    for index, tensor in enumerate(tensors):
        if tensor._dtype is not expected:
            raise _dtype_mismatch(op, first_index + index, expected, tensor._dtype, name)


def _matching(op: str, values: Sequence[Any], name: str = "", first_index: int = 0) -> list[Tensor]:
    """The operands of an op on TensorFlow's eager fast path (see the top of this section).

    Without a tensor among them, the first value that carries a dtype decides: a variable, or a
    NumPy scalar (``np.float64`` excepted: it is a Python float); a variable of another dtype is
    then TensorFlow's ValueError (``tf.multiply(np.int8(1), tf.Variable(1.5))``). When every
    operand is one the fast path takes, it reads variables as they are and the kernel rejects a
    dtype that differs (``tf.constant(1.0) * tf.Variable(1.0, tf.float64)``: InvalidArgumentError).
    """
    strict_variables = not all(map(_fast_path_operand, values))
    tensors: list[Any] = [v if isinstance(v, Tensor) else None for v in values]
    first = next((t for t in tensors if t is not None), None)
    if first is None:
        decides = next((v for v in values if _carries_dtype(v)), None)
        if decides is not None:
            first = convert(decides)
            tensors[next(i for i, v in enumerate(values) if v is decides)] = first
    for index, value in enumerate(values):
        if tensors[index] is not None:
            continue
        if first is None:
            first = tensors[index] = convert(value)
        elif hasattr(value, "_as_tensor"):
            strict = strict_variables and hasattr(value, "assign")
            tensors[index] = convert(value, first._dtype if strict else None)
        else:
            tensors[index] = _like(value, first)
    _check_dtypes(op, tensors, name, first_index)
    return tensors


def _carries_dtype(value: Any) -> bool:
    return hasattr(value, "_as_tensor") or (
        isinstance(value, np.generic) and type(value) is not np.float64
    )


def _binary_operands(x: Any, y: Any, op: str, hinted: bool = False) -> tuple[Tensor, Tensor]:
    """Two operands converted as TensorFlow's ``op`` converts them (matching, or hinted)."""
    if hinted:
        x = _tensor(x)
        y = y if type(y) is Tensor else _hinted(y, x)
        if x._dtype is not y._dtype:
            raise _dtype_mismatch(op, 1, x._dtype, y._dtype)
    else:
        x, y = _matching(op, (x, y))
    if type(x._value) is not type(y._value):
        check_same_device(op, (x, y))
    return x, y


def _kernel_error(kernel: str, message: str, op: str | None = None, name: str | None = "") -> Any:
    """An InvalidArgumentError worded as a TensorFlow CPU kernel's (``kernel`` is the function
    TF's message names, ``op`` the op; ``name=None`` leaves the name part off, as some do)."""
    suffix = "" if name is None else f" name: {name}"
    return errors.InvalidArgumentError(
        None,
        None,
        f"{{{{function_node __wrapped__{kernel}_device_{_DEVICE}}}}} {message} "
        f"[Op:{op or kernel}]{suffix}",
    )


def _dims(shape: Sequence[int]) -> str:
    """A shape as TensorFlow's kernels print it: ``[2,3]``."""
    return "[" + ",".join(str(n) for n in shape) + "]"


def _incompatible(
    op: str, x: Tensor, y: Tensor, name: str | None = ""
) -> errors.InvalidArgumentError:
    message = f"Incompatible shapes: {list(np.shape(x._value))} vs. {list(np.shape(y._value))}"
    return _kernel_error(op, message, name=name)


#: NumPy's array and scalar types: values on the host, which mix freely.
_HOST_TYPES = frozenset({np.ndarray, *(np.dtype(c).type for c in "efdgFDGbhilqBHILQ?")})


def _binary(primitive: Primitive, x: Any, y: Any, hinted: bool = False) -> Tensor:
    given = (x, y)
    if type(y) is float and type(x) is Tensor and x._dtype.is_floating:
        y = _like(y, x)  # ``y * 1.01``: the most common mixed operand, converted once and cached
    if (
        type(x) is not Tensor
        or type(y) is not Tensor
        or x._dtype is not y._dtype
        or (
            type(x._value) is not type(y._value)  # mixed array types: check devices
            and not (type(x._value) in _HOST_TYPES and type(y._value) in _HOST_TYPES)
        )
    ):
        x, y = _binary_operands(x, y, primitive.tf_name, hinted)
    kernel = primitive.kernel
    if kernel is not None and x._dtype not in kernel.dtypes:
        kernel.check(x._dtype, _error_name(given, hinted))
    try:
        return call(primitive, (x, y), dtype=x._dtype)
    except ValueError as error:
        if "broadcast" in str(error):
            raise _incompatible(primitive.tf_name, x, y, _error_name(given, hinted)) from None
        if "negative integer powers" in str(error):  # NumPy's words, TensorFlow's Pow kernel
            message = "Integers to negative integer powers are not allowed"
            name = _error_name(given, hinted)
            raise _kernel_error(primitive.tf_name, message, name=name) from None
        raise


def _error_name(given: Sequence[Any], hinted: bool = False) -> str | None:
    """The " name: " part of a kernel error: absent when TF's slow path ran the op (a hinted op
    converts its operands in Python first, so its kernel always sees tensors)."""
    return "" if hinted or all(map(_fast_path_operand, given)) else None


def _unary(primitive: Primitive, x: Any) -> Tensor:
    given = x
    x = _tensor(x)
    kernel = primitive.kernel
    if kernel is not None and x._dtype not in kernel.dtypes:
        # TensorFlow's fast path converts a Python number itself; other values take its slow
        # path, whose errors have no " name: "
        kernel.check(x._dtype, "" if _fast_path_operand(given) else None)
    return call(primitive, (x,), dtype=x._dtype)


# ---- primitives: binary arithmetic ------------------------------------------------------------


# Python's operators dispatch to the same NumPy kernels, minus the ufunc call overhead on scalars.
def _sparse_to_x(g: IndexedSlices, inputs: Sequence[Tensor], needs: Sequence[bool]) -> Any:
    """Add/Sub: x gets the sparse upstream as it is when y is a scalar needing no gradient."""
    if needs[1] or np.ndim(inputs[1]._value) != 0:
        return None
    return [g if needs[0] else None, None]


def _sparse_negated(g: IndexedSlices, inputs: Sequence[Tensor], needs: Sequence[bool]) -> Any:
    return [IndexedSlices(negative(g.values), g.indices, g.dense_shape)]


def _sparse_cast(
    g: IndexedSlices, inputs: Sequence[Tensor], needs: Sequence[bool], dtype: Any
) -> Any:
    source = inputs[0]._dtype
    if not (source.is_trainable and g.dtype.is_trainable):
        return [None]
    return [IndexedSlices(cast(g.values, source), g.indices, g.dense_shape)]


_add = Primitive("add", operator.add, tf_name="AddV2", broadcasts=True, sparse_rule=_sparse_to_x)
_sub = Primitive("subtract", operator.sub, tf_name="Sub", broadcasts=True, sparse_rule=_sparse_to_x)
_mul = Primitive("multiply", operator.mul, tf_name="Mul", broadcasts=True)
_div = Primitive("divide", _quiet(operator.truediv), tf_name="RealDiv", broadcasts=True)
_pow = Primitive("pow", _quiet(lambda x, y: _ns(x).pow(x, y)), tf_name="Pow", broadcasts=True)
_maximum = Primitive(
    "maximum", lambda x, y: _ns(x).maximum(x, y), tf_name="Maximum", broadcasts=True
)
_minimum = Primitive(
    "minimum", lambda x, y: _ns(x).minimum(x, y), tf_name="Minimum", broadcasts=True
)


_BINARY = "x:T, y:T -> z:T"
_COMMUTATIVE = "; is_commutative=true"
_add.kernels(
    ("bfloat16", "half", "float", "double", "uint8", "uint16", "uint32", "uint64", "int8")
    + ("int16", "int32", "int64", "complex64", "complex128"),
    _BINARY,
)
_add.kernel.traits = "; is_commutative=true; is_aggregate=true"
_sub.kernels(
    ("bfloat16", "half", "float", "double", "uint8", "int8", "uint16", "int16", "int32")
    + ("int64", "complex64", "complex128", "uint32", "uint64"),
    _BINARY,
)
_mul.kernels(
    ("bfloat16", "half", "float", "double", "uint8", "int8", "uint16", "int16", "int32")
    + ("uint32", "uint64", "int64", "complex64", "complex128"),
    _BINARY,
)
_mul.kernel.traits = _COMMUTATIVE
_pow.kernels(
    ("bfloat16", "float", "half", "double", "int8", "int16", "int32", "int64", "complex64")
    + ("complex128",),
    _BINARY,
)
_ORDERED = ("bfloat16", "half", "float", "double", "int8", "uint8", "int16", "uint16", "int32")
for _primitive in (_maximum, _minimum):
    _primitive.kernels((*_ORDERED, "uint32", "int64", "uint64"), _BINARY)


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
defvjp(
    _div,
    lambda g, ans, x, y: divide(g, conj(y)),
    lambda g, ans, x, y: g * conj(divide(divide(negative(x), y), y)),
)
defvjp(_pow, lambda g, ans, x, y: g * conj(y * pow(x, y - 1)), _pow_grad_exponent)
defvjp(
    _maximum,
    lambda g, ans, x, y: where(greater_equal(x, y), g, zeros_like(g)),
    lambda g, ans, x, y: where(greater_equal(x, y), zeros_like(g), g),
)
defvjp(
    _minimum,
    lambda g, ans, x, y: where(less_equal(x, y), g, zeros_like(g)),
    lambda g, ans, x, y: where(less_equal(x, y), zeros_like(g), g),
)

# ---- primitives: unary elementwise ------------------------------------------------------------

_neg = Primitive("negative", operator.neg, tf_name="Neg", sparse_rule=_sparse_negated)
_square = Primitive("square", lambda x: _ns(x).square(x), tf_name="Square")
_sqrt = Primitive("sqrt", _quiet(lambda x: _ns(x).sqrt(x)), tf_name="Sqrt")
_exp = Primitive("exp", _quiet(lambda x: _ns(x).exp(x)), tf_name="Exp")
_log = Primitive("log", _quiet(lambda x: _ns(x).log(x)), tf_name="Log")
_sin = Primitive("sin", lambda x: _ns(x).sin(x), tf_name="Sin")
_cos = Primitive("cos", lambda x: _ns(x).cos(x), tf_name="Cos")
_tanh = Primitive("tanh", lambda x: _ns(x).tanh(x), tf_name="Tanh")
_sigmoid = Primitive("sigmoid", _quiet(lambda x: 1 / (1 + _ns(x).exp(-x))), tf_name="Sigmoid")
# max(x, 0) as TensorFlow's kernel computes it (x < 0 ? 0 : x): NaN and -0.0 pass through
_relu = Primitive("relu", lambda x: _ns(x).where(x < 0, _ns(x).zeros_like(x), x), tf_name="Relu")
_abs = Primitive("abs", lambda x: _ns(x).abs(x), tf_name="Abs")

# The dtypes TensorFlow registers kernels for (``tf.exp(1)`` is its InvalidArgumentError).
_FLOATS = ("bfloat16", "half", "float", "double")
_INEXACT = (*_FLOATS, "complex64", "complex128")
_SIGNED = (*_FLOATS, "int8", "int16", "int32", "int64")
for _primitive in (_sqrt, _exp, _log, _sin, _cos, _tanh, _sigmoid):
    _primitive.kernels(_INEXACT)
for _primitive, _types in (
    (_neg, (*_SIGNED, "complex64", "complex128")),
    (_square, (*_SIGNED, "uint8", "uint16", "uint32", "uint64", "complex64", "complex128")),
    (_abs, _SIGNED),
):
    _primitive.kernels(_types)
_relu.kernels(
    ("float", "double", "int32", "uint8", "int16", "int8", "int64", "bfloat16", "uint16", "half")
    + ("uint32", "uint64", "qint8"),
    signature="features:T -> activations:T",
)
_conj = Primitive("conj", lambda x: _ns(x).conj(x), tf_name="Conj")
_identity = Primitive(
    "identity", lambda x: x, tf_name="Identity", sparse_rule=lambda g, inputs, needs: [g]
)


def _sqrt_grad_kernel(y: Any, dy: Any) -> Any:
    # TensorFlow's SqrtGrad: 0 where the upstream gradient is 0, even at y == 0 (no 0 * inf).
    with np.errstate(all="ignore"):
        xp = _ns(dy)
        return xp.where(dy == 0, xp.zeros_like(dy), dy * 0.5 / xp.conj(y))


_sqrt_grad = Primitive("sqrt_grad", _sqrt_grad_kernel, tf_name="SqrtGrad")
defvjp(
    _sqrt_grad,
    lambda g, ans, y, dy: negative(g) * conj(ans / y),
    lambda g, ans, y, dy: g * conj(0.5 / y),
)


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
# tanh and sigmoid backward passes are single fused ops, as TensorFlow's TanhGrad/SigmoidGrad:
# one op per backward step instead of three, and each has its own VJP for higher orders.
_tanh_grad = Primitive("tanh_grad", lambda y, dy: dy * _ns(y).conj(1 - y * y), tf_name="TanhGrad")
_sigmoid_grad = Primitive(
    "sigmoid_grad", lambda y, dy: dy * _ns(y).conj(y * (1 - y)), tf_name="SigmoidGrad"
)
defvjp(
    _tanh_grad,
    lambda g, ans, y, dy: g * conj(-2.0 * dy * y),
    lambda g, ans, y, dy: call(_tanh_grad, (y, g), dtype=g._dtype),
)
defvjp(
    _sigmoid_grad,
    lambda g, ans, y, dy: g * conj(dy * (1.0 - 2.0 * y)),
    lambda g, ans, y, dy: call(_sigmoid_grad, (y, g), dtype=g._dtype),
)
defvjp(_tanh, lambda g, ans, x: call(_tanh_grad, (ans, g), dtype=g._dtype))
defvjp(_sigmoid, lambda g, ans, x: call(_sigmoid_grad, (ans, g), dtype=g._dtype))
def _relu_grad_kernel(dy: Any, x: Any) -> Any:
    return _ns(dy).where(x > 0, dy, _ns(dy).zeros_like(dy))


# TensorFlow's ReluGrad(gradients, features) is an op with a gradient of its own: ReluGrad again
# for the upstream, zeros (connected, not None) for the features. A Jacobian of relu's gradient
# is then zeros, as in TensorFlow, where a composed where(x > 0, ...) would leave x unconnected.
_relu_grad = Primitive("relu_grad", _relu_grad_kernel, tf_name="ReluGrad")
defvjp(
    _relu_grad,
    lambda g, ans, dy, x: call(_relu_grad, (g, x), dtype=g._dtype),
    lambda g, ans, dy, x: zeros_like(x),
)
defvjp(_relu, lambda g, ans, x: call(_relu_grad, (g, x), dtype=g._dtype))
defvjp(_abs, _abs_grad)
defvjp(_conj, lambda g, ans, x: conj(g))
defvjp(_identity, lambda g, ans, x: g)


def _call_sqrt_grad(y: Tensor, dy: Tensor) -> Tensor:
    return call(_sqrt_grad, (y, dy), dtype=dy._dtype)


# Piecewise-constant ops: round/floor/ceil have no gradient (None); sign's gradient is zeros.
_floor = defvjp(Primitive("floor", lambda x: _ns(x).floor(x), tf_name="Floor"), None)
_ceil = defvjp(Primitive("ceil", lambda x: _ns(x).ceil(x), tf_name="Ceil"), None)
_round = defvjp(Primitive("round", lambda x: _ns(x).round(x), tf_name="Round"), None)
_floor.kernels(_FLOATS)
_ceil.kernels(_FLOATS)
_round.kernels((*_SIGNED, "complex64", "complex128"))
_sign = defvjp(
    Primitive("sign", lambda x: _ns(x).sign(x), tf_name="Sign"), lambda g, ans, x: zeros_like(x)
)
_sign.kernels((*_SIGNED, "complex64", "complex128"))

# ---- complex parts ----------------------------------------------------------------------------

_real = Primitive("real", lambda z: _ns(z).real(z), tf_name="Real")
_imag = Primitive("imag", lambda z: _ns(z).imag(z), tf_name="Imag")


def _complex_kernel(re: Any, im: Any) -> Any:
    xp, backend = _ns(re), backend_of(re)
    target = backend.dtype(dt.complex128 if dt.dtype_of_array(re) is dt.float64 else dt.complex64)
    return xp.astype(re, target) + xp.astype(im, target) * 1j


_complex = Primitive("complex", _complex_kernel, tf_name="Complex", broadcasts=True)
defvjp(_real, lambda g, ans, z: complex(g, zeros_like(g)))
defvjp(_imag, lambda g, ans, z: complex(zeros_like(g), g))
defvjp(_complex, lambda g, ans, re, im: real(g), lambda g, ans, re, im: imag(g))

# ---- selection and casts ----------------------------------------------------------------------

_where = Primitive(
    "where", lambda c, x, y: _ns(x).where(c, x, y), tf_name="SelectV2", broadcasts=True
)
defvjp(
    _where,
    None,
    lambda g, ans, c, x, y: where(c, g, zeros_like(g)),
    lambda g, ans, c, x, y: where(c, zeros_like(g), g),
)


def _cast_kernel(x: Any, dtype: DType) -> Any:
    xp = _ns(x)
    if dt.dtype_of_array(x).is_complex and not dtype.is_complex:
        x = xp.real(x)  # TensorFlow keeps the real part; the array API forbids the direct cast
    return xp.astype(x, backend_of(x).dtype(dtype))


_cast = Primitive(
    "cast", _quiet(_cast_kernel), tf_name="Cast", sparse_rule=_sparse_cast
)  # NaN to int: no warning


def _cast_grad(g: Tensor, ans: Tensor, x: Tensor, dtype: DType) -> Tensor | None:
    # Only float/complex -> float/complex casts carry a gradient (TensorFlow's _CastGrad).
    if x._dtype.is_trainable and dtype.is_trainable:
        return cast(g, x._dtype)
    return None


defvjp(_cast, _cast_grad)

# ---- linear algebra and reductions ------------------------------------------------------------


def _matmul_kernel(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False) -> Any:
    xp = _ns(a)
    return xp.matmul(
        xp.matrix_transpose(a) if transpose_a else a, xp.matrix_transpose(b) if transpose_b else b
    )


_matmul = Primitive("matmul", _matmul_kernel, tf_name="MatMul").kernels(
    ("bfloat16", "half", "float", "double", "int32", "int64", "uint8", "uint16", "uint32")
    + ("uint64", "complex64", "complex128"),
    "a:T, b:T -> product:T; attr=transpose_a:bool,default=false; "
    "attr=transpose_b:bool,default=false",
)
_matmul.kernel.traits = "; attr=grad_a:bool,default=false; attr=grad_b:bool,default=false"


def _matmul_grad_a(
    g: Tensor,
    ans: Tensor,
    a: Tensor,
    b: Tensor,
    transpose_a: bool = False,
    transpose_b: bool = False,
) -> Tensor:
    if transpose_a:
        return matmul(conj(b), g, transpose_a=transpose_b, transpose_b=True)
    return matmul(g, conj(b), transpose_b=not transpose_b)


def _matmul_grad_b(
    g: Tensor,
    ans: Tensor,
    a: Tensor,
    b: Tensor,
    transpose_a: bool = False,
    transpose_b: bool = False,
) -> Tensor:
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


def _max_grad(
    g: Tensor, ans: Tensor, x: Tensor, axis: Any = None, keepdims: bool = False
) -> Tensor:
    # Ties share the gradient evenly (TensorFlow's _MinOrMaxGrad).
    kept = reshape(ans, _keepdims_shape(x, axis))
    chosen = cast(equal(kept, x), g._dtype)
    share = chosen / reduce_sum(chosen, axis=axis, keepdims=True)
    return share * _spread(g, x, axis, keepdims)


def _sum_kernel(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    # in the input's dtype, as TensorFlow (NumPy would widen small integers and wrap nothing)
    return _ns(x).sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _mean_kernel(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    xp = _ns(x)
    if not xp.isdtype(x.dtype, "integral"):
        return xp.mean(x, axis=axis, keepdims=keepdims)
    # TensorFlow's integer mean: a wide sum divided as C++ does (toward zero), in the input dtype
    wide = xp.uint64 if xp.isdtype(x.dtype, "unsigned integer") else xp.int64
    total = xp.sum(x, axis=axis, keepdims=keepdims, dtype=wide)
    shape = x.shape
    axes = range(len(shape)) if axis is None else axis
    count = max(int(np.prod([shape[a] for a in axes], dtype=np.int64)), 1)
    quotient = xp.abs(total) // xp.asarray(count, dtype=wide)
    return xp.astype(xp.where(total < 0, -quotient, quotient), x.dtype)


_sum = Primitive("reduce_sum", _sum_kernel, tf_name="Sum")
_mean = Primitive("reduce_mean", _mean_kernel, tf_name="Mean")
_REDUCTION = "input:T, reduction_indices:Tidx -> output:T; attr=keep_dims:bool,default=false"
_REDUCTION_TRAITS = "; attr=Tidx:type,default=DT_INT32,allowed=[DT_INT32, DT_INT64]"
_QUANTIZED = ("qint8", "quint8", "qint32")
for _primitive in (_sum, _mean):
    _primitive.kernels(
        ("float", "double", "int32", "uint8", "int16", "int8", "complex64", "int64", *_QUANTIZED)
        + ("bfloat16", "qint16", "quint16", "uint16", "complex128", "half", "uint32", "uint64"),
        _REDUCTION,
    )
    _primitive.kernel.traits = _REDUCTION_TRAITS
_max = Primitive(
    "reduce_max",
    lambda x, axis=None, keepdims=False: _ns(x).max(x, axis=axis, keepdims=keepdims),
    tf_name="Max",
)
defvjp(_sum, lambda g, ans, x, axis=None, keepdims=False: _spread(g, x, axis, keepdims))
defvjp(
    _mean,
    lambda g, ans, x, axis=None, keepdims=False: (
        _spread(g, x, axis, keepdims) / float(max(_count(x, axis), 1))
    ),
)
defvjp(_max, _max_grad)
_max.kernels(
    ("float", "double", "int32", "uint8", "int16", "int8", "int64", "bfloat16", "uint16", "half")
    + ("uint32", "uint64", *_QUANTIZED, "qint16", "quint16"),
    _REDUCTION,
)
_max.kernel.traits = _REDUCTION_TRAITS

_broadcast_to = Primitive(
    "broadcast_to",
    lambda x, shape: _ns(x).broadcast_to(x, shape),
    tf_name="BroadcastTo",
    broadcasts=True,
)
defvjp(_broadcast_to, lambda g, ans, x, shape: g)

# ---- shapes -----------------------------------------------------------------------------------

_reshape = Primitive("reshape", lambda x, shape: _ns(x).reshape(x, shape), tf_name="Reshape")
defvjp(_reshape, lambda g, ans, x, shape: reshape(g, np.shape(x._value)))

_transpose = Primitive(
    "transpose", lambda x, perm: _ns(x).permute_dims(x, perm), tf_name="Transpose"
)
defvjp(_transpose, lambda g, ans, x, perm: transpose(g, tuple(np.argsort(perm))))

_tile = Primitive("tile", lambda x, multiples: _ns(x).tile(x, multiples), tf_name="Tile")


def _tile_grad(g: Tensor, ans: Tensor, x: Tensor, multiples: tuple[int, ...]) -> Tensor:
    shape = np.shape(x._value)
    split = [n for pair in zip(multiples, shape, strict=True) for n in pair]
    return reduce_sum(reshape(g, split), axis=tuple(range(0, 2 * len(shape), 2)))


defvjp(_tile, _tile_grad)


def _take_kernel(x: Any, index: int, axis: int) -> Any:
    return x[(slice(None),) * axis + (index, ...)]


def _embed_kernel(g: Any, index: int, axis: int, size: int) -> Any:
    xp = _ns(g)
    out = xp.zeros((*g.shape[:axis], size, *g.shape[axis:]), dtype=g.dtype, device=_device(g))
    out[(slice(None),) * axis + (index, ...)] = g
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


_stack = Primitive(
    "stack", lambda *xs, axis=0: _ns(xs[0]).stack(xs, axis=axis), tf_name="Pack", variadic=True
)
defvjp(_stack, lambda i, g, ans, inputs, axis=0: _take_slice(g, i, axis % np.ndim(ans._value)))


def _concat_kernel(*xs: Any, axis: int = 0) -> Any:
    return _ns(xs[0]).concat(xs, axis=axis)


def _concat_grad(i: int, g: Tensor, ans: Tensor, inputs: Sequence[Tensor], axis: int = 0) -> Tensor:
    axis = axis % np.ndim(ans._value)
    start = sum(np.shape(t._value)[axis] for t in inputs[:i])
    stop = start + np.shape(inputs[i]._value)[axis]
    return _slice_axis(g, start, stop, axis)


_concat = Primitive("concat", _concat_kernel, tf_name="ConcatV2", variadic=True)
defvjp(_concat, _concat_grad)

_slice = Primitive(
    "slice",
    lambda x, start, stop, axis: x[(slice(None),) * axis + (slice(start, stop), ...)],
    tf_name="Slice",
)


def _pad_kernel(g: Any, start: int, size: int, axis: int) -> Any:
    """``g`` placed at ``start`` along ``axis`` of ``size`` zeros (the adjoint of a slice)."""
    xp = _ns(g)
    shape = list(g.shape)
    before, after = list(shape), list(shape)
    before[axis], after[axis] = start, size - start - shape[axis]
    zeros = [xp.zeros(tuple(s), dtype=g.dtype, device=_device(g)) for s in (before, after)]
    return xp.concat([zeros[0], g, zeros[1]], axis=axis)


_pad = Primitive("pad_axis", _pad_kernel, tf_name="Pad")
defvjp(
    _slice,
    lambda g, ans, x, start, stop, axis: call(
        _pad, (g,), {"start": start, "size": np.shape(x._value)[axis], "axis": axis}, dtype=g._dtype
    ),
)
defvjp(
    _pad,
    lambda g, ans, x, start, size, axis: _slice_axis(
        g, start, start + np.shape(x._value)[axis], axis
    ),
)


def _slice_axis(x: Tensor, start: int, stop: int, axis: int) -> Tensor:
    return call(_slice, (x,), {"start": start, "stop": stop, "axis": axis}, dtype=x._dtype)


def _scatter_add_kernel(g: Any, indices: Any, axis: int, size: int) -> Any:
    """The adjoint of gather: rows of ``g`` summed into ``size`` zeros at ``indices`` along ``axis``."""
    xp = _ns(g)
    index_rank = len(indices.shape)
    moved = (
        xp.moveaxis(g, tuple(range(axis, axis + index_rank)), tuple(range(index_rank)))
        if axis
        else g
    )
    rows = xp.reshape(moved, (-1, *moved.shape[index_rank:]))
    summed = backend_of(g).scatter_add(rows, xp.reshape(indices, (-1,)), size)
    return xp.moveaxis(summed, 0, axis) if axis else summed


def _gather_kernel(x: Any, indices: Any, axis: int) -> Any:
    xp = _ns(x)
    taken = xp.take(x, xp.reshape(indices, (-1,)), axis=axis)
    return xp.reshape(taken, (*x.shape[:axis], *indices.shape, *x.shape[axis + 1 :]))


_gather = Primitive("gather", _gather_kernel, tf_name="GatherV2")
_scatter_add = Primitive("scatter_add", _scatter_add_kernel, tf_name="UnsortedSegmentSum")


def _gather_grad(g: Tensor, ans: Tensor, x: Tensor, indices: Any, axis: int) -> Any:
    shape = np.shape(x._value)
    if axis != 0:
        return call(
            _scatter_add,
            (g,),
            {"indices": indices, "axis": axis, "size": shape[axis]},
            dtype=g._dtype,
        )
    # Along axis 0 the gradient is sparse, as TensorFlow's: the gathered rows at their indices.
    xp = _ns(indices)
    flat_indices = xp.astype(xp.reshape(indices, (-1,)), backend_of(indices).dtype(dt.int32))
    values = reshape(g, (flat_indices.shape[0], *shape[1:]))
    return IndexedSlices(
        values, Tensor(flat_indices, dt.int32), Tensor(np.asarray(shape, np.int32), dt.int32)
    )


def scatter_rows(values: Tensor, indices: Any, size: int) -> Tensor:
    """The dense tensor of ``size`` rows with ``values`` summed in at rows ``indices``."""
    return call(
        _scatter_add, (values,), {"indices": indices, "axis": 0, "size": size}, dtype=values._dtype
    )


defvjp(_gather, _gather_grad)
defvjp(_scatter_add, lambda g, ans, x, indices, axis, size: gather(g, indices, axis=axis))


def _getitem_kernel(x: Any, key: Any) -> Any:
    return x[key]


def _setitem_zeros_kernel(g: Any, key: Any, shape: tuple[int, ...]) -> Any:
    return backend_of(g).add_at(_ns(g).zeros(shape, dtype=g.dtype, device=_device(g)), key, g)


_getitem = Primitive("getitem", _getitem_kernel, tf_name="StridedSlice")
_setitem_zeros = Primitive("getitem_grad", _setitem_zeros_kernel, tf_name="StridedSliceGrad")
defvjp(
    _getitem,
    lambda g, ans, x, key: call(
        _setitem_zeros, (g,), {"key": key, "shape": np.shape(x._value)}, dtype=g._dtype
    ),
)
defvjp(
    _setitem_zeros, lambda g, ans, x, key, shape: call(_getitem, (g,), {"key": key}, dtype=g._dtype)
)


# ---- public ops -------------------------------------------------------------------------------


def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x + y``; ``y`` is converted with ``x``'s dtype as a hint (``tf.add(1, x)`` with float
    ``x`` is TensorFlow's InvalidArgumentError, ``tf.add(x, 1)`` is not)."""
    if getattr(x, "_dtype", None) is dt.string or isinstance(x, (str, bytes)):
        return _string_add(x, y)
    return _binary(_add, x, y, hinted=True)


def _string_add(x: Any, y: Any) -> Tensor:
    """``+`` of strings concatenates them elementwise (TensorFlow's Add op for tf.string)."""
    x = _tensor(x)
    y = y if isinstance(y, Tensor) else _hinted(y, x)
    if y._dtype is not dt.string:
        raise _dtype_mismatch("Add", 1, dt.string, y._dtype)
    joined = np.frompyfunc(operator.add, 2, 1)(x._value, y._value)
    return Tensor(np.asarray(joined, dtype=object), dt.string)


def subtract(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary(_sub, x, y)


def multiply(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary(_mul, x, y)


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``tf.divide``: a non-tensor ``x`` is converted to ``y``'s dtype, then ``x / y``."""
    if not (isinstance(x, Tensor) or hasattr(x, "_as_tensor")):
        if isinstance(y, Tensor) or hasattr(y, "_as_tensor"):
            x = convert_beside(x, y.dtype, y._value)
        else:
            x = convert(x)
    return truediv(x, y)


#: TensorFlow's ``_TRUEDIV_TABLE`` keys, in its order (its error message lists them).
_TRUEDIV_NAMES = (
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "bfloat16",
    "float16", "float32", "float64", "complex64", "complex128",
)  # fmt: skip
#: The dtype ``truediv`` computes integers in (TensorFlow's ``_TRUEDIV_TABLE``); None: as is.
_TRUEDIV_DTYPES = {
    "uint8": dt.float32,
    "int8": dt.float32,
    "int16": dt.float32,
    "int32": dt.float64,
    "int64": dt.float64,
    "float16": None,
    "bfloat16": None,
    "float32": None,
    "float64": None,
    "complex64": None,
    "complex128": None,
}


def truediv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x / y`` (``tf.math.truediv``): ``y`` is converted with ``x``'s dtype as a hint, both must
    then agree (a TypeError otherwise), and integers are divided as floats."""
    if type(x) is Tensor and type(y) is Tensor and x._dtype is y._dtype and x._dtype.is_floating:
        return _binary(_div, x, y)
    x = _tensor(x)
    y = y if type(y) is Tensor else _hinted(y, x)
    if x._dtype is not y._dtype:
        raise TypeError(f"`x` and `y` must have the same dtype, got {x._dtype!r} != {y._dtype!r}.")
    if x._dtype.name not in _TRUEDIV_DTYPES:
        valid = ", ".join(f"tf.{name}" for name in _TRUEDIV_NAMES)
        raise TypeError(f"Invalid dtype {x._dtype!r} in __truediv__. Expected one of {{{valid}}}.")
    target = _TRUEDIV_DTYPES[x._dtype.name]
    if target is not None:
        x, y = cast(x, target), cast(y, target)
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
    if not x._dtype.is_complex:  # complex inputs are TensorFlow's ComplexAbs
        _abs.kernel.check(x._dtype)
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
    re, im = _tensor(real), _tensor(imag)
    if re._dtype is not im._dtype or re._dtype not in (dt.float32, dt.float64):
        raise TypeError(
            f"The `real` and `imag` components have incorrect types: {re._dtype.name} "
            f"{im._dtype.name}. They must be consistent, and one of [tf.float32, tf.float64]"
        )
    if type(re._value) is not type(im._value):
        check_same_device("Complex", (re, im))
    dtype = dt.complex128 if re._dtype is dt.float64 else dt.complex64
    return call(_complex, (re, im), dtype=dtype)


def identity(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The same value; under ``tf.device(d)`` a copy on ``d`` (the one way to move a tensor)."""
    x = _tensor(input)
    if device_of(x._value) != state.device:
        return call(_copy, (x,), {"device": state.device}, dtype=x._dtype)
    return call(_identity, (x,), dtype=x._dtype)


def _copy_kernel(x: Any, device: str) -> Any:
    from reference_impl._backend import backend_for_device

    host = np.asarray(backend_of(x).to_numpy(x))
    return backend_for_device(device).asarray(host, device)


_copy = Primitive("copy", _copy_kernel, tf_name="Identity")
defvjp(
    _copy,
    lambda g, ans, x, device: call(_copy, (g,), {"device": device_of(x._value)}, dtype=g._dtype),
)


def stop_gradient(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The same value as a new tensor that no tape has seen: gradients stop here. A variable is
    read without being watched (TensorFlow: ``tf.stop_gradient(v)`` leaves watched_variables)."""
    if hasattr(input, "assign"):
        return Tensor(input._value, input._dtype)
    x = _tensor(input)
    return Tensor(x._value, x._dtype)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor | IndexedSlices:
    dtype = as_dtype(dtype)
    if isinstance(x, IndexedSlices):  # TensorFlow casts the values and keeps the gradient sparse
        return IndexedSlices(cast(x.values, dtype), x.indices, x.dense_shape)
    x = _tensor(x)
    if x._dtype is dtype:
        return x
    if x._dtype.is_complex and dtype.is_floating:
        logger.warning(
            f"You are casting an input of type {x._dtype.name} to an incompatible dtype "
            f"{dtype.name}.  This will discard the imaginary part and may not be what you intended."
        )
    return call(_cast, (x,), {"dtype": dtype}, dtype=dtype)


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    condition = _tensor(condition)
    if x is None and y is None:
        xp = _ns(condition._value)
        return Tensor(
            xp.astype(
                xp.stack(xp.nonzero(condition._value), axis=1),
                backend_of(condition._value).dtype(dt.int64),
            ),
            dt.int64,
        )
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = _matching("SelectV2", (x, y), first_index=1)
    if condition._dtype is not dt.bool_:
        raise _dtype_mismatch("SelectV2", 0, dt.bool_, condition._dtype)
    try:
        return call(_where, (condition, x, y), dtype=x._dtype)
    except ValueError as error:
        shapes = [_dims(np.shape(t._value)) for t in (condition, x, y)]
        message = "condition {}, then {}, and else {} must be broadcastable".format(*shapes)
        raise _kernel_error("SelectV2", message) from error


#: Ordering comparisons have no kernels for bool, complex or string.
_ORDER_TYPES = ("float", "double", "int32", "uint8", "int16", "int8", "int64", "bfloat16")
_ORDER_KERNELS = {
    op: KernelTypes(op, (*_ORDER_TYPES, "uint16", "half", "uint32", "uint64"), "x:T, y:T -> z:bool")
    for op in ("Greater", "GreaterEqual", "Less", "LessEqual")
}


def _compare(
    kernel: Callable[[Any, Any], Any], op: str, x: Any, y: Any, shapes_must_agree: bool = True
) -> Tensor:
    given = (x, y)
    x, y = _binary_operands(x, y, op)
    order = _ORDER_KERNELS.get(op)
    if order is not None and x._dtype not in order.dtypes:
        order.check(x._dtype, _error_name(given))
    try:
        return Tensor(kernel(x._value, y._value), dt.bool_)  # comparisons are not differentiable
    except ValueError:
        if shapes_must_agree:
            raise _incompatible(op, x, y, _error_name(given)) from None
        # ``==``/``!=`` pass incompatible_shape_error=False: unequal shapes are a scalar answer
        return Tensor(np.bool_(kernel is operator.ne), dt.bool_)


def greater(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(operator.gt, "Greater", x, y)


def greater_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(operator.ge, "GreaterEqual", x, y)


def less(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(operator.lt, "Less", x, y)


def less_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(operator.le, "LessEqual", x, y)


def equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(operator.eq, "Equal", x, y)


def not_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _compare(operator.ne, "NotEqual", x, y)


def logical_not(x: Any, name: str | None = None) -> Tensor:
    x = _tensor(x)
    if x._dtype is not dt.bool_:
        raise _dtype_mismatch("LogicalNot", 0, dt.bool_, x._dtype)
    return Tensor(_ns(x._value).logical_not(x._value), dt.bool_)


def _logical(kernel: Callable[[Any, Any], Any], op: str, x: Any, y: Any) -> Tensor:
    x, y = _binary_operands(x, y, op)
    if x._dtype is not dt.bool_:
        raise _dtype_mismatch(op, 0, dt.bool_, x._dtype)
    try:
        return Tensor(kernel(x._value, y._value), dt.bool_)  # not differentiable
    except ValueError:
        raise _incompatible(op, x, y) from None


def logical_and(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _logical(operator.and_, "LogicalAnd", x, y)


def logical_or(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _logical(operator.or_, "LogicalOr", x, y)


def logical_xor(x: Any, y: Any, name: str | None = None) -> Tensor:
    """TensorFlow composes it: (x | y) & ~(x & y)."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)))


_BITWISE_TYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_bitwise = {
    name: KernelTypes(op, _BITWISE_TYPES, "x:T, y:T -> z:T", "; is_commutative=true")
    for name, op in (("and", "BitwiseAnd"), ("or", "BitwiseOr"), ("xor", "BitwiseXor"))
}
_invert = KernelTypes("Invert", _BITWISE_TYPES)


def _bitwise_operator(name: str, logical: Callable[..., Tensor]) -> Callable[[Any, Any], Tensor]:
    """``&``, ``|``, ``^``: logical for bool tensors, bitwise for integers (TensorFlow's rule)."""
    kernel = {"and": operator.and_, "or": operator.or_, "xor": operator.xor}[name]

    def apply(x: Any, y: Any) -> Tensor:
        x, y = _binary_operands(x, y, _bitwise[name].op)
        if x._dtype is dt.bool_:
            return logical(x, y)
        _bitwise[name].check(x._dtype)
        return Tensor(kernel(x._value, y._value), x._dtype)

    return apply


def _invert_operator(x: Any) -> Tensor:
    x = _tensor(x)
    if x._dtype is dt.bool_:
        return logical_not(x)
    _invert.check(x._dtype)
    return Tensor(operator.invert(x._value), x._dtype)


def argmax(
    input: Any, axis: int | None = None, output_type: Any = dt.int64, name: str | None = None
) -> Tensor:  # noqa: A002,E501
    x = _tensor(input)
    dtype = as_dtype(output_type)
    xp = _ns(x._value)
    index = xp.argmax(x._value, axis=0 if axis is None else axis)
    return Tensor(xp.astype(xp.asarray(index), backend_of(x._value).dtype(dtype)), dtype)


def matmul(
    a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False, name: str | None = None
) -> Tensor:
    a, b = _binary_operands(a, b, "MatMul", hinted=True)
    _matmul.kernel.check(a._dtype)
    kwargs = (
        {"transpose_a": transpose_a, "transpose_b": transpose_b}
        if transpose_a or transpose_b
        else None
    )
    try:
        return call(_matmul, (a, b), kwargs, dtype=a._dtype)
    except ValueError:
        shapes = f"In[0]: {_dims(np.shape(a._value))}, In[1]: {_dims(np.shape(b._value))}"
        if np.ndim(a._value) > 2 or np.ndim(b._value) > 2:  # oneDNN's batched kernel
            flags = f"{int(transpose_a)} {int(transpose_b)}"
            message = f"Matrix size-incompatible: {shapes} {flags}"
            raise _kernel_error("__MklBatchMatMulV2", message, "BatchMatMulV2") from None
        message = f"Matrix size-incompatible: {shapes}"
        raise _kernel_error("__MklMatMul", message, "MatMul") from None


def _axes(axis: Any) -> tuple[int, ...] | None:
    if axis is None:
        return None
    if isinstance(axis, Tensor):
        axis = axis.numpy().tolist()  # a host copy: device arrays need not have tolist
    return tuple(int(a) for a in np.atleast_1d(axis))


def _reduce(primitive: Primitive, x: Any, axis: Any, keepdims: bool) -> Tensor:
    # TensorFlow's kernel errors end with " name: " only when its inputs were tensors already
    # (values it converts go through its slow path, whose errors do not)
    name = "" if _fast_path_operand(x) else None
    x = _tensor(x)
    if primitive.kernel is not None:
        primitive.kernel.check(x._dtype)
    axes = _axes(axis)
    rank = np.ndim(x._value)
    for a in axes or ():
        if not -rank <= a < rank:  # a scalar has no axis 0 either
            message = f"Invalid reduction dimension ({a} for input with {rank} dimension(s)"
            raise _kernel_error(primitive.tf_name, message, name=name)
    kwargs = {"axis": axes, "keepdims": bool(keepdims)}
    return call(primitive, (x,), kwargs, dtype=x._dtype)


def reduce_sum(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    return _reduce(_sum, input_tensor, axis, keepdims)


def reduce_mean(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    return _reduce(_mean, input_tensor, axis, keepdims)


def reduce_max(
    input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    return _reduce(_max, input_tensor, axis, keepdims)


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    shape = tuple(int(n) for n in shape)
    if np.shape(x._value) == shape:
        return x
    try:
        return call(_broadcast_to, (x,), {"shape": shape}, dtype=x._dtype)
    except ValueError:
        message = f"Incompatible shapes: {_dims(np.shape(x._value))} vs. {_dims(shape)}"
        raise _kernel_error("BroadcastTo", message, name=None) from None


def _shape_tuple(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, Tensor):
        shape = shape.numpy().tolist()
    return tuple(int(n) for n in np.atleast_1d(shape)) if np.ndim(shape) or shape != () else ()


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    x = _tensor(tensor)
    shape = _shape_tuple(shape) if not isinstance(shape, tuple) else shape
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1:
        message = f"Only one input size may be -1, not both {unknown[0]} and {unknown[1]}"
        raise _kernel_error("Reshape", message, name=None)
    try:
        return call(_reshape, (x,), {"shape": shape}, dtype=x._dtype)
    except ValueError:
        message = (
            f"Input to reshape is a tensor with {np.size(x._value)} values, but the requested "
            f"shape has {int(np.prod(shape))}"
        )
        raise _kernel_error("Reshape", message, name=None) from None


def transpose(a: Any, perm: Any = None, conjugate: bool = False, name: str | None = None) -> Tensor:
    x = _tensor(a)
    rank = np.ndim(x._value)
    perm = tuple(range(rank))[::-1] if perm is None else tuple(int(p) for p in perm)
    out = call(_transpose, (x,), {"perm": perm}, dtype=x._dtype)
    return conj(out) if conjugate else out


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    multiples = _shape_tuple(multiples)
    if len(multiples) != np.ndim(x._value):  # NumPy would pad them with ones; TensorFlow refuses
        message = (
            f"Expected multiples argument to be a vector of length {np.ndim(x._value)} but got "
            f"length {len(multiples)}"
        )
        raise _kernel_error("Tile", message, name=None)
    return call(_tile, (x,), {"multiples": multiples}, dtype=x._dtype)


def stack(values: Sequence[Any], axis: int = 0, name: str | None = None) -> Tensor:
    if axis == 0:  # TensorFlow first converts the whole list: tf.stack([1, 2.5]) is float32
        try:
            return convert(list(values))
        except (TypeError, ValueError, errors.InvalidArgumentError):
            pass  # then as one Pack op, whose errors name it
    tensors = _matching("Pack", values, "stack" if name is None else name)
    return call(_stack, tuple(tensors), {"axis": axis}, dtype=tensors[0]._dtype)


def stack_converted(values: Sequence[Any], dtype: DType) -> Tensor:
    """A list holding tensors as one tensor (TensorFlow's autopacking in ``convert_to_tensor``):
    the other values are converted to ``dtype``, the first tensor's."""
    like = next(v for v in values if isinstance(v, Tensor) or hasattr(v, "_as_tensor"))._value
    tensors = [convert_beside(v, dtype, like) for v in values]
    _check_dtypes("Pack", tensors, "packed")
    return call(_stack, tuple(tensors), {"axis": 0}, dtype=dtype)


def unstack(value: Any, axis: int = 0, name: str | None = None) -> list[Tensor]:
    x = _tensor(value)
    rank = np.ndim(x._value)
    if not -rank <= axis < rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank}, {rank})")
    axis = axis % rank
    return [_take_slice(x, i, axis) for i in range(np.shape(x._value)[axis])]


def concat(values: Sequence[Any], axis: int, name: str | None = None) -> Tensor:
    name = "concat" if name is None else name
    tensors = tuple(_matching("ConcatV2", values, name))
    converted = not all(_fast_path_operand(v) for v in values)  # see _reduce
    _check_concat_shapes(tensors, int(axis), None if converted else name)
    return call(_concat, tensors, {"axis": int(axis)}, dtype=tensors[0]._dtype)


def _check_concat_shapes(tensors: Sequence[Tensor], axis: int, name: str | None) -> None:
    """TensorFlow's ConcatOp errors: ranks must match, and every dimension but ``axis``."""
    first = np.shape(tensors[0]._value)
    kernel = f"ConcatV2_N_{len(tensors)}"
    for index, tensor in enumerate(tensors[1:], 1):
        shape = np.shape(tensor._value)
        pair = f"shape[0] = {_dims(first)} vs. shape[{index}] = {_dims(shape)}"
        if len(shape) != len(first):
            message = f"ConcatOp : Ranks of all input tensors should match: {pair}"
            raise _kernel_error(kernel, message, "ConcatV2", name)
        for dim, (n, m) in enumerate(zip(first, shape, strict=True)):
            if n != m and dim != axis % max(len(first), 1):
                message = f"ConcatOp : Dimension {dim} in both shapes must be equal: {pair}"
                raise _kernel_error(kernel, message, "ConcatV2", name)


def gather(
    params: Any, indices: Any, axis: int = 0, batch_dims: int = 0, name: str | None = None
) -> Tensor:
    x = _tensor(params)
    index_array = indices._value if isinstance(indices, Tensor) else indices
    if not hasattr(index_array, "shape") or isinstance(index_array, (np.ndarray, np.generic)):
        index_array = backend_of(x._value).asarray(np.asarray(index_array), device_of(x._value))
    if np.ndim(x._value) == 0:
        raise _kernel_error("GatherV2", "params must be at least 1 dimensional", name=None)
    axis = int(axis) % np.ndim(x._value)
    _check_gather_indices(index_array, np.shape(x._value)[axis])
    return call(_gather, (x,), {"indices": index_array, "axis": axis}, dtype=x._dtype)


def _check_gather_indices(indices: Any, size: int) -> None:
    """TensorFlow's GatherV2 error for an index outside ``[0, size)`` (negative ones too)."""
    host = np.asarray(backend_of(indices).to_numpy(indices))
    bad = np.argwhere((host < 0) | (host >= size))
    if bad.size:
        position = tuple(int(i) for i in bad[0])
        where = ",".join(str(i) for i in position)
        message = f"indices[{where}] = {host[position]} is not in [0, {size})"
        raise _kernel_error("GatherV2", message, name=None)


def getitem(x: Tensor, key: Any) -> Tensor:
    if isinstance(key, Tensor):
        # a scalar integer tensor indexes as the Python int it holds (on any backend)
        scalar = key._dtype.is_integer and np.ndim(key._value) == 0
        key = int(key.numpy()) if scalar else key._value
    elif isinstance(key, list):  # TensorFlow reads a list as a tuple: x[[0, 1]] is x[0, 1]
        key = tuple(key)
    parts = key if isinstance(key, tuple) else (key,)
    basic = all(k is None or (isinstance(k, (int, slice)) and not isinstance(k, bool)) for k in parts)
    if basic:  # x[1:] is x[1:, ...]: spelled out, as the Python array API requires it
        key = (*parts, Ellipsis)
    try:
        return call(_getitem, (x,), {"key": key}, dtype=x._dtype)
    except IndexError:
        _raise_index_error(x, key)
        raise


def _raise_index_error(x: Tensor, key: Any) -> None:
    """TensorFlow's StridedSlice error for an integer index out of bounds (with its own
    arithmetic: -5 on a dimension of 2 is reported as -3), for int/slice keys, integer tensors,
    ``...`` and ``None`` (a new axis takes no input dimension)."""
    keys = _index_keys(key if isinstance(key, tuple) else (key,), np.ndim(x._value))
    if keys is None:
        return
    shape = np.shape(x._value)
    used = [k for k in keys if k is not None]
    if len(used) > len(shape):
        message = f"Index out of range using input dim {len(shape)}; input has only {len(shape)} dims"
        raise _kernel_error("StridedSlice", message, name="strided_slice/") from None
    for dim, k in enumerate(used):
        if isinstance(k, slice):
            continue
        index = k + shape[dim] if k < 0 else k
        if not 0 <= index < shape[dim]:
            message = f"slice index {index} of dimension {dim} out of bounds."
            raise _kernel_error("StridedSlice", message, name="strided_slice/") from None


def _index_keys(keys: tuple[Any, ...], rank: int) -> list[Any] | None:
    """``keys`` as ints, slices and ``None``, with ``...`` spelled out as full slices; ``None``
    when some key is of another kind (a list, a mask), whose errors are NumPy's to report."""
    plain: list[Any] = []
    for k in keys:
        if isinstance(k, (np.ndarray, np.generic)) and k.ndim == 0 and k.dtype.kind in "iu":
            k = int(k)
        if not (isinstance(k, (int, slice)) or k is None or k is Ellipsis) or isinstance(k, bool):
            return None
        plain.append(k)
    if plain.count(Ellipsis) > 1:
        message = "Multiple ellipses in slice spec not allowed"
        raise _kernel_error("StridedSlice", message, name="strided_slice/") from None
    if Ellipsis in plain:
        at = plain.index(Ellipsis)
        filled = rank - sum(1 for k in plain if k is not None and k is not Ellipsis)
        plain[at : at + 1] = [slice(None)] * max(filled, 0)
    return plain


_softmax_kernel = KernelTypes(
    "Softmax", ("half", "bfloat16", "float", "double"), signature="logits:T -> softmax:T"
)


def softmax(logits: Any, axis: int = -1, name: str | None = None) -> Tensor:
    x = _tensor(logits)
    _softmax_kernel.check(x._dtype)  # composed of other ops here; one op in TensorFlow
    shifted = x - stop_gradient(reduce_max(x, axis=axis, keepdims=True))
    e = exp(shifted)
    return e / reduce_sum(e, axis=axis, keepdims=True)


def norm(
    tensor: Any,
    ord: str = "euclidean",
    axis: Any = None,
    keepdims: bool | None = None,  # noqa: A002
    name: str | None = None,
) -> Tensor:
    """The Euclidean norm, as TensorFlow computes it: sqrt(sum(x * conj(x)))."""
    x = _tensor(tensor)
    if ord not in ("euclidean", 2, 2.0):
        raise ValueError(f"'ord' must be 'euclidean' or 2 in reference_impl, got {ord!r}")
    # TensorFlow's formula: a complex input gives a complex norm (with zero imaginary part)
    return sqrt(reduce_sum(x * conj(x), axis=axis, keepdims=bool(keepdims)))


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    a, b = _tensor(a), _tensor(b)  # each converted on its own; MatMul checks that they agree
    a_shape, b_shape = list(np.shape(a._value)), list(np.shape(b._value))
    if isinstance(axes, int):
        a_axes = list(range(len(a_shape) - axes, len(a_shape)))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = ([int(v) for v in np.atleast_1d(ax)] for ax in axes)
    a_free = [i for i in range(len(a_shape)) if i not in a_axes]
    b_free = [i for i in range(len(b_shape)) if i not in b_axes]
    # each operand is flattened by its own contracted sizes, so a mismatch is MatMul's error
    a_size = int(np.prod([a_shape[i] for i in a_axes], dtype=np.int64))
    b_size = int(np.prod([b_shape[i] for i in b_axes], dtype=np.int64))
    a2 = reshape(transpose(a, a_free + a_axes), (-1, a_size))
    b2 = reshape(transpose(b, b_axes + b_free), (b_size, -1))
    out_shape = tuple(a_shape[i] for i in a_free) + tuple(b_shape[i] for i in b_free)
    return reshape(matmul(a2, b2), out_shape)


# ---- creation -----------------------------------------------------------------------------------


def _filled(value: Any, shape: tuple[int, ...], dtype: DType, like: Any = None) -> Tensor:
    """A new tensor of ``value`` beside ``like``'s array (or on the current device)."""
    if like is None or isinstance(like, (np.ndarray, np.generic)):
        host = np.full(shape, value, dtype=dtype._np)
        return Tensor(host if like is not None else place(host), dtype)
    xp, backend = _ns(like), backend_of(like)
    return Tensor(xp.full(shape, value, dtype=backend.dtype(dtype), device=_device(like)), dtype)


def zeros_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    dtype = as_dtype(dtype) if dtype is not None else x._dtype
    if dtype is dt.string:
        return Tensor(np.full(np.shape(x._value), b"", dtype=object), dt.string)
    return _filled(0, tuple(x._value.shape), dtype, like=x._value)


def ones_like(input: Any, dtype: Any = None, name: str | None = None) -> Tensor:  # noqa: A002
    x = _tensor(input)
    dtype = as_dtype(dtype) if dtype is not None else x._dtype
    value = x._value
    if isinstance(value, (np.ndarray, np.generic)) and not value.shape:
        # scalar seeds are the hot path of every scalar gradient
        return Tensor(
            _scalar_ones.get(dtype) or _scalar_ones.setdefault(dtype, dtype._np.type(1)), dtype
        )
    return _filled(1, tuple(value.shape), dtype, like=value)


_scalar_ones: dict[DType, Any] = {}


def zeros(shape: Any, dtype: Any = dt.float32, name: str | None = None) -> Tensor:
    return _filled(0, _shape_tuple(shape), as_dtype(dtype))


def ones(shape: Any, dtype: Any = dt.float32, name: str | None = None) -> Tensor:
    return _filled(1, _shape_tuple(shape), as_dtype(dtype))


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    v = _tensor(value)
    return Tensor(place(np.full(_shape_tuple(dims), v.numpy(), dtype=v._dtype._np)), v._dtype)


def range_(
    start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str | None = None
) -> Tensor:
    """``tf.range``: each bound converted on its own (Python floats are float32), the widest of
    their dtypes (int32 < int64 < float16 < bfloat16 < float32 < float64) unless ``dtype``."""
    if limit is None:
        start, limit = 0, start
    requested = as_dtype(dtype) if dtype is not None else None
    bounds = [
        _tensor(v) if requested is None else convert(v, requested) for v in (start, limit, delta)
    ]
    if requested is None:
        order = [d for d in _RANGE_DTYPES if d is not None]
        for bound in bounds:
            if bound._dtype not in order:
                raise TypeError(f"tf.range got a bound of dtype {bound._dtype!r}; valid: {order}")
        requested = max((b._dtype for b in bounds), key=order.index)
    low, high, step = (np.asarray(b.numpy()).astype(requested._np) for b in bounds)
    if step == 0:
        raise _kernel_error("Range", f"Requires delta != 0: {step:g}", name="")
    return Tensor(place(np.arange(low, high, step, dtype=requested._np)), requested)


_RANGE_DTYPES = (dt.int32, dt.int64, dt.float16, dt.bfloat16, dt.float32, dt.float64)


def shape(input: Any, out_type: Any = dt.int32, name: str | None = None) -> Tensor:  # noqa: A002
    dtype = as_dtype(out_type)
    return Tensor(np.asarray(np.shape(_tensor(input)._value), dtype=dtype._np), dtype)


def size(input: Any, out_type: Any = dt.int32, name: str | None = None) -> Tensor:  # noqa: A002
    dtype = as_dtype(out_type)
    return Tensor(np.asarray(np.size(_tensor(input)._value), dtype=dtype._np), dtype)


# ---- eager control flow -------------------------------------------------------------------------


def cond(
    pred: Any,
    true_fn: Callable[[], Any] | None = None,
    false_fn: Callable[[], Any] | None = None,
    name: str | None = None,
) -> Any:
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


# ---- operators ------------------------------------------------------------------------------------


def _reflected(fn: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
    """``other <op> self`` with a non-tensor ``other``: converted to ``self``'s dtype first
    (TensorFlow's ``r_binary_op_wrapper``), so ``2 * v`` and ``1 / v`` are float for a float ``v``."""

    def reflected(self: Any, other: Any) -> Tensor:
        tensor = self if type(self) is Tensor else self._as_tensor()
        return fn(_like(other, tensor), tensor)

    return reflected


def _eq(self: Any, other: Any) -> Any:
    if other is None:
        return False
    return _compare(operator.eq, "Equal", self, other, shapes_must_agree=False)


def _ne(self: Any, other: Any) -> Any:
    if other is None:
        return True
    return _compare(operator.ne, "NotEqual", self, other, shapes_must_agree=False)


def variable_eq(self: Any, other: Any) -> Any:
    """A variable's ``==``: as a tensor's, but ``None`` is converted (TensorFlow's ValueError)."""
    return _compare(operator.eq, "Equal", self, other, shapes_must_agree=False)


def variable_ne(self: Any, other: Any) -> Any:
    return _compare(operator.ne, "NotEqual", self, other, shapes_must_agree=False)


OPERATORS: dict[str, Callable[..., Any]] = {
    "__add__": add,
    "__radd__": _reflected(add),
    "__sub__": subtract,
    "__rsub__": _reflected(subtract),
    "__mul__": multiply,
    "__rmul__": _reflected(multiply),
    "__truediv__": truediv,
    "__mod__": lambda self, other: sys.modules["reference_impl._more_ops"].floormod(self, other),
    "__rmod__": lambda self, other: sys.modules["reference_impl._more_ops"].floormod(other, self),
    "__rtruediv__": _reflected(truediv),
    "__pow__": pow,
    "__rpow__": _reflected(pow),
    "__matmul__": matmul,
    "__rmatmul__": _reflected(matmul),
    "__and__": _bitwise_operator("and", logical_and),
    "__rand__": _reflected(_bitwise_operator("and", logical_and)),
    "__or__": _bitwise_operator("or", logical_or),
    "__ror__": _reflected(_bitwise_operator("or", logical_or)),
    "__xor__": _bitwise_operator("xor", logical_xor),
    "__rxor__": _reflected(_bitwise_operator("xor", logical_xor)),
    "__invert__": _invert_operator,
    "__neg__": negative,
    "__abs__": abs,
    "__lt__": less,
    "__le__": less_equal,
    "__gt__": greater,
    "__ge__": greater_equal,
    "__eq__": _eq,
    "__ne__": _ne,
    "__getitem__": lambda self, key: getitem(_tensor(self), key),
}


def install_operators(cls: type) -> None:
    """Give ``cls`` (Tensor, Variable) TensorFlow's arithmetic and comparison operators."""
    for name, fn in OPERATORS.items():
        setattr(cls, name, fn)


install_operators(Tensor)
_core._ops = sys.modules[__name__]
