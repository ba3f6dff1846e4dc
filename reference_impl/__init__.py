"""A small, readable reverse-mode tape with TensorFlow's public names.

``import reference_impl as tf`` runs ``tf.GradientTape`` programs unchanged and gives the values,
``None``s, exception types and messages, and logged warnings that TensorFlow 2.21 gives (see
``shared/spec/tf_gradient_tape.md``). Arrays live on NumPy (CPU).

>>> import reference_impl as tf
>>> x = tf.Variable(3.0)
>>> with tf.GradientTape() as outer:
...     with tf.GradientTape() as inner:
...         y = x * x
...     dy = inner.gradient(y, x)
>>> float(dy), float(outer.gradient(dy, x))
(6.0, 2.0)
"""

from __future__ import annotations

import contextlib
import sys
import types
import warnings
from collections.abc import Iterator
from typing import Any

from reference_impl import _dtypes, _ops, errors, nest
from reference_impl._backend import DeviceMismatchError, available_devices, backend_for_device
from reference_impl._core import (
    IndexedSlices,
    Tensor,
    TensorShape,
    _holds_tensor,
    convert,
    place,
    state,
    to_array,
)
from reference_impl._custom_gradient import custom_gradient
from reference_impl._dtypes import (
    DType,
    as_dtype,
    bfloat16,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    string,
    uint8,
)
from reference_impl._gradient_tape import GradientTape, UnconnectedGradients
from reference_impl._ops import (
    abs,
    add,
    argmax,
    broadcast_to,
    cast,
    ceil,
    complex,
    concat,
    cond,
    conj,
    cos,
    divide,
    equal,
    exp,
    fill,
    floor,
    gather,
    greater,
    greater_equal,
    identity,
    imag,
    less,
    less_equal,
    log,
    logical_and,
    logical_not,
    logical_or,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    norm,
    not_equal,
    ones,
    ones_like,
    pow,
    real,
    reciprocal,
    reduce_max,
    reduce_mean,
    reduce_sum,
    relu,
    reshape,
    round,
    shape,
    sigmoid,
    sign,
    sin,
    size,
    softmax,
    sqrt,
    square,
    stack,
    stop_gradient,
    subtract,
    tanh,
    tensordot,
    tile,
    transpose,
    unstack,
    where,
    while_loop,
    zeros,
    zeros_like,
)
from reference_impl._variables import Variable

__version__ = "0.1.0"
_float32 = float32.as_numpy_dtype

# NumPy warns about inf/nan arithmetic that TensorFlow's kernels do silently (0 * inf in a
# backward pass, exp overflow): silence it for this package's own kernels only.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"reference_impl(\.|$)")

bool = _dtypes.bool_  # noqa: A001 - TensorFlow's name for the dtype
range = _ops.range_  # noqa: A001 - TensorFlow's name
newaxis = None


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    """``tf.constant``: a tensor from a Python or NumPy value (float32 for Python floats)."""
    if type(value) is float and dtype is None and shape is None and state.device == "CPU:0":
        return Tensor(_float32(value), float32)  # the common case, without NumPy's array machinery
    import numpy as np

    if is_tensor(value) or (isinstance(value, (list, tuple)) and _holds_tensor(value)):
        tensor = convert(value)  # reads a variable; packs a list that holds tensors
        if dtype is not None and as_dtype(dtype) is not tensor.dtype and isinstance(value, Tensor):
            raise TypeError(
                f"Expected tensor {tensor.numpy()} with dtype {as_dtype(dtype)!r}, but got dtype "
                f"{tensor.dtype!r}."
            )
        array, resolved = np.asarray(tensor.numpy()), tensor.dtype
        if dtype is not None and as_dtype(dtype) is not resolved:  # a variable's value is cast
            resolved = as_dtype(dtype)
            array = array.astype(resolved._np)
    else:
        array, resolved = to_array(value, dtype)
    if shape is not None:
        wanted = int(np.prod(tuple(shape), dtype=np.int64))
        if array.size == 1:
            array = np.broadcast_to(array, tuple(shape)).copy()
        elif array.size == wanted:
            array = np.reshape(array, tuple(shape))
        else:
            raise TypeError(
                f"Eager execution of tf.constant with unsupported shape. Tensor {array} (converted "
                f"from {value!r}) has {array.size} elements, but got `shape` {shape!r} with "
                f"{wanted} elements)."
            )
    return Tensor(place(array), resolved)


def convert_to_tensor(value: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    """``tf.convert_to_tensor``: tensors pass through, variables are read, values are wrapped."""
    return convert(value, as_dtype(dtype) if dtype is not None else None)


def is_tensor(value: Any) -> bool:
    return isinstance(value, (Tensor, Variable))


# ---- devices ------------------------------------------------------------------------------------


def _canonical_device(name: str) -> str:
    """ "CPU:0", "/device:GPU:0", "gpu:1", "STRICT:device1" -> the canonical name, checked."""
    text = (name or "CPU:0").split("device:")[-1].strip("/")
    kind, _, index = text.partition(":")
    kind = kind.upper()
    canonical = f"{kind}:{index or '0'}" if kind != "STRICT" else f"STRICT:{index or 'CPU_DEVICE'}"
    if canonical == "CPU:0":
        return canonical
    backend_for_device(canonical)  # raises a clear error naming what is missing
    return canonical


@contextlib.contextmanager
def device(device_name: str) -> Iterator[None]:
    """``tf.device``: place new tensors on ``device_name`` inside the block."""
    previous = state.device
    state.device = _canonical_device(device_name)
    try:
        yield
    finally:
        state.device = previous


# ---- TensorFlow's submodules --------------------------------------------------------------------


def _module(name: str, **members: Any) -> types.ModuleType:
    module = types.ModuleType(f"{__name__}.{name}")
    module.__dict__.update(members)
    return module


math = _module(
    "math",
    abs=abs,
    add=add,
    argmax=argmax,
    ceil=ceil,
    conj=conj,
    cos=cos,
    divide=divide,
    equal=equal,
    exp=exp,
    floor=floor,
    greater=greater,
    greater_equal=greater_equal,
    imag=imag,
    less=less,
    less_equal=less_equal,
    log=log,
    logical_and=logical_and,
    logical_not=logical_not,
    logical_or=logical_or,
    logical_xor=_ops.logical_xor,
    maximum=maximum,
    minimum=minimum,
    multiply=multiply,
    negative=negative,
    not_equal=not_equal,
    pow=pow,
    real=real,
    reciprocal=reciprocal,
    reduce_max=reduce_max,
    reduce_mean=reduce_mean,
    reduce_sum=reduce_sum,
    round=round,
    sigmoid=sigmoid,
    sign=sign,
    sin=sin,
    sqrt=sqrt,
    square=square,
    subtract=subtract,
    tanh=tanh,
    truediv=_ops.truediv,
)
nn = _module(
    "nn",
    relu=relu,
    softmax=softmax,
    sigmoid=sigmoid,
    tanh=tanh,
    embedding_lookup=lambda params, ids, **_: gather(params, ids),
)
random = _module("random")  # set_seed, normal and uniform: reference_impl._more_ops
dtypes = _module(
    "dtypes",
    DType=DType,
    as_dtype=as_dtype,
    float16=float16,
    bfloat16=bfloat16,
    float32=float32,
    float64=float64,
    complex64=complex64,
    complex128=complex128,
    int8=int8,
    int16=int16,
    int32=int32,
    int64=int64,
    uint8=uint8,
    bool=bool,
    string=string,
)
autodiff = _module("autodiff", GradientTape=GradientTape)

__all__ = [
    "DType",
    "DeviceMismatchError",
    "GradientTape",
    "IndexedSlices",
    "Tensor",
    "TensorShape",
    "UnconnectedGradients",
    "Variable",
    "abs",
    "add",
    "argmax",
    "as_dtype",
    "autodiff",
    "available_devices",
    "bfloat16",
    "bool",
    "broadcast_to",
    "cast",
    "ceil",
    "complex",
    "complex64",
    "complex128",
    "concat",
    "cond",
    "conj",
    "constant",
    "convert_to_tensor",
    "cos",
    "custom_gradient",
    "device",
    "divide",
    "dtypes",
    "equal",
    "errors",
    "exp",
    "fill",
    "float16",
    "float32",
    "float64",
    "floor",
    "gather",
    "greater",
    "greater_equal",
    "identity",
    "imag",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_tensor",
    "less",
    "less_equal",
    "log",
    "logical_and",
    "logical_not",
    "logical_or",
    "math",
    "matmul",
    "maximum",
    "minimum",
    "multiply",
    "negative",
    "nest",
    "newaxis",
    "nn",
    "norm",
    "not_equal",
    "ones",
    "ones_like",
    "pow",
    "random",
    "range",
    "real",
    "reciprocal",
    "reduce_max",
    "reduce_mean",
    "reduce_sum",
    "relu",
    "reshape",
    "round",
    "shape",
    "sigmoid",
    "sign",
    "sin",
    "size",
    "softmax",
    "sqrt",
    "square",
    "stack",
    "stop_gradient",
    "string",
    "subtract",
    "tanh",
    "tensordot",
    "tile",
    "transpose",
    "uint8",
    "unstack",
    "where",
    "while_loop",
    "zeros",
    "zeros_like",
]

# ---- names beyond the core op set (reference_impl/_more_ops.py: linalg, conv2d, seeded random, ...)
from reference_impl import _more_ops  # noqa: E402 - it adds to the submodules defined above

_more_ops.export_into(sys.modules[__name__])
