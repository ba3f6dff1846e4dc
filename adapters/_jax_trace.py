"""The recording machinery behind the JAX adapter: JAX has no tape, so the adapter keeps a trace.

Every neutral tensor is a ``TracedArray``: a ``jax.Array`` value plus the ``Node`` that produced it
(a native function, its input wrappers or constants, its static keyword arguments). Each neutral op
computes its value eagerly with ``jax.numpy`` *and* records the node; recording is always on.

``gradient(target, sources)`` turns the recording into the pure function JAX differentiates: a
``SubGraph`` replays the nodes between the requested sources and the targets (in topological
order, iteratively); everything outside the sources' cone is a closed-over value. JAX then
differentiates that function with ``jax.vjp`` (``jax.jacrev`` for jacobians). The result is itself
a recorded node whose native function is "the vjp of the replayed sub-graph", so a later gradient
through it differentiates ``jax.vjp`` itself: nested gradients are nested JAX transformations, with
no special case. A Jacobian of a small graph made only of ``jnp`` calls is ``jax.jit``-compiled:
one XLA program instead of one compile per batched primitive, which is most of its eager cost;
graphs of the same structure share that program. Constants and the ones that seed a gradient are
made on the host and transferred, as eager ``jnp`` would compile a conversion per new shape.

    >>> x = constant(3.0)
    >>> dx = GradientTape().gradient(x * x, x)
    >>> float(GradientTape().gradient(dx, x).value)
    2.0
"""

from __future__ import annotations

import collections
import functools
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from conformance.kit import UnconnectedGradients, flatten, pack_sequence_as

__all__ = [
    "GradientTape",
    "Node",
    "SubGraph",
    "TracedArray",
    "UnconnectedGradients",
    "Variable",
    "constant",
    "custom_gradient",
    "record",
]

#: Creation order of every TracedArray: a value created before all sources cannot depend on them.
_serials = itertools.count()


class Node:
    """One recorded call: ``primitive(*input_values, **static)``.

    The primitive returns one array, or a tuple of them (gradients, jacobians, custom gradients
    with several outputs), whose elements its wrappers pick by ``index``.
    """

    __slots__ = ("primitive", "inputs", "static")

    def __init__(
        self, primitive: Callable[..., Any], inputs: tuple[Any, ...], static: dict[str, Any]
    ) -> None:
        self.primitive = primitive
        self.inputs = inputs
        self.static = static

    def run(self, values: Sequence[Any]) -> Any:
        return self.primitive(*values, **self.static)

    @property
    def name(self) -> str:
        return getattr(self.primitive, "__name__", type(self.primitive).__name__)


# ---- tensors -------------------------------------------------------------------------------


def _as_input(value: Any) -> Any:
    """An op argument as recorded: wrappers stay, a Variable is read, lists become arrays.

    Python scalars stay as they are (JAX's weak typing applies to them); lists, tuples and NumPy
    arrays are converted with ``jnp.asarray`` as TensorFlow converts them implicitly (``jnp``
    functions reject lists).
    """
    if isinstance(value, TracedArray):
        return value
    if isinstance(value, Variable):
        return value.read_value()
    if isinstance(value, (list, tuple)):
        items = [_as_input(item) for item in value]
        if any(isinstance(item, TracedArray) for item in items):
            return record(_array_from_items, items)  # like jnp.asarray([tracer, ...]): connected
        return asarray(value)
    if isinstance(value, (np.ndarray, np.generic)):
        return asarray(value)
    return value


def _array_from_items(*items: Any) -> Any:
    """The native function of a list argument holding tensors: ``jnp.asarray`` of the items."""
    return jnp.asarray(items)


def _value_of(item: Any) -> Any:
    return item.value if isinstance(item, TracedArray) else item


def record(
    primitive: Callable[..., Any],
    inputs: Sequence[Any],
    static: dict[str, Any] | None = None,
    multiple_outputs: bool = False,
) -> Any:
    """Run ``primitive`` eagerly on the inputs' values and record it; return its output wrapper(s).

    With ``multiple_outputs`` the primitive returns a tuple and the result is a tuple of wrappers
    (``None`` where the primitive returned ``None``).
    """
    recorded = tuple(_as_input(item) for item in inputs)
    node = Node(primitive, recorded, dict(static or {}))
    result = node.run([_value_of(item) for item in recorded])
    if not multiple_outputs:
        return TracedArray(result, node)
    return tuple(
        None if item is None else TracedArray(item, node, index)
        for index, item in enumerate(result)
    )


class _Operators:
    """Python operators shared by tensors and variables; each one is a recorded ``jnp`` call."""

    __slots__ = ()

    def _traced(self) -> TracedArray:
        """The tensor an op records as its input (a variable records a read)."""
        raise NotImplementedError

    def _current(self) -> Any:
        """The current ``jax.Array`` value, read without recording anything."""
        raise NotImplementedError

    def __add__(self, other: Any) -> TracedArray:
        return record(jnp.add, (self._traced(), other))

    def __radd__(self, other: Any) -> TracedArray:
        return record(jnp.add, (other, self._traced()))

    def __sub__(self, other: Any) -> TracedArray:
        return record(jnp.subtract, (self._traced(), other))

    def __rsub__(self, other: Any) -> TracedArray:
        return record(jnp.subtract, (other, self._traced()))

    def __mul__(self, other: Any) -> TracedArray:
        return record(jnp.multiply, (self._traced(), other))

    def __rmul__(self, other: Any) -> TracedArray:
        return record(jnp.multiply, (other, self._traced()))

    def __truediv__(self, other: Any) -> TracedArray:
        return record(jnp.true_divide, (self._traced(), other))

    def __rtruediv__(self, other: Any) -> TracedArray:
        return record(jnp.true_divide, (other, self._traced()))

    def __pow__(self, other: Any) -> TracedArray:
        return record(jnp.power, (self._traced(), other))

    def __rpow__(self, other: Any) -> TracedArray:
        return record(jnp.power, (other, self._traced()))

    def __matmul__(self, other: Any) -> TracedArray:
        return record(jnp.matmul, (self._traced(), other))

    def __rmatmul__(self, other: Any) -> TracedArray:
        return record(jnp.matmul, (other, self._traced()))

    def __neg__(self) -> TracedArray:
        return record(jnp.negative, (self._traced(),))

    def __abs__(self) -> TracedArray:
        return record(jnp.abs, (self._traced(),))

    def __lt__(self, other: Any) -> TracedArray:
        return record(jnp.less, (self._traced(), other))

    def __le__(self, other: Any) -> TracedArray:
        return record(jnp.less_equal, (self._traced(), other))

    def __gt__(self, other: Any) -> TracedArray:
        return record(jnp.greater, (self._traced(), other))

    def __ge__(self, other: Any) -> TracedArray:
        return record(jnp.greater_equal, (self._traced(), other))

    def __eq__(self, other: Any) -> TracedArray:  # type: ignore[override]
        return record(jnp.equal, (self._traced(), other))

    def __ne__(self, other: Any) -> TracedArray:  # type: ignore[override]
        return record(jnp.not_equal, (self._traced(), other))

    # & | ^ ~: jax.Array's operators (logical on bool, bitwise on integers)
    def __and__(self, other: Any) -> TracedArray:
        return record(jnp.bitwise_and, (self._traced(), other))

    def __or__(self, other: Any) -> TracedArray:
        return record(jnp.bitwise_or, (self._traced(), other))

    def __xor__(self, other: Any) -> TracedArray:
        return record(jnp.bitwise_xor, (self._traced(), other))

    def __invert__(self) -> TracedArray:
        return record(jnp.bitwise_not, (self._traced(),))

    __hash__ = None  # type: ignore[assignment]  # like jax.Array (and tf.Tensor): unhashable

    def __getitem__(self, index: Any) -> TracedArray:
        return record(_getitem, (self._traced(),), {"index": _static_index(index)})

    def __len__(self) -> int:
        return len(self._current())

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self._current())

    def __float__(self) -> float:
        return float(self._current())

    def __int__(self) -> int:
        return int(self._current())

    def __index__(self) -> int:
        return self._current().__index__()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self._current(), dtype=dtype)

    def numpy(self) -> np.ndarray:
        """The value as a NumPy array (leaves the recording, like ``tf.Tensor.numpy``)."""
        return np.asarray(self._current())

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._current().shape)

    @property
    def ndim(self) -> int:
        return self._current().ndim

    @property
    def dtype(self) -> Any:
        return self._current().dtype


def _getitem(value: Any, *, index: Any) -> Any:
    return value[index]


def _static_index(index: Any) -> Any:
    """An index with wrapped values replaced by their (non-differentiable) NumPy values."""
    if isinstance(index, tuple):
        return tuple(_static_index(item) for item in index)
    if isinstance(index, (TracedArray, Variable)):
        return np.asarray(index)
    return index


class TracedArray(_Operators):
    """A neutral tensor: a ``jax.Array`` and the node that produced it (``None`` for a leaf)."""

    __slots__ = ("value", "node", "index", "serial")

    def __init__(self, value: Any, node: Node | None = None, index: int | None = None) -> None:
        self.value = value
        self.node = node
        self.index = index
        self.serial = next(_serials)

    def _traced(self) -> TracedArray:
        return self

    def _current(self) -> Any:
        return self.value

    def __repr__(self) -> str:
        origin = "leaf" if self.node is None else self.node.name
        return (
            f"<TracedArray {self.value.dtype}{list(self.value.shape)} {self.value} from {origin}>"
        )


def constant(value: Any, dtype: Any = None, device: Any = None) -> TracedArray:
    """``jnp.asarray(value, dtype)`` as a new leaf (never connected to ``value``'s history)."""
    return TracedArray(asarray(_value_of(_plain(value)), dtype, device))


def asarray(value: Any, dtype: Any = None, device: Any = None) -> Any:
    """Exactly ``jnp.asarray(value, dtype=dtype, device=device)``, without compiling for host data."""
    made = _host_constant(value, dtype, device) if _is_host_data(value) else None
    return jnp.asarray(value, dtype=dtype, device=device) if made is None else made


#: NumPy dtype kinds a host value may have to be converted on the host (bool, ints, floats, complex).
_NUMERIC_KINDS = frozenset("biufc")


def _is_host_data(value: Any) -> bool:
    """Whether ``value`` is plain host data: Python or NumPy numbers, arrays, or lists of them."""
    if isinstance(value, (bool, int, float, complex)):
        return True
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.kind in _NUMERIC_KINDS
    if isinstance(value, (list, tuple)):
        return all(_is_host_data(item) for item in value)
    return False


def _host_constant(raw: Any, dtype: Any, device: Any) -> Any | None:
    """``jnp.asarray(raw, dtype, device=device)`` built on the host and transferred: no compile.

    ``jnp.asarray`` converts host data with NumPy and then runs an XLA ``convert_element_type``
    that only commits it to the device, compiled once per shape, dtype and weak type: for
    generated programs, one compile per constant. Here JAX itself decides the result type
    (``jax.eval_shape`` of the very call, which also issues its warnings and raises its errors),
    NumPy converts the values, and ``jax.device_put`` transfers them. ``None`` when the transfer
    would not give exactly that type (the caller then runs ``jnp.asarray``).
    """
    expected = jax.eval_shape(lambda: jnp.asarray(raw, dtype=dtype))
    if expected.weak_type:
        if not isinstance(raw, (bool, int, float, complex)):
            return None
        made = jax.device_put(raw, device)  # a Python scalar keeps its weak type, as in jnp
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jnp.asarray's own warnings were issued just above
            host = np.asarray(raw, dtype=expected.dtype)
        made = jax.device_put(host, device)
    same_type = (made.shape, made.dtype, made.weak_type) == (
        expected.shape,
        expected.dtype,
        expected.weak_type,
    )
    return made if same_type else None


def _plain(value: Any) -> Any:
    return value.read_value() if isinstance(value, Variable) else value


def read_variable(handle: Any) -> Any:
    """The native function of a variable read: the current leaf's value, unchanged."""
    return handle


class Variable(_Operators):
    """A variable: a leaf that ``assign`` replaces (JAX's functional update of a parameter).

    Each read records a ``read_variable`` node on the current leaf, so values read before and after
    an ``assign`` hang off different leaves, and ``gradient(y, v)`` differentiates with respect to
    the leaf ``v`` holds now. ``trainable`` is kept as an attribute only: JAX differentiates with
    respect to whatever it is asked.
    """

    _device: Any = None  # namespaces bind their device in a subclass

    def __init__(
        self, initial_value: Any, trainable: bool = True, dtype: Any = None, name: str | None = None
    ) -> None:
        self.trainable = trainable
        self.name = name or "Variable"
        self._handle = constant(initial_value, dtype, self._device)

    def _traced(self) -> TracedArray:
        return self.read_value()

    def _current(self) -> Any:
        return self._handle.value

    @property
    def handle(self) -> TracedArray:
        """The leaf the variable holds now (what ``gradient(y, v)`` differentiates against)."""
        return self._handle

    def read_value(self) -> TracedArray:
        return record(read_variable, (self._handle,))

    def value(self) -> TracedArray:
        return self.read_value()

    def assign(self, value: Any) -> Variable:
        """Replace the leaf by a new one holding ``value`` (cut from ``value``'s history)."""
        self._handle = constant(value, self._handle.value.dtype, self._device)
        return self

    def assign_add(self, delta: Any) -> Variable:
        return self.assign(self._handle.value + _value_of(_plain(delta)))

    def assign_sub(self, delta: Any) -> Variable:
        return self.assign(self._handle.value - _value_of(_plain(delta)))

    def __repr__(self) -> str:
        value = self._handle.value
        return f"<Variable '{self.name}' {value.dtype}{list(value.shape)} {value}>"


# ---- replaying a recording as a pure function ---------------------------------------------


class SubGraph:
    """The recorded computation from ``sources`` to ``targets``, replayable as a pure function.

    Nodes that depend on a source form the cone and are re-run by ``replay``; every wrapper that
    feeds the cone without depending on a source is a *boundary* value, passed in explicitly so that
    an enclosing differentiation can still reach it. Only identities and the (immutable) node
    structure are kept: values always come from the arguments, so nothing can go stale.
    """

    def __init__(self, targets: Sequence[Any], sources: Sequence[Any]) -> None:
        self.targets = tuple(targets)
        self.sources = tuple(sources)
        self._source_ids = {id(s) for s in sources if isinstance(s, TracedArray)}
        serials = [s.serial for s in sources if isinstance(s, TracedArray)]
        self._first_serial = min(serials) if serials else math.inf
        self._live: dict[int, bool] = {}  # id(node) -> depends on a source
        order = self._topological_order()
        self.cone = tuple(node for node in order if self._live[id(node)])
        self.boundary = self._boundary()
        #: Whether replaying runs the user's Python code (a custom gradient's function), which
        #: must see concrete values as it would in TensorFlow: such a graph is never jit-compiled.
        self.runs_user_code = any(getattr(n.primitive, "runs_user_code", False) for n in self.cone)

    def _may_depend(self, item: Any) -> bool:
        return (
            isinstance(item, TracedArray)
            and item.node is not None
            and id(item) not in self._source_ids
            and item.serial > self._first_serial
        )

    def _topological_order(self) -> list[Node]:
        """Nodes reachable from the targets, inputs first (iterative depth-first post-order)."""
        order: list[Node] = []
        expanded: set[int] = set()
        for target in self.targets:
            stack = [target.node] if self._may_depend(target) else []
            while stack:
                node = stack[-1]
                if id(node) in self._live:
                    stack.pop()
                elif id(node) not in expanded:
                    expanded.add(id(node))
                    stack.extend(
                        item.node
                        for item in reversed(node.inputs)
                        if self._may_depend(item) and id(item.node) not in self._live
                    )
                else:
                    stack.pop()
                    self._live[id(node)] = any(self._is_live(item) for item in node.inputs)
                    order.append(node)
        return order

    def _is_live(self, item: Any) -> bool:
        if not isinstance(item, TracedArray):
            return False
        if id(item) in self._source_ids:
            return True
        return item.node is not None and self._live.get(id(item.node), False)

    def _boundary(self) -> tuple[TracedArray, ...]:
        found: dict[int, TracedArray] = {}
        candidates = [item for node in self.cone for item in node.inputs] + list(self.targets)
        for item in candidates:
            if isinstance(item, TracedArray) and not self._is_live(item):
                found.setdefault(id(item), item)
        return tuple(found.values())

    def replay(
        self, source_values: Sequence[Any], boundary_values: Sequence[Any]
    ) -> tuple[Any, ...]:
        """The targets' values recomputed from the given source and boundary values."""
        env: dict[int, Any] = {}
        for source, value in zip(self.sources, source_values, strict=True):
            if isinstance(source, TracedArray):
                env[id(source)] = value
        for item, value in zip(self.boundary, boundary_values, strict=True):
            env[id(item)] = value
        outputs: dict[int, Any] = {}

        def lookup(item: Any) -> Any:
            if not isinstance(item, TracedArray):
                return item
            if id(item) in env:
                return env[id(item)]
            result = outputs[id(item.node)]
            return result if item.index is None else result[item.index]

        for node in self.cone:
            outputs[id(node)] = node.run([lookup(item) for item in node.inputs])
        return tuple(lookup(target) for target in self.targets)


# ---- differentiation ------------------------------------------------------------------------


def _unique_sources(sources: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """Distinct source slots (a wrapper asked twice is one argument) and each position's slot."""
    slots: list[Any] = []
    slot_of: dict[int, int] = {}
    positions: list[int] = []
    for source in sources:
        if isinstance(source, TracedArray):
            if id(source) not in slot_of:
                slot_of[id(source)] = len(slots)
                slots.append(source)
            positions.append(slot_of[id(source)])
        else:
            positions.append(len(slots))
            slots.append(source)
    return slots, positions


def _resolve(item: Any) -> Any:
    """A source or target as the recording knows it: a Variable stands for its current leaf."""
    if isinstance(item, Variable):
        return item.handle
    if isinstance(item, (list, np.ndarray, np.generic)):
        return asarray(item)
    return item


def _describe_position(structure: Any, index: int) -> str:
    return "" if not isinstance(structure, (list, tuple, dict)) else f" (leaf {index})"


def _resolve_targets(target: Any, call: str) -> list[TracedArray]:
    """The target's leaves as recorded tensors; a leaf that is not a tensor raises a TypeError.

    JAX differentiates the array outputs of a function of the sources. ``None``, a Python number
    or a NumPy array is no output of that function: ``jax.vjp`` would silently answer zeros for it
    (``jax.grad`` rejects only ``None``), so the adapter refuses it with an actionable message.
    """
    leaves = [item.handle if isinstance(item, Variable) else item for item in flatten(target)]
    for index, leaf in enumerate(leaves):
        if not isinstance(leaf, TracedArray):
            raise TypeError(
                f"GradientTape.{call}: the target{_describe_position(target, index)} is a "
                f"{type(leaf).__name__}, not a tensor computed by fw ops; JAX differentiates the "
                "array outputs of a function of the sources, so pass a tensor (a constant "
                "target has zero gradient)"
            )
    return leaves


def _one_tensor(item: Any, role: str) -> TracedArray:
    """batch_jacobian's target or source: exactly one tensor (a Variable stands for its leaf)."""
    item = item.handle if isinstance(item, Variable) else item
    if not isinstance(item, TracedArray):
        raise TypeError(
            f"GradientTape.batch_jacobian: the {role} is a {type(item).__name__}, not one tensor; "
            "jax.vmap(jax.jacrev(f)) maps over the rows of one array, so pass a single tensor"
        )
    return item


def _check_inputs_like_jax_grad(values: Sequence[Any]) -> None:
    """Apply ``jax.grad``'s input check: integer and boolean sources raise JAX's own TypeError.

    ``jax.vjp`` alone would return ``float0`` gradients for them; ``jax.grad`` is what a JAX user
    writes for ``tape.gradient``, so its check is the idiomatic answer. The check runs by calling
    ``jax.grad`` on the offending value, which raises before tracing anything.
    """
    for value in values:
        dtype = getattr(value, "dtype", None)
        integral = isinstance(value, (bool, int)) and not isinstance(value, float)
        if integral or (dtype is not None and not jnp.issubdtype(dtype, jnp.inexact)):
            jax.grad(jnp.sum)(value)


def _check_targets_like_jax_grad(values: Sequence[Any]) -> None:
    """Apply ``jax.grad``'s output check: integer and boolean targets raise JAX's own TypeError.

    Seeded with ones, ``jax.vjp`` answers zeros for an integer or bool output; ``jax.grad`` (what a
    JAX user writes for ``tape.gradient``) and ``jax.jacrev`` (the adapter's ``jacobian``) refuse
    it. Several targets are summed as in ``jax.grad(lambda s: y1(s) + y2(s))``, so one floating
    target among them is enough. The check runs by calling ``jax.grad``, which raises at once.
    """
    if not values or any(jnp.issubdtype(jnp.result_type(v), jnp.inexact) for v in values):
        return
    single_scalar = len(values) == 1 and jnp.ndim(values[0]) == 0
    total = values[0] if single_scalar else sum(jnp.sum(v) for v in values)
    jax.grad(lambda _: total)(jnp.float32(0.0))


def _record_transform(
    transform: Callable[..., tuple[Any, ...]],
    graph: SubGraph,
    slots: Sequence[Any],
    extras: Sequence[Any],
    jit: bool = False,
) -> tuple[Any, ...]:
    """Record ``transform`` of the replayed ``graph`` as one node; return its output wrappers.

    The node's inputs are the source slots, the boundary wrappers and ``extras`` (cotangents), so a
    later gradient through it differentiates the transformation itself (nested JAX transforms).
    With ``jit`` (see ``_worth_jitting``) the transformation is compiled as one XLA program.
    """
    n_sources, n_boundary = len(slots), len(graph.boundary)
    inputs = (*slots, *graph.boundary, *extras)

    def transformed(*values: Any) -> tuple[Any, ...]:
        sources = values[:n_sources]
        boundary = values[n_sources : n_sources + n_boundary]
        return transform(graph.replay, sources, boundary, values[n_sources + n_boundary :])

    # what the transformation computes, worked out only when a compile or an enclosing key needs it
    describe = functools.cache(lambda: _transform_key(transform, graph, len(extras)))
    compiled = transformed
    if jit and _worth_jitting(graph, inputs):
        compiled = _compiled_transform(describe(), transformed)

    def primitive(*values: Any) -> tuple[Any, ...]:
        return compiled(*values)

    primitive.__name__ = transform.__name__
    primitive.runs_user_code = graph.runs_user_code  # type: ignore[attr-defined]
    primitive.describe = describe  # type: ignore[attr-defined]  # for an enclosing graph's key
    return record(primitive, inputs, multiple_outputs=True)


# ---- reusing compiled transformations ---------------------------------------------------------

#: Compiled transformations by what they compute (``_transform_key``), least recently used first.
#: A jacobian of a graph already compiled (a scenario's second run, a shrinking candidate) reuses
#: the program; ``jax.jit`` itself recompiles it for other shapes, dtypes or weak types.
_COMPILED: collections.OrderedDict[Any, Callable[..., Any]] = collections.OrderedDict()
_COMPILED_CAPACITY = 256


def _compiled_transform(key: Any, transformed: Callable[..., Any]) -> Callable[..., Any]:
    """The ``jax.jit`` of ``transformed``, shared by every graph with the same ``key``."""
    if key is None:
        return jax.jit(transformed)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = jax.jit(transformed)
        if len(_COMPILED) > _COMPILED_CAPACITY:
            _COMPILED.popitem(last=False)
    else:
        _COMPILED.move_to_end(key)
    return compiled


def _transform_key(transform: Callable[..., Any], graph: SubGraph, n_extras: int) -> Any:
    """What ``transform`` of ``graph`` computes, as a hashable value; ``None`` if not describable.

    Two graphs with the same key replay the same primitives with the same static arguments and
    the same constants, wired the same way from the sources, boundary values and earlier nodes,
    so one traced program serves both: only the argument values differ. Constants are keyed by
    type and exact bits (``-0.0`` is not ``0.0``).
    """
    places: dict[int, tuple[Any, ...]] = {}
    for position, source in enumerate(graph.sources):
        if isinstance(source, TracedArray):
            places.setdefault(id(source), ("source", position))
    for position, item in enumerate(graph.boundary):
        places.setdefault(id(item), ("boundary", position))
    for position, node in enumerate(graph.cone):
        places[id(node)] = ("node", position)
    nodes = tuple(_node_key(node, places) for node in graph.cone)
    targets = tuple(_wire_key(target, places) for target in graph.targets)
    parts = (
        getattr(transform, "structure_key", transform),
        tuple(
            _constant_key(s) if not isinstance(s, TracedArray) else "tensor" for s in graph.sources
        ),
        len(graph.boundary),
        n_extras,
        nodes,
        targets,
    )
    return None if _has_unknown(parts) else parts


_UNKNOWN = object()  # a part with no key: the whole transformation is compiled on its own


def _has_unknown(parts: Any) -> bool:
    if parts is _UNKNOWN:
        return True
    return isinstance(parts, tuple) and any(_has_unknown(part) for part in parts)


def _node_key(node: Node, places: dict[int, tuple[Any, ...]]) -> tuple[Any, ...]:
    describe = getattr(node.primitive, "describe", None)  # a recorded transformation
    primitive = node.primitive if describe is None else describe()
    if primitive is None or getattr(node.primitive, "runs_user_code", False):
        primitive = _UNKNOWN
    inputs = tuple(_wire_key(item, places) for item in node.inputs)
    static = tuple((name, _constant_key(value)) for name, value in sorted(node.static.items()))
    return (primitive, inputs, static)


def _wire_key(item: Any, places: dict[int, tuple[Any, ...]]) -> Any:
    """Where a node's input comes from, or the constant it is."""
    if not isinstance(item, TracedArray):
        return ("constant", _constant_key(item))
    place = places.get(id(item))
    if place is None and item.node is not None:
        place = places.get(id(item.node))
        return _UNKNOWN if place is None else (*place, item.index)
    return _UNKNOWN if place is None else place


def _constant_key(value: Any) -> Any:
    """A value baked into a traced program, as a hashable key of its type and exact contents."""
    if value is None or value is Ellipsis or isinstance(value, (bool, int, str)):
        return (type(value).__name__, value)
    if isinstance(value, (float, complex)):
        return (type(value).__name__, repr(value))  # repr tells -0.0 from 0.0, and nan is itself
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_constant_key(item) for item in value))
    if isinstance(value, slice):
        return (
            "slice",
            _constant_key(value.start),
            _constant_key(value.stop),
            _constant_key(value.step),
        )
    if isinstance(value, (np.ndarray, np.generic, jax.Array)) and not isinstance(
        value, jax.core.Tracer
    ):
        array = np.asarray(value)
        weak = bool(getattr(value, "weak_type", False))
        return ("array", type(value).__name__, str(array.dtype), array.shape, weak, array.tobytes())
    if isinstance(value, type) or isinstance(value, np.dtype):
        return ("dtype", value)
    return _UNKNOWN


#: Above this many replayed nodes, compiling one program costs more than the eager primitives.
_JIT_MAX_NODES = 64


def _worth_jitting(graph: SubGraph, inputs: Sequence[Any]) -> bool:
    """Whether a Jacobian transformation of ``graph`` should run as one ``jax.jit`` program.

    ``jax.jacrev`` and ``jax.vmap`` run every primitive batched, and eager JAX compiles each
    batched primitive on first use (tens of milliseconds apiece on CPU): for a small graph one XLA
    program is cheaper. A long graph compiles slowly as a whole and repeats primitives whose eager
    executables are cached, so it stays eager; so does a graph with a custom gradient, whose
    functions must see concrete values as in TensorFlow, and any input ``jax.jit`` would read
    differently from ``jax.vjp`` (``None``, strings).
    """
    if graph.runs_user_code or len(graph.cone) > _JIT_MAX_NODES:
        return False
    plain = (jax.Array, np.ndarray, np.generic, int, float, complex)
    return all(isinstance(_value_of(item), plain) for item in inputs)


def _vjp(
    replay: Callable[..., tuple[Any, ...]],
    sources: Sequence[Any],
    boundary: Sequence[Any],
    _extras: Sequence[Any],
) -> tuple[Any, ...]:
    """``jax.vjp`` of the replayed targets, seeded with ``ones_like`` of each target."""
    outputs, pullback = jax.vjp(lambda *s: replay(s, boundary), *sources)
    return tuple(pullback(jax.tree.map(_ones_like, outputs)))


def _ones_like(output: Any) -> Any:
    """``jnp.ones_like(output)``, made on the host for a concrete array (eagerly, ``ones_like`` is
    an XLA program compiled per shape and dtype); a traced or weakly typed output keeps jnp's."""
    concrete = isinstance(output, jax.Array) and not isinstance(output, jax.core.Tracer)
    if not concrete or output.weak_type:
        return jnp.ones_like(output)
    placement = output.sharding if output.committed else None  # as jnp: follow the output
    return jax.device_put(np.ones(output.shape, output.dtype), placement)


def _vjp_with_output_gradients(
    replay: Callable[..., tuple[Any, ...]],
    sources: Sequence[Any],
    boundary: Sequence[Any],
    cotangents: Sequence[Any],
) -> tuple[Any, ...]:
    """``jax.vjp`` of the replayed targets, seeded with the given cotangents (JAX checks them)."""
    _, pullback = jax.vjp(lambda *s: replay(s, boundary), *sources)
    return tuple(pullback(tuple(cotangents)))


def _jacrev(
    replay: Callable[..., tuple[Any, ...]],
    sources: Sequence[Any],
    boundary: Sequence[Any],
    _extras: Sequence[Any],
) -> tuple[Any, ...]:
    """``jax.jacrev`` of the replayed targets: one jacobian per (target, source), flattened."""
    argnums = tuple(range(len(sources)))
    jacobians = jax.jacrev(lambda *s: replay(s, boundary), argnums=argnums)(*sources)
    return tuple(jac for per_target in jacobians for jac in per_target)


def _batch_jacobian_transform(batch_index: Any) -> Callable[..., tuple[Any, ...]]:
    """``jax.vmap(jax.jacrev(per_example))``: example ``b``'s jacobian of target row ``b``.

    The per-example function replaces row ``b`` of the source (``jnp.where``, cheaper to compile
    than a scatter) and reads row ``b`` of the target, so the result is the true per-example
    jacobian (the diagonal blocks of the full jacobian), whatever the rows do to each other.
    ``batch_index`` ranges over the target's rows and is mapped together with the source's rows,
    so vmap itself reports a batch-size or rank mismatch.
    """

    def _vmap_jacrev(
        replay: Callable[..., tuple[Any, ...]],
        sources: Sequence[Any],
        boundary: Sequence[Any],
        _extras: Sequence[Any],
    ) -> tuple[Any, ...]:
        (source,) = sources
        # NumPy row numbers: a constant under jit, and no iota to compile when run eagerly
        rows = np.arange(source.shape[0], dtype=np.int32).reshape((-1,) + (1,) * (source.ndim - 1))

        def per_example(row: Any, b: Any) -> Any:
            (target,) = replay((jnp.where(rows == b, row, source),), boundary)
            return jnp.take(target, b, axis=0)

        return (jax.vmap(jax.jacrev(per_example))(source, batch_index),)

    _vmap_jacrev.structure_key = ("batch_jacobian", _constant_key(batch_index))  # type: ignore[attr-defined]
    return _vmap_jacrev


_NO_EQUIVALENT = "JAX differentiates functions, not recordings"


class GradientTape:
    """The neutral tape over JAX: a context manager whose calls become JAX transformations.

    Recording is always on, so the context, ``watch`` and ``persistent`` change nothing: the
    differentiated arguments are the requested sources, and a pullback can be called any number
    of times. Features with no JAX equivalent raise ``NotImplementedError``.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        if not watch_accessed_variables:
            raise NotImplementedError(
                "GradientTape(watch_accessed_variables=False) has no JAX equivalent: "
                f"{_NO_EQUIVALENT}; "
                "pass only the parameters to differentiate as sources"
            )
        self.persistent = persistent

    def __enter__(self) -> GradientTape:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    def watch(self, tensor: Any) -> None:
        """A no-op: JAX differentiates with respect to whatever ``gradient`` is given as sources."""

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
    ) -> Any:
        """``jax.vjp`` of the replayed ``sources -> target`` function, packed like ``sources``."""
        targets = _resolve_targets(target, "gradient")
        flat_sources = [_resolve(s) for s in flatten(sources)]
        if not flat_sources:
            return pack_sequence_as(sources, [])
        slots, positions = _unique_sources(flat_sources)
        _check_inputs_like_jax_grad([_value_of(s) for s in slots])
        graph = SubGraph(targets, slots)
        if output_gradients is None:
            _check_targets_like_jax_grad([t.value for t in targets])
            grads = _record_transform(_vjp, graph, slots, ())
        else:
            cotangents = [_resolve(g) for g in flatten(output_gradients)]
            grads = _record_transform(_vjp_with_output_gradients, graph, slots, cotangents)
        return pack_sequence_as(sources, [grads[p] for p in positions])

    def jacobian(
        self,
        target: Any,
        sources: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: Any = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """``jax.jacrev`` of the replayed function: one jacobian per source (per target leaf)."""
        targets = _resolve_targets(target, "jacobian")
        flat_sources = [_resolve(s) for s in flatten(sources)]
        if not flat_sources:
            return pack_sequence_as(sources, [])
        slots, positions = _unique_sources(flat_sources)
        graph = SubGraph(targets, slots)
        jacobians = _record_transform(_jacrev, graph, slots, (), jit=True)
        per_source = [pack_sequence_as(target, list(jacobians[p :: len(slots)])) for p in positions]
        return pack_sequence_as(sources, per_source)

    def batch_jacobian(
        self,
        target: Any,
        source: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: Any = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """``jax.vmap(jax.jacrev(...))`` over examples: true per-example jacobians."""
        target, source = _one_tensor(target, "target"), _one_tensor(source, "source")
        target_value = _value_of(target)
        # A rank-0 target has no rows: handing it to vmap as the row index makes vmap say so.
        batch_index = jnp.arange(target_value.shape[0]) if jnp.ndim(target_value) else target_value
        graph = SubGraph([target], [source])
        transform = _batch_jacobian_transform(batch_index)
        (jacobian,) = _record_transform(transform, graph, [source], (), jit=True)
        return jacobian

    def stop_recording(self) -> Any:
        raise NotImplementedError(
            f"GradientTape.stop_recording has no JAX equivalent: {_NO_EQUIVALENT}; "
            "use jax.lax.stop_gradient (fw.stop_gradient) on the values to exclude"
        )

    def reset(self) -> None:
        raise NotImplementedError(
            f"GradientTape.reset has no JAX equivalent: {_NO_EQUIVALENT}; nothing is kept to reset"
        )

    def watched_variables(self) -> tuple[Any, ...]:
        raise NotImplementedError(
            f"GradientTape.watched_variables has no JAX equivalent: {_NO_EQUIVALENT}; "
            "the differentiated parameters are exactly the sources passed to gradient"
        )


# ---- custom gradients -----------------------------------------------------------------------


def _grads_tuple(grads: Any) -> tuple[Any, ...]:
    """``grad_fn``'s answer as a tuple of values (a bare tensor answers a one-input function)."""
    if not isinstance(grads, (list, tuple)):
        grads = (grads,)
    return tuple(None if g is None else _value_of(_plain(g)) for g in grads)


def custom_gradient(f: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """TensorFlow's ``custom_gradient`` decorator as a ``jax.custom_vjp`` per call
    (``custom_gradient()`` without ``f`` is the decorator itself, as in TensorFlow).

    ``f(*xs)`` returns ``(outputs, grad_fn)``. The custom_vjp's primal runs ``f`` on fresh leaves;
    its ``fwd`` keeps the inputs as residuals; its ``bwd`` runs ``f`` again on them to get
    ``grad_fn`` (a Python closure is not a JAX residual) and returns ``grad_fn(*upstream)``, one
    gradient per input (``None`` = zero). JAX fills unused outputs' upstreams with zeros and checks
    the count, shapes and dtypes of what ``bwd`` returns. So ``f`` itself runs again whenever JAX
    differentiates it (it should be pure, as JAX requires); ``grad_fn`` runs once per gradient.
    """

    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        inputs = [_as_input(a) for a in args]
        structure: list[Any] = []

        def run_user(values: Sequence[Any]) -> tuple[Any, Any]:
            outputs, grad_fn = f(*(TracedArray(v) for v in values), **kwargs)
            if not structure:
                structure.append(outputs)
            return outputs, grad_fn

        def forward(*values: Any) -> tuple[Any, ...]:
            outputs, _ = run_user(values)
            return tuple(_value_of(_plain(o)) for o in flatten(outputs))

        def fwd(*values: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
            return forward(*values), values

        def bwd(residual: tuple[Any, ...], upstream: tuple[Any, ...]) -> tuple[Any, ...]:
            _, grad_fn = run_user(residual)
            return _grads_tuple(grad_fn(*(TracedArray(u) for u in upstream)))

        primitive = jax.custom_vjp(forward)
        primitive.defvjp(fwd, bwd)
        primitive.__name__ = f"custom_vjp({getattr(f, '__name__', 'f')})"
        primitive.runs_user_code = True  # its replay calls f and grad_fn: never jit-compiled
        wrappers = record(primitive, inputs, multiple_outputs=True)
        return pack_sequence_as(structure[0], list(wrappers))

    return decorated
