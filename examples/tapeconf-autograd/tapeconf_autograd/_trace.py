"""The recording behind the autograd adapter: autograd has no tape, so the adapter keeps a trace.

autograd differentiates Python functions (``make_vjp(f)(x)`` runs ``f`` on boxed inputs), but a
tape program computes first and asks for gradients afterwards. So every neutral tensor is a
``Tensor``: a NumPy value plus the ``Node`` that produced it (an ``autograd.numpy`` function, its
inputs, its static keyword arguments). Each op runs eagerly *and* is recorded.

``gradient(target, sources)`` replays the recorded nodes between the sources and the target as a
function of the sources (``SubGraph``) and hands that function to ``autograd.make_vjp``. The
gradient is itself a recorded node ("the vjp of this sub-graph"), so differentiating it again
replays ``make_vjp`` under an outer ``make_vjp``: nested gradients are nested autograd traces, with
no special case (autograd's trace levels do the work).

    >>> x = constant(3.0)
    >>> dx = GradientTape().gradient(x * x, x)
    >>> float(GradientTape().gradient(dx, x))
    2.0
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.builtins import tuple as traced_tuple

# tf.nest's rules (lists, tuples, dicts by sorted key) and TF's unconnected_gradients choices
from conformance.kit import UnconnectedGradients, flatten, pack_sequence_as

__all__ = ["GradientTape", "Node", "SubGraph", "Tensor", "UnconnectedGradients", "record"]

#: Creation order of every Tensor: a value created before all sources cannot depend on them.
_serials = itertools.count()

NO_TAPE = "autograd differentiates functions, not recordings"


class Node:
    """One recorded call ``fn(*input_values, **static)``; ``fn`` may return a tuple of values."""

    __slots__ = ("fn", "inputs", "static")

    def __init__(self, fn: Callable[..., Any], inputs: tuple[Any, ...], static: dict[str, Any]):
        self.fn, self.inputs, self.static = fn, inputs, static

    def run(self, values: Sequence[Any]) -> Any:
        return self.fn(*values, **self.static)


# ---- tensors -------------------------------------------------------------------------------


def value_of(item: Any) -> Any:
    """The NumPy (or autograd box) value behind a Tensor; anything else unchanged."""
    return item.value if isinstance(item, Tensor) else item


def _as_input(item: Any) -> Any:
    """An op argument as recorded: Tensors stay, lists holding Tensors become a recorded array."""
    if isinstance(item, (list, tuple)) and any(isinstance(x, Tensor) for x in flatten(item)):
        return record(_array_from_items, [_as_input(x) for x in item])
    return item


def _array_from_items(*items: Any) -> Any:
    """``anp.array`` of a list argument's items (autograd's way of stacking boxed scalars)."""
    return anp.array(list(items))


def record(
    fn: Callable[..., Any],
    inputs: Sequence[Any],
    static: dict[str, Any] | None = None,
    multiple_outputs: bool = False,
) -> Any:
    """Run ``fn`` now on the inputs' values and record it; its output Tensor(s)."""
    node = Node(fn, tuple(_as_input(item) for item in inputs), dict(static or {}))
    result = node.run([value_of(item) for item in node.inputs])
    if not multiple_outputs:
        return Tensor(result, node)
    return tuple(Tensor(item, node, index) for index, item in enumerate(result))


def _getitem(value: Any, *, index: Any) -> Any:
    return value[index]


def _binary(fn: Callable[..., Any], swap: bool = False) -> Callable[..., Any]:
    def operator(self: Tensor, other: Any) -> Tensor:
        return record(fn, (other, self) if swap else (self, other))

    return operator


class Tensor:
    """A neutral tensor: a NumPy value and the node that produced it (``None`` for a leaf)."""

    __slots__ = ("value", "node", "index", "serial")
    __array_ufunc__ = None  # NumPy defers to the reflected operators below (np.float32(2) * x)
    __hash__ = None  # type: ignore[assignment]  # == is elementwise, as on tf.Tensor

    def __init__(self, value: Any, node: Node | None = None, index: int | None = None) -> None:
        self.value, self.node, self.index = value, node, index
        self.serial = next(_serials)

    __add__, __radd__ = _binary(anp.add), _binary(anp.add, swap=True)
    __sub__, __rsub__ = _binary(anp.subtract), _binary(anp.subtract, swap=True)
    __mul__, __rmul__ = _binary(anp.multiply), _binary(anp.multiply, swap=True)
    __truediv__, __rtruediv__ = _binary(anp.true_divide), _binary(anp.true_divide, swap=True)
    __pow__, __rpow__ = _binary(anp.power), _binary(anp.power, swap=True)
    __matmul__, __rmatmul__ = _binary(anp.matmul), _binary(anp.matmul, swap=True)
    __lt__, __le__ = _binary(anp.less), _binary(anp.less_equal)
    __gt__, __ge__ = _binary(anp.greater), _binary(anp.greater_equal)
    __eq__, __ne__ = _binary(anp.equal), _binary(anp.not_equal)  # type: ignore[assignment]
    # NumPy's & | ^ ~: logical on bool arrays, bitwise on integers
    __and__, __or__ = _binary(anp.bitwise_and), _binary(anp.bitwise_or)
    __xor__ = _binary(anp.bitwise_xor)

    def __invert__(self) -> Tensor:
        return record(anp.invert, (self,))

    def __neg__(self) -> Tensor:
        return record(anp.negative, (self,))

    def __abs__(self) -> Tensor:
        return record(anp.abs, (self,))

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, Tensor):
            index = np.asarray(index)
        return record(_getitem, (self,), {"index": index})

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.value, dtype=dtype)

    def numpy(self) -> np.ndarray:
        return np.asarray(self.value)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(anp.shape(self.value))

    @property
    def ndim(self) -> int:
        return anp.ndim(self.value)

    @property
    def dtype(self) -> np.dtype:
        return anp.result_type(self.value)

    def __repr__(self) -> str:
        origin = "leaf" if self.node is None else getattr(self.node.fn, "__name__", "op")
        return f"<Tensor {self.dtype}{list(self.shape)} {self.value} from {origin}>"


# ---- replaying a recording as a function of its sources ------------------------------------------


class SubGraph:
    """The recorded computation from ``sources`` to ``targets``, replayable as a pure function.

    Nodes that depend on a source form the *cone* and are re-run by ``replay``. Every Tensor that
    feeds the cone without depending on a source is a *boundary* value: it is passed in explicitly,
    so that an enclosing ``make_vjp`` (a nested gradient) can still reach it.
    """

    def __init__(self, targets: Sequence[Any], sources: Sequence[Tensor]) -> None:
        self.targets, self.sources = tuple(targets), tuple(sources)
        self._source_ids = {id(s) for s in sources}
        self._first = min((s.serial for s in sources), default=math.inf)
        self._live: dict[int, bool] = {}  # id(node) -> depends on a source
        order = self._topological_order()
        self.cone = tuple(node for node in order if self._live[id(node)])
        candidates = [item for node in self.cone for item in node.inputs] + list(self.targets)
        boundary = {id(x): x for x in candidates if isinstance(x, Tensor) and not self._is_live(x)}
        self.boundary = tuple(boundary.values())

    def _may_depend(self, item: Any) -> bool:
        return (
            isinstance(item, Tensor)
            and item.node is not None
            and id(item) not in self._source_ids
            and item.serial > self._first
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
                    stack.extend(x.node for x in reversed(node.inputs) if self._may_depend(x))
                else:
                    stack.pop()
                    self._live[id(node)] = any(self._is_live(x) for x in node.inputs)
                    order.append(node)
        return order

    def _is_live(self, item: Any) -> bool:
        if not isinstance(item, Tensor):
            return False
        return id(item) in self._source_ids or (
            item.node is not None and self._live.get(id(item.node), False)
        )

    def replay(self, source_values: Sequence[Any], boundary_values: Sequence[Any]) -> tuple:
        """The targets' values recomputed from the given source and boundary values."""
        env = {id(s): v for s, v in zip(self.sources, source_values, strict=True)}
        env.update({id(b): v for b, v in zip(self.boundary, boundary_values, strict=True)})
        outputs: dict[int, Any] = {}

        def lookup(item: Any) -> Any:
            if not isinstance(item, Tensor):
                return item
            if id(item) in env:
                return env[id(item)]
            result = outputs[id(item.node)]
            return result if item.index is None else result[item.index]

        for node in self.cone:
            outputs[id(node)] = node.run([lookup(item) for item in node.inputs])
        return tuple(lookup(target) for target in self.targets)


# ---- differentiation ---------------------------------------------------------------------------


def _record_transform(
    transform: Callable[..., tuple[Any, ...]],
    graph: SubGraph,
    extras: Sequence[Any] = (),
) -> tuple[Tensor, ...]:
    """Record ``transform`` of the replayed ``graph`` as one node with one output per result.

    Its inputs are the sources, the boundary Tensors and ``extras`` (cotangents), so a later
    gradient through it differentiates the transform itself: a nested autograd trace.
    """
    n_sources, n_boundary = len(graph.sources), len(graph.boundary)

    def fn(*values: Any) -> tuple[Any, ...]:
        sources, rest = values[:n_sources], values[n_sources:]
        boundary, extra_values = rest[:n_boundary], rest[n_boundary:]

        def function(*s: Any) -> Any:
            """The targets as a function of the sources: what autograd differentiates."""
            return traced_tuple(graph.replay(s, boundary))

        return transform(function, len(graph.targets), sources, extra_values)

    fn.__name__ = transform.__name__
    return record(fn, (*graph.sources, *graph.boundary, *extras), multiple_outputs=True)


def _vjp(
    function: Callable[..., Any], _: int, sources: Sequence[Any], cotangents: Sequence[Any]
) -> tuple:
    """``autograd.make_vjp`` over all sources, seeded with ones (or the given cotangents)."""
    pullback, outputs = autograd.make_vjp(function, argnum=tuple(range(len(sources))))(*sources)
    seeds = tuple(cotangents) if cotangents else tuple(anp.ones_like(o) for o in outputs)
    return tuple(pullback(seeds))


def _jacobians(
    function: Callable[..., Any], n_targets: int, sources: Sequence[Any], _: Sequence[Any]
) -> tuple:
    """``autograd.jacobian`` per (target, source) pair, target-major."""
    return tuple(
        autograd.jacobian(lambda *s, t=t: function(*s)[t], argnum=i)(*sources)
        for t in range(n_targets)
        for i in range(len(sources))
    )


def _distinct(sources: Sequence[Any]) -> tuple[list[Tensor], list[int]]:
    """The distinct source Tensors (autograd takes each argument once) and each position's slot.

    A source that is not a Tensor becomes a fresh leaf: an argument the function does not use.
    """
    sources = [s if isinstance(s, Tensor) else Tensor(s) for s in sources]
    slots: list[Tensor] = []
    slot_of: dict[int, int] = {}
    for source in sources:
        slot_of.setdefault(id(source), len(slots))
        if len(slots) == slot_of[id(source)]:
            slots.append(source)
    return slots, [slot_of[id(s)] for s in sources]


class GradientTape:
    """A context manager whose calls become autograd transformations of the replayed recording.

    Recording is always on, so the context, ``watch`` and ``persistent`` change nothing: the
    differentiated arguments are the requested sources, and a vjp can be called again and again.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        if not watch_accessed_variables:
            raise NotImplementedError(
                f"GradientTape(watch_accessed_variables=False): {NO_TAPE}; "
                "pass only the arrays to differentiate as sources"
            )
        self.persistent = persistent

    def __enter__(self) -> GradientTape:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    def watch(self, tensor: Any) -> None:
        """A no-op: autograd differentiates with respect to whatever ``gradient`` is given."""

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
    ) -> Any:
        """``autograd.make_vjp`` of the replayed ``sources -> target`` function."""
        slots, positions = _distinct(flatten(sources))
        if not slots:
            return pack_sequence_as(sources, [])
        graph = SubGraph(flatten(target), slots)
        extras = [] if output_gradients is None else flatten(output_gradients)
        grads = _record_transform(_vjp, graph, extras)
        return pack_sequence_as(sources, [grads[p] for p in positions])

    def jacobian(
        self,
        target: Any,
        sources: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: Any = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """``autograd.jacobian`` of the replayed function: one jacobian per source (per target)."""
        slots, positions = _distinct(flatten(sources))
        if not slots:
            return pack_sequence_as(sources, [])
        graph = SubGraph(flatten(target), slots)
        jacobians = _record_transform(_jacobians, graph)
        per_source = [pack_sequence_as(target, jacobians[p :: len(slots)]) for p in positions]
        return pack_sequence_as(sources, per_source)

    def batch_jacobian(self, target: Any, source: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "GradientTape.batch_jacobian: autograd has no per-example jacobian (no vmap); "
            "take autograd.jacobian and keep its diagonal blocks"
        )

    def stop_recording(self) -> Any:
        raise NotImplementedError(
            f"GradientTape.stop_recording: {NO_TAPE}; use fw.stop_gradient on the values to exclude"
        )

    def reset(self) -> None:
        raise NotImplementedError(f"GradientTape.reset: {NO_TAPE}; nothing is kept to reset")

    def watched_variables(self) -> tuple[Any, ...]:
        raise NotImplementedError(
            f"GradientTape.watched_variables: {NO_TAPE}; the differentiated arrays are the sources"
        )
