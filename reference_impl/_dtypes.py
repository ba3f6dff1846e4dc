"""Data types with TensorFlow's names, each backed by a NumPy dtype.

A dtype is *trainable* (gradients may flow through it) when it is floating or complex, as in
TensorFlow's ``backprop_util.IsTrainable``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DType", "as_dtype", "dtype_of_array", "type_string"]

try:  # bfloat16 comes with ml_dtypes (installed alongside TensorFlow and JAX); optional here
    import ml_dtypes

    _BFLOAT16: Any = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - depends on the environment
    _BFLOAT16 = None


class DType:
    """A TensorFlow-named dtype. ``repr`` is ``tf.float32``, as TensorFlow's messages print it."""

    __slots__ = (
        "name",
        "as_numpy_dtype",
        "is_floating",
        "is_complex",
        "is_integer",
        "is_bool",
        "is_trainable",
        "_np",
    )

    def __init__(self, name: str, np_dtype: Any, kind: str) -> None:
        self.name = name
        self._np = np.dtype(np_dtype) if np_dtype is not None else None
        self.as_numpy_dtype = self._np.type if self._np is not None else None
        self.is_floating = kind == "float"
        self.is_complex = kind == "complex"
        self.is_integer = kind == "int"
        self.is_bool = kind == "bool"
        self.is_trainable = kind in ("float", "complex")

    @property
    def real_dtype(self) -> DType:
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    @property
    def base_dtype(self) -> DType:
        return self

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    def __str__(self) -> str:
        return f"<dtype: '{self.name}'>"

    def __reduce__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        # as TensorFlow's: equal to anything that names the same dtype ("float32", np.float32)
        if other is self:
            return True
        if other is None:
            return False
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = object.__hash__


float16 = DType("float16", np.float16, "float")
bfloat16 = DType("bfloat16", _BFLOAT16, "float") if _BFLOAT16 is not None else None
float32 = DType("float32", np.float32, "float")
float64 = DType("float64", np.float64, "float")
complex64 = DType("complex64", np.complex64, "complex")
complex128 = DType("complex128", np.complex128, "complex")
int8 = DType("int8", np.int8, "int")
int16 = DType("int16", np.int16, "int")
int32 = DType("int32", np.int32, "int")
int64 = DType("int64", np.int64, "int")
uint8 = DType("uint8", np.uint8, "int")
bool_ = DType("bool", np.bool_, "bool")
string = DType("string", object, "string")

_ALL = [
    d
    for d in (
        float16,
        bfloat16,
        float32,
        float64,
        complex64,
        complex128,
        int8,
        int16,
        int32,
        int64,
        uint8,
        bool_,
        string,
    )
    if d is not None
]
_BY_NAME = {d.name: d for d in _ALL}
_BY_NUMPY = {d._np: d for d in _ALL}
_BY_NUMPY[np.dtype(np.bytes_)] = string
_BY_NUMPY[np.dtype(np.str_)] = string

# The integer enum values TensorFlow's DataType accepts (as_dtype(1) is float32, ...).
_BY_ENUM = {
    1: float32,
    2: float64,
    3: int32,
    4: uint8,
    5: int16,
    6: int8,
    7: string,
    8: complex64,
    9: int64,
    10: bool_,
    18: complex128,
    19: float16,
}


#: TensorFlow's C++ names (``DataTypeString``), which its op and conversion messages print.
_TYPE_STRINGS = {"float32": "float", "float64": "double", "float16": "half"}


def type_string(dtype: DType) -> str:
    """``dtype`` as TensorFlow's C++ messages name it: ``float`` for float32, ``double``, ``half``."""
    return _TYPE_STRINGS.get(dtype.name, dtype.name)


def dtype_of_array(array: Any) -> DType:
    """The DType of a backend array (NumPy, CuPy, or any array-API array)."""
    dtype = array.dtype
    found = _BY_NUMPY.get(dtype)
    if found is None:  # another array library's dtype object, e.g. array_api_strict.float32
        found = _BY_NAME.get(getattr(dtype, "name", str(dtype).rsplit(".", 1)[-1]))
    if found is None:
        if getattr(dtype, "kind", None) in ("S", "U", "O"):
            return string
        raise TypeError(f"arrays of dtype {dtype} are not supported by reference_impl")
    return found


def as_dtype(type_value: Any) -> DType:
    """The DType named by ``type_value`` (a DType, a name, a NumPy dtype or type, or an enum)."""
    if isinstance(type_value, DType):
        return type_value
    if type_value is None or isinstance(type_value, float):
        raise TypeError(
            f"Cannot convert the argument `type_value`: {type_value!r} to a TensorFlow DType."
        )
    if isinstance(type_value, str) and type_value in _BY_NAME:
        return _BY_NAME[type_value]
    if isinstance(type_value, int) and not isinstance(type_value, bool) and type_value in _BY_ENUM:
        return _BY_ENUM[type_value]
    if type_value is bool:
        return bool_
    try:
        found = _BY_NUMPY.get(np.dtype(type_value))
    except TypeError:
        found = None
    if found is None:
        raise TypeError(
            f"Cannot convert the argument `type_value`: {type_value!r} to a TensorFlow DType."
        )
    return found
