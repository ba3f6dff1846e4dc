"""``Variable``: a mutable value that tapes watch through its handle.

A variable's ``_id`` plays the part of TensorFlow's resource handle: tapes watch it, and every
read is a recorded op from the handle to a fresh tensor, so gradients with respect to a variable
accumulate over all its reads. Reading (or assigning, or creating) a trainable variable while a
tape with ``watch_accessed_variables=True`` records watches it, as TensorFlow does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reference_impl import _ops, errors
from reference_impl._backend import backend_of, device_of
from reference_impl._core import (
    ArrayValue,
    Primitive,
    Tensor,
    TensorShape,
    _next_id,
    convert,
    numpy_text,
    record,
    state,
)
from reference_impl._dtypes import DType, as_dtype

__all__ = ["ResourceVariable", "Variable"]

_read = Primitive(
    "read_variable", lambda value: value, tf_name="ReadVariableOp", accepts_sparse=True
)
_ops.defvjp(_read, lambda g, ans, handle: g)


def _accessed(variable: Variable) -> None:
    """Tell the active tapes and custom_gradient watchers that ``variable`` was accessed."""
    if not variable.trainable:
        return
    for tape in state.tapes:
        if tape.watch_accessed_variables:
            tape.watch_variable(variable)
    for watcher in state.variable_watchers:
        watcher.setdefault(variable._id, variable)


class Variable(ArrayValue):
    """``tf.Variable``: ``assign`` replaces the value; reads are recorded against the handle.

    As in TensorFlow, ``tf.Variable(...)`` makes a ``ResourceVariable`` (the name TensorFlow's
    messages print, e.g. ``object of type 'ResourceVariable' has no len()``).
    """

    __array_priority__ = 100

    def __new__(cls, *args: Any, **kwargs: Any) -> Variable:
        return super().__new__(ResourceVariable if cls is Variable else cls)

    def __init__(
        self,
        initial_value: Any = None,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        shape: Any = None,
        **_: Any,
    ) -> None:
        if initial_value is None:
            raise ValueError(
                "The `initial_value` arg to `tf.Variable` must be specified except when you are "
                "not providing a `variable_def`. You provided neither."
            )
        if callable(initial_value):
            initial_value = initial_value()
        value = convert(initial_value, as_dtype(dtype) if dtype is not None else None)
        self._value = value._value
        self._dtype: DType = value._dtype
        self._id = _next_id()  # one counter with tensors: a handle id is never a tensor's
        self.trainable = trainable  # kept as given, as TensorFlow does; tested for truth
        self._name = f"{name or 'Variable'}:0"  # eager TensorFlow does not uniquify names
        # Creating a variable inside a tape does not watch it: only reads and assignments do.

    # ---- reading
    def _as_tensor(self) -> Tensor:
        return self.read_value()

    def read_value(self) -> Tensor:
        """The current value as a new tensor; recorded on the tapes that watch this variable."""
        out = Tensor(self._value, self._dtype)
        if state.tapes or state.variable_watchers:
            _accessed(self)
            record(_read, (self,), (out,))
        return out

    def value(self) -> Tensor:
        return self.read_value()

    def sparse_read(self, indices: Any, name: str | None = None) -> Tensor:
        """Rows ``indices`` of the value; the gradient is sparse (IndexedSlices)."""
        return _ops.gather(self.read_value(), indices)

    def assign(
        self,
        value: Any,
        use_locking: bool = False,
        name: str | None = None,
        read_value: bool = True,
    ) -> Any:
        new = convert(value, self._dtype)
        if device_of(new._value) != device_of(
            self._value
        ):  # assigning copies to the variable's device
            host = np.asarray(backend_of(new._value).to_numpy(new._value))
            new = Tensor(backend_of(self._value).asarray(host, device_of(self._value)), self._dtype)
        if np.shape(new._value) != np.shape(self._value):
            raise ValueError(
                f"Cannot assign value to variable ' {self._name}': Shape mismatch.The variable shape "
                f"{TensorShape(np.shape(self._value))}, and the assigned value shape "
                f"{TensorShape(np.shape(new._value))} are incompatible."
            )
        self._value = new._value
        _accessed(self)
        return _UnreadVariable(self) if read_value else None

    def assign_add(
        self,
        delta: Any,
        use_locking: bool = False,
        name: str | None = None,
        read_value: bool = True,
    ) -> Any:
        _check_arithmetic(self, "AssignAddVariableOp")
        return self.assign(_ops.add(Tensor(self._value, self._dtype), delta), read_value=read_value)

    def assign_sub(
        self,
        delta: Any,
        use_locking: bool = False,
        name: str | None = None,
        read_value: bool = True,
    ) -> Any:
        _check_arithmetic(self, "AssignSubVariableOp")
        return self.assign(
            _ops.subtract(Tensor(self._value, self._dtype), delta), read_value=read_value
        )

    # ---- description
    @property
    def name(self) -> str:
        return self._name

    def ref(self) -> Any:
        from reference_impl._core import _Ref

        return _Ref(self)

    def __repr__(self) -> str:
        return (
            f"<tf.Variable '{self._name}' shape={tuple(self.shape)} dtype={self._dtype.name}, "
            f"numpy={numpy_text(self.numpy())}>"
        )

    def __hash__(self) -> int:  # elementwise __eq__, as in TensorFlow 2
        raise TypeError(
            f"Variable is unhashable. Instead, use variable.ref() as the key. (Variable: {self!r})"
        )


class ResourceVariable(Variable):
    """What ``tf.Variable(...)`` returns (TensorFlow's class name); see ``Variable``."""


class _UnreadVariable(ResourceVariable):
    """What ``assign`` returns, as in TensorFlow: a view of the same handle, printed as
    ``<tf.Variable 'UnreadVariable' ...>``. Its reads are recorded against the handle, but do not
    watch it (TensorFlow: reading it in a tape that never touched the variable gives None)."""

    def __init__(self, parent: Variable) -> None:
        self._parent = parent
        self._name = "UnreadVariable"

    _value = property(lambda self: self._parent._value)
    _dtype = property(lambda self: self._parent._dtype)
    _id = property(lambda self: self._parent._id)
    trainable = property(lambda self: self._parent.trainable)

    def read_value(self) -> Tensor:
        out = Tensor(self._value, self._dtype)
        if state.tapes:
            record(_read, (self._parent,), (out,))
        return out

    def assign(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        return self._parent.assign(value, *args, **kwargs)

    def assign_add(self, delta: Any, *args: Any, **kwargs: Any) -> Any:
        return self._parent.assign_add(delta, *args, **kwargs)

    def assign_sub(self, delta: Any, *args: Any, **kwargs: Any) -> Any:
        return self._parent.assign_sub(delta, *args, **kwargs)


#: The dtypes TensorFlow's AssignAdd/AssignSubVariableOp kernels are registered for, in the
#: order its "No OpKernel was registered" message lists them.
_ASSIGN_TYPES = (
    "COMPLEX128", "COMPLEX64", "DOUBLE", "FLOAT", "BFLOAT16", "HALF", "INT32", "INT8", "UINT8",
    "INT16", "UINT16", "UINT32", "INT64", "UINT64",
)  # fmt: skip
_ASSIGN_XLA = (
    "FLOAT, DT_DOUBLE, DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_COMPLEX64, DT_INT64, "
    "DT_BFLOAT16, DT_UINT16, DT_COMPLEX128, DT_HALF, DT_UINT32, DT_UINT64"
)


def _check_arithmetic(variable: Variable, op: str) -> None:
    """TensorFlow's error for assign_add/assign_sub on a bool or string variable."""
    if not (variable.dtype.is_bool or variable.dtype.name == "string"):
        return
    lines = [
        f"  device='{device}'; dtype in [DT_{t}]"
        for device in ("DEFAULT", "CPU")
        for t in _ASSIGN_TYPES
    ]
    xla = f"  device='XLA_CPU_JIT'; dtype in [DT_{_ASSIGN_XLA}]"
    lines = [*lines, xla] if op.startswith("AssignAdd") else [xla, *lines]
    registered = "\n".join(lines)
    raise errors.InvalidArgumentError(
        None,
        None,
        f"No OpKernel was registered to support Op '{op}' used by {{{{node {op}}}}} with these "
        f"attrs: [dtype=DT_{variable.dtype.name.upper()}]\nRegistered devices: [CPU]\n"
        f"Registered kernels:\n{registered}\n\n\t [[{op}]] [Op:{op}] name: ",
    )


_ops.install_operators(Variable)
Variable.__eq__ = _ops.variable_eq  # type: ignore[method-assign]  # no None shortcut, as in TF
Variable.__ne__ = _ops.variable_ne  # type: ignore[method-assign]
