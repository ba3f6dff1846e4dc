"""Tensors, the thread-local tape set, recording, and backpropagation.

The model is TensorFlow's (see the spec's "mental model"):

- Each thread has an ordered set of *active* tapes. An op is recorded on an active tape iff one
  of its inputs is watched by that tape or produced by an op already on it, and that input has a
  trainable (floating or complex) dtype.
- A tape maps tensor ids to the op record that produced them. ``backprop`` walks those records
  from the targets, newest first, and applies each op's vector-Jacobian products, which are
  written with this library's own ops: when another tape is recording, the backward pass is
  itself recorded, and nested tapes give higher derivatives with no special case.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from reference_impl import errors
from reference_impl._backend import (
    DeviceMismatchError,
    backend_for_device,
    backend_of,
    device_of,
)
from reference_impl._dtypes import _ALL as _ALL_DTYPES
from reference_impl._dtypes import (
    DType,
    as_dtype,
    complex128,
    dtype_of_array,
    float32,
    int32,
    int64,
    string,
    type_string,
)
from reference_impl._dtypes import bool_ as bool_dtype

__all__ = [
    "IndexedSlices",
    "KernelTypes",
    "OpRecord",
    "Primitive",
    "Tape",
    "Tensor",
    "TensorShape",
    "backprop",
    "call",
    "state",
]

_next_id = itertools.count(1).__next__
_ops: Any = None  # reference_impl._ops, set when it is imported (it imports this module)


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.tapes: list[Tape] = []  # the active tapes, in push order
        self.variable_watchers: list[Any] = []  # custom_gradient's variable watchers
        self.device: str = "CPU:0"


state = _ThreadState()


# ---- shapes and tensors -----------------------------------------------------------------------


class TensorShape(tuple):
    """A fully known shape; prints like TensorFlow's ``TensorShape``."""

    @property
    def rank(self) -> int:
        return len(self)

    @property
    def ndims(self) -> int:
        return len(self)

    def as_list(self) -> list[int]:
        return list(self)

    def num_elements(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    __str__ = tuple.__repr__  # print(x.shape) shows (3, 2), as TensorFlow's

    def __eq__(self, other: object) -> bool:
        # equal to any sequence of the same dimensions, as TensorFlow's (x.shape == [3, 2])
        if isinstance(other, (list, tuple)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__


class ArrayValue:
    """What tensors and variables share: a view of ``_value`` (an array of some backend) and ``_dtype``."""

    __slots__ = ()

    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return TensorShape(np.shape(self._value))

    @property
    def ndim(self) -> int:
        return np.ndim(self._value)

    @property
    def device(self) -> str:
        return f"/job:localhost/replica:0/task:0/device:{device_of(self._value)}"

    def numpy(self) -> Any:
        value = self._value
        if isinstance(value, np.ndarray):
            return value[()] if value.ndim == 0 else value.copy()
        if isinstance(value, np.generic):
            return value
        # another backend's: a copy on the host (a backend may hand out a view of its memory)
        host = np.array(backend_of(value).to_numpy(value))
        return host[()] if host.ndim == 0 else host

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.numpy(), dtype=dtype)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)


class EagerTensor(ArrayValue):
    """An immutable array with a dtype, a device and a unique id (what tapes watch).

    Named as TensorFlow's eager tensors are (``type(x).__name__`` is ``EagerTensor``); the
    library's ``Tensor`` is this class.
    """

    __slots__ = ("_value", "_dtype", "_id", "__weakref__")
    __array_priority__ = 100  # NumPy scalars defer to our reflected operators

    def __init__(self, value: Any, dtype: DType | None = None) -> None:
        self._value = value
        self._dtype = dtype if dtype is not None else dtype_of_array(value)
        self._id = _next_id()

    # ---- what TensorFlow's EagerTensor offers
    def ref(self) -> _Ref:
        return _Ref(self)

    def __repr__(self) -> str:
        return f"<tf.Tensor: shape={self.shape}, dtype={self._dtype.name}, numpy={numpy_text(self.numpy())}>"

    def __str__(self) -> str:
        text = numpy_text(self.numpy(), is_repr=False)
        return f"tf.Tensor({text}, shape={self.shape}, dtype={self._dtype.name})"

    def __format__(self, format_spec: str) -> str:
        return format(self.numpy(), format_spec)  # "{:.2f}".format(t) formats the value

    @property
    def name(self) -> str:
        raise AttributeError("Tensor.name is undefined when eager execution is enabled.")

    def __hash__(self) -> int:  # elementwise __eq__, as in TensorFlow 2
        raise TypeError("Tensor is unhashable. Instead, use tensor.ref() as the key.")

    def __index__(self) -> int:
        return int(self._value)

    def __len__(self) -> int:
        shape = np.shape(self._value)
        if not shape:
            raise TypeError("Scalar tensor has no `len()`")
        return shape[0]

    def __iter__(self) -> Any:
        shape = np.shape(self._value)
        if not shape:
            raise TypeError("Cannot iterate over a scalar tensor.")
        return (self[i] for i in range(shape[0]))


Tensor = EagerTensor


def numpy_text(value: Any, is_repr: bool = True) -> str:
    """A value as TensorFlow's reprs print it (``2.0``, ``array([...])``; str: ``[1. 2.]``); text
    of several lines starts on a line of its own, as TensorFlow's ``_numpy_text``."""
    text = repr(value) if is_repr and isinstance(value, np.ndarray) and value.ndim else str(value)
    return "\n" + text if "\n" in text else text


class _Ref:
    """``tensor.ref()``: a hashable handle to a tensor, as TensorFlow's ``Reference``."""

    __slots__ = ("_tensor",)

    def __init__(self, tensor: Any) -> None:
        self._tensor = tensor

    def deref(self) -> Any:
        return self._tensor

    def __hash__(self) -> int:
        return self._tensor._id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Ref) and other._tensor is self._tensor


class IndexedSlices:
    """A sparse gradient: ``values`` rows at ``indices`` of a ``dense_shape`` tensor.

    ``gather`` and ``Variable.sparse_read`` produce these as gradients (``tf.IndexedSlices``);
    contributions are concatenated, and any dense contribution densifies the sum.
    """

    __slots__ = ("values", "indices", "dense_shape")

    def __init__(self, values: Tensor, indices: Tensor, dense_shape: Tensor) -> None:
        self.values = values
        self.indices = indices
        self.dense_shape = dense_shape

    @property
    def dtype(self) -> DType:
        return self.values._dtype

    @property
    def shape(self) -> TensorShape:
        return TensorShape(int(n) for n in np.asarray(self.dense_shape._value))

    def _as_tensor(self) -> Tensor:
        size = int(np.asarray(self.dense_shape._value)[0])
        return _ops.scatter_rows(self.values, self.indices._value, size)

    def __neg__(self) -> IndexedSlices:
        """``-g`` stays sparse, as TensorFlow's IndexedSlices (its only operator)."""
        return IndexedSlices(_ops.negative(self.values), self.indices, self.dense_shape)

    def __repr__(self) -> str:
        return (
            f"IndexedSlices(indices={self.indices!r}, values={self.values!r}, "
            f"dense_shape={self.dense_shape!r})"
        )


# ---- conversion -------------------------------------------------------------------------------
#
# TensorFlow's ``convert_to_tensor`` rules, in one place:
# - a Python value (a scalar or nested lists of them) gets its dtype from all its leaves: bools
#   -> bool, ints -> int32 (int64 when one does not fit), any float -> float32, any complex ->
#   complex128, strings/bytes -> string; a requested dtype must be able to hold every leaf
#   (``1.5`` is no int32: TypeError), and an unsupported or mixed leaf is a ValueError;
# - a NumPy value keeps its dtype, is copied (the caller may write to its array later), and is
#   cast to a requested dtype (``np.float64(1.5)`` as int32 is 1, as in TensorFlow);
# - a tensor passes through (a different requested dtype is a ValueError), a variable is read.

_PYTHON_KINDS = {bool: "b", int: "i", float: "f", complex: "c", str: "s", bytes: "s"}
#: The leaf kinds each requested dtype kind accepts from a Python value.
_ACCEPTS = {"bool": "b", "int": "bi", "float": "bif", "complex": "bifc", "string": "s"}
_NUMPY_KINDS = {"b": "b", "i": "i", "u": "i", "f": "f", "c": "c", "S": "s", "U": "s"}
#: The Python type TensorFlow names when a NumPy number array cannot become a string tensor.
_PYTHON_TYPE_OF_KIND = {"b": "bool", "i": "int", "u": "int", "f": "float", "c": "complex"}


def _is_tensor_like(value: Any) -> bool:
    return hasattr(value, "_as_tensor") or isinstance(value, Tensor)


def _unsupported(value: Any) -> ValueError:
    return ValueError(
        f"Attempt to convert a value ({value!r}) with an unsupported type ({type(value)!r}) to a "
        "Tensor."
    )


def _cannot_convert(value: Any, dtype: DType) -> TypeError:
    return TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {type_string(dtype)}")


def _leaves(value: Any) -> tuple[str, Any, Any]:
    """The kinds of a Python value's leaves (``"bif"``...), its first unsupported leaf, and its
    first leaf if that is a NumPy scalar (whose dtype then wins, as in TensorFlow)."""
    kinds: set[str] = set()
    bad = first_numpy = None
    stack, first = [value], True
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
            continue
        if isinstance(item, (np.ndarray, np.generic)):
            kind = _NUMPY_KINDS.get(item.dtype.kind, "n")
            if first:
                first_numpy = item
        else:
            kind = _PYTHON_KINDS.get(type(item), "n")
        if kind == "n" and bad is None:
            bad = (item,)
        kinds.add(kind)
        first = False
    return "".join(sorted(kinds)), bad, first_numpy


def _default_dtype(value: Any, kinds: str, bad: Any, first_numpy: Any) -> DType:
    """The dtype TensorFlow infers for a Python value with leaves of ``kinds``."""
    if "n" in kinds:
        if kinds == "n":
            raise _unsupported(bad[0])
        raise ValueError("Can't convert Python sequence with mixed types to Tensor.")
    if "s" in kinds:
        if kinds != "s":
            raise ValueError("Can't convert Python sequence with mixed types to Tensor.")
        return string
    if first_numpy is not None and first_numpy.dtype.kind in "fc":
        if _NUMPY_KINDS[first_numpy.dtype.kind] == ("c" if "c" in kinds else "f"):
            return dtype_of_array(first_numpy)
    if "c" in kinds:
        return complex128
    if "f" in kinds or not kinds:  # [] is float32
        return float32
    if "i" in kinds:
        return int32
    return bool_dtype


def _python_array(value: Any, dtype: DType | None) -> tuple[Any, DType]:
    """A Python scalar or nested sequence as a NumPy array, with TensorFlow's dtype rules."""
    kind = _PYTHON_KINDS.get(type(value))
    if kind is not None:
        kinds, bad, first_numpy = kind, None, None
    elif isinstance(value, (list, tuple)):
        kinds, bad, first_numpy = _leaves(value)
    else:
        raise _unsupported(value)
    requested = dtype is not None
    if dtype is None:
        dtype = _default_dtype(value, kinds, bad, first_numpy)
    elif "n" in kinds:
        _default_dtype(value, kinds, bad, first_numpy)  # raises the unsupported/mixed error
    elif not set(kinds) <= set(_ACCEPTS[_kind_of(dtype)]):
        raise _cannot_convert(value, dtype)
    if dtype is string:
        return _string_array(value), string
    try:
        array = np.array(value)
    except ValueError:  # the leaves are numbers (checked above): only a ragged shape fails here
        raise ValueError("Can't convert non-rectangular Python sequence to Tensor.") from None
    if array.dtype.kind in "uO":  # NumPy holds Python ints beyond int64 as uint64 or objects
        raise ValueError("Can't convert Python sequence with out-of-range integer to Tensor.")
    if not requested and dtype is int32 and array.size:
        if array.min() < -(2**31) or array.max() >= 2**31:
            dtype = int64
    return array.astype(dtype._np), dtype


def _kind_of(dtype: DType) -> str:
    if dtype.is_bool:
        return "bool"
    if dtype.is_integer:
        return "int"
    if dtype.is_complex:
        return "complex"
    return "float" if dtype.is_floating else "string"


def _numpy_array(value: Any, dtype: DType | None) -> tuple[Any, DType]:
    """A NumPy value as a fresh array (TensorFlow copies), cast to ``dtype`` when one is given."""
    array = np.array(value)
    kind = array.dtype.kind
    if kind in "SUO":
        other = next((s for s in array.flat if not isinstance(s, (str, bytes))), None)
        if kind == "O" and other is not None:
            raise ValueError(
                "Failed to convert a NumPy array to a Tensor (Unsupported object type "
                f"{type(other).__name__})."
            )
        if dtype is None or dtype is string:
            return _string_array(array), string
        return array.astype(dtype._np), dtype  # TensorFlow parses numeric strings as NumPy does
    if dtype is None:
        return array, dtype_of_array(array)
    if dtype is string:
        raise ValueError(
            "Failed to convert a NumPy array to a Tensor (Unsupported object type "
            f"{_PYTHON_TYPE_OF_KIND.get(kind, array.dtype.name)})."
        )
    # a complex array cast to a real dtype keeps the real part, with NumPy's ComplexWarning (as TF)
    return array.astype(dtype._np), dtype


def to_array(value: Any, dtype: DType | None = None) -> tuple[Any, DType]:
    """A Python or NumPy value as a NumPy array and its DType, with TensorFlow's rules (above)."""
    if dtype is not None:
        dtype = as_dtype(dtype)
    if isinstance(value, (np.ndarray, np.generic)):
        return _numpy_array(value, dtype)
    return _python_array(value, dtype)


def _string_array(value: Any) -> np.ndarray:
    array = np.asarray(value, dtype=object)
    encode = np.vectorize(lambda s: s.encode() if isinstance(s, str) else s, otypes=[object])
    return encode(array) if array.size else array


def place(array: Any) -> Any:
    """A host array on the current device (``tf.device``); NumPy arrays stay as they are on CPU."""
    device = state.device
    if device == "CPU:0" or getattr(array, "dtype", None) == np.dtype(
        object
    ):  # strings stay on the host
        return array
    return backend_for_device(device).asarray(np.asarray(array), device)


def _holds_tensor(value: Any) -> bool:
    """Whether a (nested) list or tuple holds a tensor or variable somewhere."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif _is_tensor_like(item):
            return True
    return False


def _pack(values: Sequence[Any], dtype: DType | None) -> Tensor:
    """A list holding tensors, stacked (TensorFlow's autopacking): a requested ``dtype`` (an
    explicit one, or the other operand's in an op) casts the tensors of another dtype to it,
    differentiably; without one the first tensor's dtype decides and the others must have it.
    The other values are converted to that dtype."""
    if dtype is None:
        return _stack_items(values, _first_tensor_dtype(values), cast=False)
    return _stack_items(values, dtype, cast=True)


def _stack_items(values: Sequence[Any], dtype: DType, cast: bool) -> Tensor:
    items = []
    for item in values:
        if isinstance(item, (list, tuple)) and _holds_tensor(item):
            item = _stack_items(item, dtype, cast)
        elif cast and _is_tensor_like(item) and item.dtype is not dtype:
            item = _ops.cast(item, dtype)
        items.append(item)
    return _ops.stack_converted(items, dtype)


def _first_tensor_dtype(values: Sequence[Any]) -> DType | None:
    stack = list(reversed(values))
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif _is_tensor_like(item):
            return item.dtype
    return None


def convert(value: Any, dtype: DType | None = None) -> Tensor:
    """``tf.convert_to_tensor``: tensors pass through, variables are read, the rest is wrapped."""
    if isinstance(value, Tensor):
        if dtype is not None and as_dtype(dtype) is not value._dtype:
            raise ValueError(
                f"Tensor conversion requested dtype {as_dtype(dtype).name} for Tensor with dtype "
                f"{value._dtype.name}: {value!r}"
            )
        return value
    if hasattr(value, "_as_tensor"):
        if dtype is not None and as_dtype(dtype) is not value.dtype and hasattr(value, "assign"):
            raise ValueError(
                f"Incompatible type conversion requested to type {as_dtype(dtype).name} for "
                f"`tf.Variable of type {value.dtype.name}. (Variable: {value!r})"
            )
        return value._as_tensor()
    if isinstance(value, (list, tuple)) and _holds_tensor(value):
        return _pack(value, as_dtype(dtype) if dtype is not None else None)
    array, resolved = to_array(value, dtype)  # None is TensorFlow's unsupported-type ValueError
    return Tensor(place(array), resolved)


def convert_beside(value: Any, dtype: DType | None, like: Any) -> Tensor:
    """``value`` converted to ``dtype`` (strictly, as ``convert``; ``None``: its own dtype) on the
    device of the array ``like`` (``None``: the current device): the operand rule of TensorFlow's
    ops, where a Python or NumPy operand takes the tensor operand's dtype. Tensors and variables
    pass through unchanged (the op checks them)."""
    if like is None:
        return convert(value, dtype)
    if isinstance(value, Tensor):
        return value
    if hasattr(value, "_as_tensor"):
        return value._as_tensor()
    if isinstance(value, (list, tuple)) and _holds_tensor(value):
        return _pack(value, dtype)
    array, resolved = to_array(value, dtype)  # None is TensorFlow's unsupported-type ValueError
    if not isinstance(like, (np.ndarray, np.generic)) and array.dtype != object:
        array = backend_of(like).asarray(array, device_of(like))
    return Tensor(array, resolved)


# ---- tapes and recording ----------------------------------------------------------------------


class Primitive:
    """An op: how to compute it, and its vector-Jacobian products (one rule per input).

    A rule is ``rule(g, ans, *inputs, **kwargs) -> gradient or None`` (every primitive has one
    output; several outputs are custom_gradient's, recorded by ``_CustomGradientOp``).
    ``variadic`` ops take one rule ``rule(index, g, ans, inputs, **kwargs)`` for every input.
    """

    __slots__ = (
        "name",
        "tf_name",
        "impl",
        "rules",
        "variadic",
        "broadcasts",
        "accepts_sparse",
        "sparse_rule",
        "kernel",
    )

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any],
        *,
        tf_name: str | None = None,
        broadcasts: bool = False,
        variadic: bool = False,
        accepts_sparse: bool = False,
        sparse_rule: Callable[..., list[Any] | None] | None = None,
    ) -> None:
        self.accepts_sparse = accepts_sparse or sparse_rule is not None
        # Where TensorFlow's gradient keeps a sparse (IndexedSlices) upstream sparse: Neg and
        # Identity pass it on (negated), Cast casts its values, Add/Sub hand it to x when y is a
        # scalar that needs no gradient. ``sparse_rule(g, inputs, needs, **kwargs)`` returns the
        # gradients, or None to densify g and use the ordinary rules.
        self.sparse_rule = sparse_rule
        self.name = name
        self.tf_name = tf_name or name
        self.impl = impl
        self.rules: tuple[Callable[..., Any] | None, ...] | None = None
        self.variadic = variadic
        self.broadcasts = broadcasts
        self.kernel: KernelTypes | None = None  # the dtypes it accepts, if TF restricts them

    def kernels(self, types: tuple[str, ...], signature: str = "x:T -> y:T") -> Primitive:
        """Declare the dtypes TensorFlow's op has kernels for (its C++ names, in its order)."""
        self.kernel = KernelTypes(self.tf_name, types, signature)
        return self

    def backward(self, record: OpRecord, grads: list[Any], needs: Sequence[bool]) -> Sequence[Any]:
        """One gradient (or ``None``) per input of ``record``; ``needs[i]`` says whether this
        backward pass needs input ``i``'s (per call: several threads may share the record)."""
        if self.rules is None:
            raise LookupError(f"gradient registry has no entry for: {self.tf_name}")
        inputs, kwargs = record.inputs, record.kwargs
        upstream, ans = grads[0], record.outputs[0]
        if self.sparse_rule is not None:
            if type(upstream) is IndexedSlices:
                passed = self.sparse_rule(upstream, inputs, needs, **kwargs)
                if passed is not None:
                    return passed
            upstream = _as_upstream(upstream, ans)
        if self.variadic:
            rule = self.rules[0]
            return [
                rule(i, upstream, ans, inputs, **kwargs) if needs[i] else None
                for i in range(len(inputs))
            ]
        result = []
        for i, rule in enumerate(self.rules):
            if not needs[i] or rule is None:
                result.append(None)
                continue
            grad = rule(upstream, ans, *inputs, **kwargs)
            if self.broadcasts and grad is not None:
                grad = unbroadcast(grad, inputs[i])
            result.append(grad)
        return result


class KernelTypes:
    """The dtypes a TensorFlow op has kernels for, and TensorFlow's error for any other."""

    __slots__ = ("op", "types", "dtypes", "signature", "traits")

    def __init__(
        self, op: str, types: tuple[str, ...], signature: str = "x:T -> y:T", traits: str = ""
    ) -> None:
        self.op, self.types, self.signature, self.traits = op, types, signature, traits
        self.dtypes = frozenset(d for d in _ALL_DTYPES if type_string(d) in types)

    def check(self, dtype: DType, name: str | None = "") -> None:
        """Raise TensorFlow's error unless ``dtype`` has a kernel; ``name=None`` leaves off the
        " name: " TensorFlow's slow path (inputs it had to convert) does not print."""
        if dtype in self.dtypes:
            return
        op, listed = self.op, ", ".join(self.types)
        enums = ", ".join(f"DT_{t.upper()}" for t in self.types)
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Value for attr 'T' of {type_string(dtype)} is not in the list of allowed values: "
            f"{listed}\n\t; NodeDef: {{{{node {op}}}}}; Op<name={op}; signature={self.signature}; "
            f"attr=T:type,allowed=[{enums}]{self.traits}> [Op:{op}]"
            + ("" if name is None else f" name: {name}"),
        )


class OpRecord:
    """One recorded op: its primitive, inputs, outputs and static arguments, in tape order."""

    __slots__ = ("primitive", "inputs", "outputs", "kwargs", "seq")

    def __init__(
        self,
        primitive: Any,
        inputs: tuple[Any, ...],
        outputs: tuple[Tensor, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.primitive = primitive
        self.inputs = inputs
        self.outputs = outputs
        self.kwargs = kwargs
        self.seq = _next_id()


class Tape:
    """What one GradientTape records: watched ids and the op that produced each tensor id."""

    __slots__ = (
        "persistent",
        "watch_accessed_variables",
        "tensor_ids",
        "producer",
        "watched_variables",
        "released",
    )

    def __init__(self, persistent: bool, watch_accessed_variables: bool) -> None:
        self.persistent = persistent
        self.released = False  # a non-persistent tape's records are gone after one gradient
        self.watch_accessed_variables = watch_accessed_variables
        self.tensor_ids: set[int] = set()
        self.producer: dict[int, OpRecord] = {}
        self.watched_variables: dict[int, Any] = {}

    def watch(self, tensor: Any) -> None:
        self.tensor_ids.add(tensor._id)

    def watch_variable(self, variable: Any) -> None:
        self.tensor_ids.add(variable._id)
        self.watched_variables.setdefault(variable._id, variable)

    def record(self, record: OpRecord) -> None:
        for output in record.outputs:
            self.producer[output._id] = record
            self.tensor_ids.add(output._id)


def record(
    primitive: Any,
    inputs: tuple[Any, ...],
    outputs: tuple[Tensor, ...],
    kwargs: dict[str, Any] | None = None,
) -> None:
    """Record an op on every active tape that watches one of its trainable inputs."""
    entry = None
    for tape in state.tapes:
        ids = tape.tensor_ids
        for tensor in inputs:
            if tensor._id in ids and tensor._dtype.is_trainable:
                break
        else:
            continue
        if entry is None:
            entry = OpRecord(primitive, inputs, outputs, kwargs or {})
        tape.record(entry)


def call(
    primitive: Primitive,
    inputs: tuple[Tensor, ...],
    kwargs: dict[str, Any] | None = None,
    dtype: DType | None = None,
) -> Any:
    """Run ``primitive`` on tensors, wrap the result, and record it on the active tapes."""
    try:
        if len(inputs) == 2 and not kwargs:  # the common case, without building an argument list
            result = primitive.impl(inputs[0]._value, inputs[1]._value)
        elif len(inputs) == 1 and not kwargs:
            result = primitive.impl(inputs[0]._value)
        else:
            values = [t._value for t in inputs]
            result = primitive.impl(*values, **kwargs) if kwargs else primitive.impl(*values)
    except (TypeError, ValueError, AttributeError, RuntimeError):
        check_same_device(primitive.tf_name, inputs)
        raise
    out = Tensor(result, dtype)
    if state.tapes:
        record(primitive, inputs, (out,), kwargs)
    return out


def check_same_device(op: str, inputs: Sequence[Any]) -> None:
    """Raise ``DeviceMismatchError`` if ``inputs`` live on more than one device."""
    devices = list(dict.fromkeys(device_of(t._value) for t in inputs))
    if len(devices) > 1:
        raise DeviceMismatchError(
            f"{op} got tensors on different devices {devices}; reference_impl never copies between "
            "devices silently: copy one explicitly with `with tf.device(d): x = tf.identity(x)`"
        )


# ---- backpropagation --------------------------------------------------------------------------


def unbroadcast(grad: Tensor, like: Any) -> Tensor:
    """Sum ``grad`` over the axes that broadcasting added to (or stretched in) ``like``."""
    shape = like._value.shape
    grad_shape = grad._value.shape
    if grad_shape == shape:
        return grad
    lead = len(grad_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1
    )
    summed = _ops.reduce_sum(grad, axis=axes) if axes else grad
    return _ops.reshape(summed, shape) if np.shape(summed._value) != shape else summed


def _reachable(tape: Tape, targets: Sequence[Any]) -> list[OpRecord]:
    """Every op on ``tape`` that a target depends on, newest first. As TensorFlow's tape, the
    backward pass visits all of them, not only those on a path from a source (a backward function
    that raises does so even when its gradient would be unused)."""
    producer = tape.producer
    seen: dict[int, OpRecord] = {}
    stack = [producer[t._id] for t in targets if t._id in producer]
    while stack:  # iterative: a 100 000-op chain must not hit the recursion limit
        entry = stack.pop()
        if entry.seq in seen:
            continue
        seen[entry.seq] = entry
        for tensor in entry.inputs:
            parent = producer.get(tensor._id)
            if parent is not None and parent.seq not in seen:
                stack.append(parent)
    return [seen[seq] for seq in sorted(seen, reverse=True)]


def _accumulate(grads: dict[int, Any], tensor_id: int, grad: Any) -> None:
    """Sum a gradient contribution into ``grads``: sparse ones concatenate, dense ones add."""
    previous = grads.get(tensor_id)
    if previous is None:
        grads[tensor_id] = grad
        return
    if not isinstance(previous, (Tensor, IndexedSlices)) or not isinstance(
        grad, (Tensor, IndexedSlices)
    ):
        # TensorFlow's C++ aggregation asserts here (an empty AssertionError): a custom gradient
        # that returns a Python or NumPy value cannot be summed with another contribution
        raise AssertionError(
            "a custom_gradient grad_fn returned a non-tensor gradient that must be summed with "
            f"another one ({type(previous).__name__} + {type(grad).__name__}): return tensors "
            "(tf.constant(...))"
        )
    if type(previous) is IndexedSlices and type(grad) is IndexedSlices:
        # later contributions come from older ops (newest first): put them first, as TF orders them
        grads[tensor_id] = IndexedSlices(
            _ops.concat([grad.values, previous.values], axis=0),
            _ops.concat([grad.indices, previous.indices], axis=0),
            previous.dense_shape,
        )
        return
    grads[tensor_id] = _ops.add(_dense(previous), _dense(grad))


def _dense(grad: Any) -> Any:
    return grad._as_tensor() if type(grad) is IndexedSlices else grad


def _as_upstream(grad: Any, output: Tensor) -> Any:
    """An upstream gradient as an op's backward rule takes it: dense, and a tensor (a custom
    gradient may return a Python or NumPy value, which the op converts, as TensorFlow's ops do)."""
    if type(grad) is Tensor:
        return grad
    if type(grad) is IndexedSlices:
        return grad._as_tensor()
    return _ops._like(grad, output)


def backprop(
    tape: Tape, targets: Sequence[Any], sources: Sequence[Any], seeds: Sequence[Any]
) -> list[Any]:
    """Gradients of ``targets`` (weighted by ``seeds``) with respect to each source, or ``None``.

    NumPy's floating-point warnings are off for the whole pass, as TensorFlow's kernels emit none
    (``inf * 0`` in a gradient rule is NaN, silently): one switch per gradient, not per op.
    """
    with np.errstate(all="ignore"):
        return _backprop(tape, targets, sources, seeds)


def _backprop(
    tape: Tape, targets: Sequence[Any], sources: Sequence[Any], seeds: Sequence[Any]
) -> list[Any]:
    """``backprop`` itself.

    A target contributes only if an op on the tape produced it or it is itself a source (then
    its seed is its own gradient). Contributions reaching a tensor by several paths are summed.
    """
    source_ids = {s._id for s in sources}
    grads: dict[int, Any] = {}
    for target, seed in zip(targets, seeds, strict=True):
        if seed is not None and (target._id in tape.producer or target._id in source_ids):
            _accumulate(grads, target._id, seed)
    ops = _reachable(tape, targets)
    # An input needs a gradient if the tape watched or produced it and its dtype is trainable
    # (TF's "unneeded_gradients" are the others): a source the tape never tracked gets None even
    # when a recorded op read it; only a source that is itself a target gets its seed (above).
    on_tape = tape.tensor_ids
    for entry in ops:
        outputs = entry.outputs
        if len(outputs) == 1:
            upstream = [grads.get(outputs[0]._id)]
            if upstream[0] is None:
                continue
        else:
            upstream = [grads.get(o._id) for o in outputs]
            if all(g is None for g in upstream):
                continue
                # unused outputs of a multi-output op receive zeros, not None (TensorFlow's rule)
            upstream = [
                _ops.zeros_like(o) if g is None else g
                for o, g in zip(outputs, upstream, strict=True)
            ]
        if not entry.primitive.accepts_sparse:
            upstream = [_as_upstream(g, o) for g, o in zip(upstream, outputs, strict=True)]
        inputs = entry.inputs
        needs = [t._id in on_tape and t._dtype.is_trainable for t in inputs]
        input_grads = entry.primitive.backward(entry, upstream, needs)
        if len(input_grads) < len(inputs):
            raise errors.InternalError(
                None,
                None,
                f"Recorded operation '{entry.primitive.name}' returned too few gradients. "
                f"Expected {len(inputs)} but received {len(input_grads)}",
            )
        for tensor, grad, needed in zip(inputs, input_grads, needs, strict=True):
            if grad is not None and needed:
                _accumulate(grads, tensor._id, grad)
    # TensorFlow deletes the gradients of a tensor the tape never tracked once the last recorded
    # op reading it is done ("has no associated op"), the seed of a source that is also a target
    # included: such a source gets None as soon as a recorded op on the way read it.
    read_untracked = {t._id for entry in ops for t in entry.inputs if t._id not in on_tape}
    return [None if s._id in read_untracked else grads.get(s._id) for s in sources]
