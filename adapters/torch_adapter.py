"""PyTorch behind the neutral tape API: each TensorFlow-shaped call becomes torch's own idiom.

torch has no tape: it records every operation on a tensor that requires grad, whether or not a
``GradientTape`` block is open. So ``watch(x)`` is ``x.requires_grad_()``, ``gradient`` is
``torch.autograd.grad`` with torch's defaults (``allow_unused=False``: an unconnected source
raises torch's own error), ``persistent=True`` is ``retain_graph=True``, and a gradient taken while
another tape records is ``create_graph=True``. Nothing TensorFlow does that torch does not is
emulated; every decision is a row of ``TorchAdapter().mappings()``, which the report prints.

``torch`` is imported only inside functions, so this module imports (and the adapter can say why it
is unavailable) without torch installed.

Example::

    fw = TorchAdapter().namespace("CPU:0")
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)  # tensor(6.)
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.kit import (
    ErrorRule,
    TapeStack,
    UnconnectedGradients,
    classify_by_rules,
    flatten,
    pack_sequence_as,
    raised_by_user_code,
    wants_zero,
)
from conformance.protocol import FEATURES, ErrorKind, Mapping_

__all__ = ["GradientTape", "TorchAdapter", "TorchNamespace", "UnconnectedGradients"]

_INSTALL_HINT = "pip install 'tape-conformance[torch]', or torch==2.13.0"
_ADAPTERS_DIR = Path(__file__).resolve().parent


def _torch() -> Any:
    """The torch module, imported on first use so that this module imports without it."""
    import torch

    return torch


# ---- features torch lacks -------------------------------------------------------------------

#: Why a feature is unsupported, in words a user porting TensorFlow code can act on.
_UNSUPPORTED: dict[str, str] = {
    "watch_accessed_variables": (
        "torch records every op on a tensor with requires_grad=True, with no tape scope that could "
        "skip variable reads; set requires_grad=False on (or .detach()) the parameters to exclude"
    ),
    "watched_variables": (
        "torch has no tape that lists what it watched; keep your own list of parameters "
        "(e.g. module.parameters()) and filter on requires_grad"
    ),
    "reset": (
        "torch has no tape to reset; recompute from fresh leaf tensors, or .detach() the tensors "
        "whose recorded history you want to drop"
    ),
    "strings": "torch has no string tensors; keep strings outside the differentiated computation",
}


# ---- the tape ---------------------------------------------------------------------------------

#: This thread's open tapes, innermost last: they decide ``create_graph`` (torch has one graph).
_OPEN_TAPES = TapeStack()


class GradientTape:
    """``tf.GradientTape`` over torch autograd: records nothing, since torch records every op.

    The only state it keeps is whether it is open (on a thread-local stack) and paused by
    ``stop_recording``; a gradient requested while some tape records is taken with
    ``create_graph=True`` so that the recording tape can differentiate it again.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        if not watch_accessed_variables:
            reason = _UNSUPPORTED["watch_accessed_variables"]
            raise NotImplementedError(f"GradientTape(watch_accessed_variables=False): {reason}")
        self.persistent = bool(persistent)
        self.paused = False

    def __enter__(self) -> GradientTape:
        _OPEN_TAPES.push(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _OPEN_TAPES.remove(self)

    def watch(self, tensor: Any) -> None:
        """``requires_grad_()`` on each leaf of the nest; torch's own error for ints, non-leaves."""
        for leaf in flatten(tensor):
            leaf.requires_grad_()

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """``torch.no_grad()``: stops recording on this thread (every tape: torch has one graph)."""
        paused_before = self.paused
        self.paused = True
        try:
            with _torch().no_grad():
                yield
        finally:
            self.paused = paused_before

    def reset(self) -> None:
        raise NotImplementedError(f"GradientTape.reset(): {_UNSUPPORTED['reset']}")

    def watched_variables(self) -> tuple[Any, ...]:
        raise NotImplementedError(
            f"GradientTape.watched_variables(): {_UNSUPPORTED['watched_variables']}"
        )

    def _retain_graph(self) -> bool | None:
        """``True`` when persistent, else torch's default (``None``: retain iff ``create_graph``).

        With ``create_graph`` the new graph shares nodes with the recorded one (``x*x*x``'s
        backward multiplies by the recorded ``x*x``), so freeing it would break the outer tape.
        """
        return True if self.persistent else None

    def _create_graph(self) -> bool:
        """Whether a tape is open and recording now (this one counts only when persistent)."""
        return _OPEN_TAPES.records_gradient_of(self)

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
    ) -> Any:
        """``torch.autograd.grad`` on the flattened nests, repacked like ``sources``."""
        zero = wants_zero(unconnected_gradients)
        grads = _torch().autograd.grad(
            flatten(target),
            flatten(sources),
            grad_outputs=None if output_gradients is None else flatten(output_gradients),
            retain_graph=self._retain_graph(),
            create_graph=self._create_graph(),
            allow_unused=zero,
            materialize_grads=zero,
        )
        return pack_sequence_as(sources, list(grads))

    def jacobian(
        self,
        target: Any,
        sources: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: int | None = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """One batched ``autograd.grad`` with the rows of an identity as seeds, per source reshaped
        to ``target.shape + source.shape``."""
        torch = _torch()
        zero = wants_zero(unconnected_gradients)
        flat_sources = flatten(sources)
        flat_target = target.reshape(-1)
        seeds = torch.eye(flat_target.numel(), dtype=target.dtype, device=target.device)
        rows = torch.autograd.grad(
            flat_target,
            flat_sources,
            grad_outputs=seeds,
            is_grads_batched=True,
            retain_graph=self._retain_graph(),
            create_graph=self._create_graph(),
            allow_unused=zero,
        )
        jacobians = [
            _jacobian_block(row, tuple(target.shape) + tuple(source.shape), target, zero)
            for row, source in zip(rows, flat_sources, strict=True)
        ]
        return pack_sequence_as(sources, jacobians)

    def batch_jacobian(
        self,
        target: Any,
        source: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: int | None = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """Per-example jacobian ``[B, t..., s...]``: seed ``j`` picks output ``j`` of each row."""
        torch = _torch()
        zero = wants_zero(unconnected_gradients)
        _check_batch_shapes(target, source)
        batch = target.shape[0]
        per_example = math.prod(target.shape[1:])
        seeds = torch.eye(per_example, dtype=target.dtype, device=target.device)
        seeds = seeds.unsqueeze(1).expand(per_example, batch, per_example)
        (rows,) = torch.autograd.grad(
            target.reshape(batch, per_example),
            [source],
            grad_outputs=seeds,
            is_grads_batched=True,
            retain_graph=self._retain_graph(),
            create_graph=self._create_graph(),
            allow_unused=zero,
        )
        shape = tuple(target.shape) + tuple(source.shape[1:])
        if rows is None:
            return _jacobian_block(None, shape, target, zero)
        return rows.movedim(0, 1).reshape(shape)


def _jacobian_block(row: Any, shape: tuple[int, ...], target: Any, zero: bool) -> Any:
    """A batched gradient reshaped to the jacobian's shape; zeros (target dtype) when unconnected.

    ``materialize_grads=True`` is not used: under ``is_grads_batched`` it returns zeros without the
    batch dimension, so the zeros of the jacobian's shape are made here.
    """
    if row is not None:
        return row.reshape(shape)
    if zero:
        return _torch().zeros(shape, dtype=target.dtype, device=target.device)
    return None


def _check_batch_shapes(target: Any, source: Any) -> None:
    """``batch_jacobian`` needs a leading batch dimension shared by ``target`` and ``source``."""
    target_shape, source_shape = tuple(target.shape), tuple(source.shape)
    if not target_shape or not source_shape or target_shape[0] != source_shape[0]:
        raise ValueError(
            f"Need first dimension of target shape ({target_shape}) and source shape "
            f"({source_shape}) to match: batch_jacobian needs a shared leading batch dimension"
        )


# ---- variables --------------------------------------------------------------------------------


@functools.cache
def _variable_class() -> type:
    """``torch.nn.Parameter`` with TensorFlow's variable methods, defined once torch is imported."""
    torch = _torch()

    class TorchVariable(torch.nn.Parameter):
        """A Parameter; ``assign``/``assign_add`` are in-place updates under ``torch.no_grad()``."""

        @property
        def trainable(self) -> bool:
            return self.requires_grad

        def assign(self, value: Any) -> TorchVariable:
            with torch.no_grad():
                self.copy_(torch.as_tensor(value, device=self.device))
            return self

        def assign_add(self, delta: Any) -> TorchVariable:
            with torch.no_grad():
                self.add_(delta)
            return self

        def read_value(self) -> TorchVariable:
            return self

        def __repr__(self) -> str:
            return f"Parameter containing:\n{self.detach()!r}"

        def numpy(self) -> Any:
            return self.detach().cpu().resolve_conj().numpy()

    return TorchVariable


# ---- custom gradients -------------------------------------------------------------------------


def _custom_gradient(f: Callable[..., Any], device: Any) -> Callable[..., Any]:
    """``f(*x) -> (outputs, grad_fn)`` as a ``torch.autograd.Function`` built per call.

    ``backward`` runs ``grad_fn`` under torch's grad mode for the call, so with ``create_graph``
    its ops are recorded and second derivatives go through it (nested custom gradients included).
    """
    torch = _torch()

    @functools.wraps(f)
    def decorated(*args: Any) -> Any:
        structure: list[Any] = []

        class CustomGradient(torch.autograd.Function):
            @staticmethod
            def forward(ctx: Any, *inputs: Any) -> Any:
                outputs, grad_fn = f(*inputs)
                ctx.user_grad_fn = grad_fn
                structure.append(outputs)
                flat = [_as_output_tensor(torch, value, device) for value in flatten(outputs)]
                return flat[0] if len(flat) == 1 else tuple(flat)

            @staticmethod
            def backward(ctx: Any, *upstream: Any) -> Any:
                grads = ctx.user_grad_fn(*upstream)
                return tuple(grads) if isinstance(grads, (list, tuple)) else grads

        result = CustomGradient.apply(*args)
        flat_result = list(result) if isinstance(result, tuple) else [result]
        return pack_sequence_as(structure[0], flat_result)

    return decorated


def _as_output_tensor(torch: Any, value: Any, device: Any) -> Any:
    """A Python number returned by ``f`` as a tensor: only tensor outputs get gradients in torch."""
    if isinstance(value, (bool, int, float, complex)):
        return torch.as_tensor(value, device=device)
    return value


# ---- the namespace ----------------------------------------------------------------------------


class TorchNamespace:
    """The neutral API on torch, placing new tensors on one device (see ``mappings()``)."""

    GradientTape = GradientTape
    UnconnectedGradients = UnconnectedGradients

    def __init__(self, device: Any) -> None:
        torch = _torch()
        self._torch = torch
        self._device = device
        self.float16, self.float32, self.float64 = torch.float16, torch.float32, torch.float64
        self.int32, self.int64, self.bool = torch.int32, torch.int64, torch.bool
        self.complex64, self.complex128 = torch.complex64, torch.complex128

    def _tensor(self, value: Any) -> Any:
        """``value`` as a tensor on this device, where a torch function rejects Python numbers."""
        return self._torch.as_tensor(value, device=self._device)

    # tensors and the tape
    def constant(self, value: Any, dtype: Any = None) -> Any:
        if isinstance(value, self._torch.Tensor):
            return self._torch.as_tensor(value, dtype=dtype, device=self._device)
        return self._torch.tensor(value, dtype=dtype, device=self._device)

    def Variable(self, value: Any, trainable: bool = True, dtype: Any = None) -> Any:
        if isinstance(value, self._torch.Tensor):
            data = value.detach().clone().to(device=self._device, dtype=dtype)
        else:
            data = self._torch.tensor(value, dtype=dtype, device=self._device)
        return _variable_class()(data, requires_grad=trainable)

    def stop_gradient(self, x: Any) -> Any:
        return x.detach()

    def custom_gradient(self, f: Callable[..., Any] | None = None) -> Callable[..., Any]:
        if f is None:  # custom_gradient() is the decorator itself, as in TensorFlow
            return self.custom_gradient
        return _custom_gradient(f, self._device)

    def identity(self, x: Any) -> Any:
        return self._torch.clone(x)

    def cast(self, x: Any, dtype: Any) -> Any:
        return self._tensor(x).to(dtype)

    def zeros(self, shape: Any, dtype: Any = None) -> Any:
        return self._torch.zeros(shape, dtype=dtype, device=self._device)

    def ones(self, shape: Any, dtype: Any = None) -> Any:
        return self._torch.ones(shape, dtype=dtype, device=self._device)

    def zeros_like(self, x: Any) -> Any:
        return self._torch.zeros_like(x)

    def ones_like(self, x: Any) -> Any:
        return self._torch.ones_like(x)

    # arithmetic (Python scalars mixed with tensors use torch's own promotion)
    def add(self, a: Any, b: Any) -> Any:
        return self._torch.add(a, b)

    def subtract(self, a: Any, b: Any) -> Any:
        return self._torch.subtract(a, b)

    def multiply(self, a: Any, b: Any) -> Any:
        return self._torch.multiply(a, b)

    def divide(self, a: Any, b: Any) -> Any:
        return self._torch.divide(a, b)

    def pow(self, a: Any, b: Any) -> Any:
        return self._torch.pow(a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return self._torch.maximum(self._tensor(a), self._tensor(b))

    def minimum(self, a: Any, b: Any) -> Any:
        return self._torch.minimum(self._tensor(a), self._tensor(b))

    def negative(self, x: Any) -> Any:
        return self._torch.neg(x)

    def square(self, x: Any) -> Any:
        return self._torch.square(x)

    def sqrt(self, x: Any) -> Any:
        return self._torch.sqrt(x)

    def exp(self, x: Any) -> Any:
        return self._torch.exp(x)

    def log(self, x: Any) -> Any:
        return self._torch.log(x)

    def sin(self, x: Any) -> Any:
        return self._torch.sin(x)

    def cos(self, x: Any) -> Any:
        return self._torch.cos(x)

    def tanh(self, x: Any) -> Any:
        return self._torch.tanh(x)

    def sigmoid(self, x: Any) -> Any:
        return self._torch.sigmoid(x)

    def relu(self, x: Any) -> Any:
        return self._torch.relu(x)

    def softmax(self, x: Any, axis: int = -1) -> Any:
        return self._torch.softmax(x, dim=axis)

    def abs(self, x: Any) -> Any:
        return self._torch.abs(x)

    def sign(self, x: Any) -> Any:
        return self._torch.sign(x)

    def floor(self, x: Any) -> Any:
        return self._torch.floor(x)

    def round(self, x: Any) -> Any:
        return self._torch.round(x)

    def where(self, condition: Any, x: Any, y: Any) -> Any:
        return self._torch.where(self._tensor(condition), x, y)

    def real(self, x: Any) -> Any:
        return self._torch.real(x)

    def imag(self, x: Any) -> Any:
        return self._torch.imag(x)

    def conj(self, x: Any) -> Any:
        return self._torch.conj(x)

    def norm(self, x: Any) -> Any:
        return self._torch.linalg.vector_norm(x)

    # linear algebra, reductions and shapes
    def matmul(self, a: Any, b: Any) -> Any:
        return self._torch.matmul(a, b)

    def reduce_sum(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._torch.sum(x, dim=axis, keepdim=keepdims)

    def reduce_mean(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._torch.mean(x, dim=axis, keepdim=keepdims)

    def reduce_max(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._torch.amax(x, dim=() if axis is None else axis, keepdim=keepdims)

    def reshape(self, x: Any, shape: Any) -> Any:
        return self._torch.reshape(x, tuple(shape))

    def transpose(self, x: Any, perm: Any = None) -> Any:
        order = tuple(reversed(range(x.ndim))) if perm is None else tuple(perm)
        return self._torch.permute(x, order)

    def concat(self, values: Sequence[Any], axis: int) -> Any:
        return self._torch.cat(list(values), dim=axis)

    def stack(self, values: Sequence[Any], axis: int = 0) -> Any:
        return self._torch.stack(list(values), dim=axis)

    def gather(self, params: Any, indices: Any, axis: int = 0) -> Any:
        index = self._tensor(indices)
        axis = axis % params.ndim
        picked = self._torch.index_select(params, axis, index.reshape(-1))
        return picked.reshape(params.shape[:axis] + index.shape + params.shape[axis + 1 :])

    def tile(self, x: Any, multiples: Any) -> Any:
        return self._torch.tile(x, tuple(multiples))

    # protocol 1.2, extended_ops: comparisons and logic
    def equal(self, a: Any, b: Any) -> Any:
        return self._torch.eq(self._tensor(a), b)

    def not_equal(self, a: Any, b: Any) -> Any:
        return self._torch.ne(self._tensor(a), b)

    def greater(self, a: Any, b: Any) -> Any:
        return self._torch.gt(self._tensor(a), b)

    def greater_equal(self, a: Any, b: Any) -> Any:
        return self._torch.ge(self._tensor(a), b)

    def less(self, a: Any, b: Any) -> Any:
        return self._torch.lt(self._tensor(a), b)

    def less_equal(self, a: Any, b: Any) -> Any:
        return self._torch.le(self._tensor(a), b)

    def logical_and(self, a: Any, b: Any) -> Any:
        return self._torch.logical_and(self._tensor(a), self._tensor(b))

    def logical_or(self, a: Any, b: Any) -> Any:
        return self._torch.logical_or(self._tensor(a), self._tensor(b))

    def logical_not(self, x: Any) -> Any:
        return self._torch.logical_not(self._tensor(x))

    def argmax(self, x: Any, axis: int | None = None) -> Any:
        return self._torch.argmax(x, dim=axis)

    # elementwise and reductions
    def ceil(self, x: Any) -> Any:
        return self._torch.ceil(x)

    def reciprocal(self, x: Any) -> Any:
        return self._torch.reciprocal(x)

    def clip_by_value(self, x: Any, clip_value_min: Any, clip_value_max: Any) -> Any:
        return self._torch.clamp(x, clip_value_min, clip_value_max)

    def reduce_min(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self._torch.amin(x, dim=() if axis is None else axis, keepdim=keepdims)

    def reduce_prod(self, x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if axis is None:
            return self._torch.prod(x)
        return self._torch.prod(x, dim=axis, keepdim=keepdims)

    # linear algebra and shapes
    def tensordot(self, a: Any, b: Any, axes: Any) -> Any:
        return self._torch.tensordot(a, b, dims=axes)

    def broadcast_to(self, x: Any, shape: Any) -> Any:
        return self._torch.broadcast_to(x, tuple(shape))

    def expand_dims(self, x: Any, axis: int) -> Any:
        return self._torch.unsqueeze(x, axis)

    def squeeze(self, x: Any, axis: Any = None) -> Any:
        return self._torch.squeeze(x) if axis is None else self._torch.squeeze(x, dim=axis)

    def unstack(self, x: Any, axis: int = 0) -> list[Any]:
        return list(self._torch.unbind(x, dim=axis))

    def range(self, start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None) -> Any:
        if limit is None:
            start, limit = 0, start
        return self._torch.arange(start, limit, delta, dtype=dtype, device=self._device)

    # eager control flow: Python's own, which torch's eager autograd records as it runs
    def cond(self, pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
        return true_fn() if bool(pred) else false_fn()

    def while_loop(self, cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any) -> Any:
        values = list(loop_vars)
        while bool(cond(*values)):
            values = list(body(*values))
        return type(loop_vars)(values)


# ---- mapping decisions (printed in the report) -------------------------------------------------

_MAPPINGS: tuple[tuple[str, str, str], ...] = (
    (
        "constant(v, dtype=None)",
        "torch.tensor(v, dtype=dtype, device=d)",
        "torch's defaults: Python float -> float32, Python int -> int64 (TF: int32), complex -> "
        "complex64; an existing tensor goes through torch.as_tensor (no copy, like tf.constant)",
    ),
    (
        "float16 ... complex128, bool",
        "torch.float16 ... torch.complex128, torch.bool",
        "the neutral dtype objects are torch's dtypes",
    ),
    (
        "Variable(v, trainable=True, dtype=None)",
        "torch.nn.Parameter(torch.tensor(v, dtype), requires_grad=trainable) (a thin subclass)",
        "the Parameter is a leaf that requires grad, so it is differentiable everywhere, not only "
        "inside a tape; an int Parameter cannot require grad, so Variable(3) raises torch's error",
    ),
    (
        "Variable.assign(v) / assign_add(d)",
        "with torch.no_grad(): p.copy_(torch.as_tensor(v)) / p.add_(d)",
        "in-place updates outside the graph; they bump the version counter, so a backward that "
        "saved the old value raises torch's in-place modification error",
    ),
    (
        "Variable.read_value()",
        "p",
        "torch reads a parameter by using it; there is no snapshot, later assigns show through",
    ),
    (
        "Variable.numpy()",
        "p.detach().cpu().numpy()",
        "Parameter.numpy() refuses tensors that require grad; detach() is torch's idiom",
    ),
    (
        "GradientTape(persistent, watch_accessed_variables)",
        "a context manager that records nothing; a thread-local stack of open tapes",
        "torch records every op on tensors that require grad; the stack only decides create_graph; "
        "watch_accessed_variables=False raises NotImplementedError (no equivalent)",
    ),
    (
        "GradientTape.watch(x)",
        "x.requires_grad_() on each leaf of the nest",
        "torch's own errors for int tensors and non-leaves surface as they are; the flag is global "
        "and outlives the tape",
    ),
    (
        "GradientTape.gradient(target, sources, output_gradients, unconnected_gradients)",
        "torch.autograd.grad(flat(target), flat(sources), grad_outputs=flat(output_gradients), "
        "retain_graph=persistent or None, create_graph=<a tape records>, "
        "allow_unused=materialize_grads=(unconnected=='zero'))",
        "torch's default allow_unused=False makes an unconnected source raise its own "
        "RuntimeError; a non-scalar target without output_gradients raises torch's "
        "scalar-outputs error",
    ),
    (
        "persistent=True / False",
        "retain_graph=True / None (torch's default: = create_graph)",
        "without retain_graph torch frees saved tensors, so a second gradient fails only if the "
        "graph saved tensors (x*x does, x+1 does not); under create_graph torch keeps the graph, "
        "since the gradient's own graph reuses it (x*x*x)",
    ),
    (
        "gradient while a tape records (nested tapes)",
        "create_graph=True",
        "any open, unpaused tape other than this one (this one too when persistent), so the outer "
        "tape can differentiate the result",
    ),
    (
        "GradientTape.stop_recording()",
        "torch.no_grad()",
        "stops recording for the whole thread, not for one tape: torch has one graph",
    ),
    ("GradientTape.reset()", "NotImplementedError", _UNSUPPORTED["reset"]),
    ("GradientTape.watched_variables()", "NotImplementedError", _UNSUPPORTED["watched_variables"]),
    (
        "GradientTape.jacobian(target, sources)",
        "torch.autograd.grad(target.reshape(-1), flat(sources), grad_outputs=torch.eye(n), "
        "is_grads_batched=True), reshaped to target.shape + source.shape",
        "torch's vmapped vector-Jacobian product over the rows of the identity; 'zero' fills zeros "
        "of the jacobian's shape (materialize_grads would drop the batch dimension)",
    ),
    (
        "GradientTape.batch_jacobian(target, source)",
        "torch.autograd.grad(target.reshape(B, m), source, grad_outputs=eye(m) expanded over B, "
        "is_grads_batched=True).movedim(0, 1)",
        "per-example jacobians assume examples are independent (as TF does); a batch dimension "
        "mismatch raises ValueError",
    ),
    (
        "UnconnectedGradients.NONE / ZERO",
        "allow_unused=False / allow_unused=materialize_grads=True",
        "'none' keeps torch's default, which raises for an unconnected source instead of None",
    ),
    (
        "custom_gradient(f)",
        "a torch.autograd.Function built per call: forward runs f, backward calls its grad_fn",
        "upstream for unused outputs is zeros (torch's materialize default, as TF); Python-number "
        "outputs become tensors so they can carry a gradient; only explicit inputs get gradients",
    ),
    ("stop_gradient(x)", "x.detach()", "torch's way to cut a tensor out of the graph"),
    ("identity(x)", "torch.clone(x)", "a new tensor that stays in the graph with gradient 1"),
    (
        "cast(x, dtype)",
        "x.to(dtype)",
        "a cast to an integer dtype cuts the graph, as torch cannot differentiate ints",
    ),
    (
        "zeros/ones(shape, dtype), zeros_like/ones_like(x)",
        "torch.zeros/ones(shape, dtype, device), torch.zeros_like/ones_like(x)",
        "torch's default dtype is float32, as TF's",
    ),
    (
        "add subtract multiply divide pow",
        "torch.add torch.subtract torch.multiply torch.divide torch.pow",
        "Python scalars mixed with tensors use torch's own type promotion",
    ),
    (
        "maximum(a, b) / minimum(a, b)",
        "torch.maximum / torch.minimum",
        "they take tensors only, so Python numbers go through torch.as_tensor (0-d tensor "
        "promotion); at ties torch splits the gradient evenly",
    ),
    (
        "negative square sqrt exp log sin cos tanh sigmoid relu abs sign floor round",
        "torch.neg torch.square torch.sqrt torch.exp torch.log torch.sin torch.cos torch.tanh "
        "torch.sigmoid torch.relu torch.abs torch.sign torch.floor torch.round",
        "torch's elementwise functions with torch's derivative conventions (floor/round/sign give "
        "zeros, not None)",
    ),
    ("softmax(x, axis=-1)", "torch.softmax(x, dim=axis)", "same default axis"),
    ("where(cond, x, y)", "torch.where(cond, x, y)", "torch's where; cond made a tensor"),
    (
        "real imag conj",
        "torch.real torch.imag torch.conj",
        "torch.imag of a real tensor raises (TF returns zeros); conj is a lazy view",
    ),
    ("norm(x)", "torch.linalg.vector_norm(x)", "the 2-norm of all elements (flattened)"),
    ("matmul(a, b)", "torch.matmul(a, b)", "same broadcasting batch matmul"),
    (
        "reduce_sum/reduce_mean(x, axis, keepdims)",
        "torch.sum/torch.mean(x, dim=axis, keepdim=)",
        "torch sums integers into int64; torch.mean rejects integer input",
    ),
    (
        "reduce_max(x, axis, keepdims)",
        "torch.amax(x, dim=axis or (), keepdim=)",
        "amax takes TF's axis forms and splits the gradient evenly between ties",
    ),
    (
        "reshape(x, shape) / transpose(x, perm=None)",
        "torch.reshape / torch.permute",
        "perm=None reverses the dimensions, TF's default",
    ),
    (
        "concat(values, axis) / stack(values, axis=0) / tile(x, multiples)",
        "torch.cat / torch.stack / torch.tile",
        "same semantics",
    ),
    (
        "gather(params, indices, axis=0)",
        "torch.index_select(params, axis, indices.reshape(-1))",
        "reshaped to params.shape[:axis] + indices.shape + params.shape[axis+1:]; the gradient is "
        "dense (index_add), never TF's IndexedSlices",
    ),
    (
        "equal not_equal greater greater_equal less less_equal (1.2, extended_ops)",
        "torch.eq torch.ne torch.gt torch.ge torch.lt torch.le",
        "torch promotes mixed dtypes where TF raises, and raises for shapes that do not broadcast",
    ),
    (
        "logical_and logical_or logical_not",
        "torch.logical_and torch.logical_or torch.logical_not",
        "torch takes any dtype (nonzero is True) where TF takes bool only",
    ),
    (
        "argmax(x, axis=None)",
        "torch.argmax(x, dim=axis)",
        "torch's default dim=None flattens (TF's default is axis 0); the result is int64 as TF's",
    ),
    ("ceil reciprocal", "torch.ceil torch.reciprocal", "ceil's gradient is zeros, not None"),
    (
        "clip_by_value(x, lo, hi)",
        "torch.clamp(x, lo, hi)",
        "the gradient passes inside [lo, hi] and is zero outside, as TF's",
    ),
    (
        "reduce_min / reduce_prod(x, axis, keepdims)",
        "torch.amin(x, dim=axis or ()) / torch.prod(x[, dim=axis])",
        "amin splits the gradient between ties; torch.prod takes one int dim",
    ),
    ("tensordot(a, b, axes)", "torch.tensordot(a, b, dims=axes)", "same int or axes-list forms"),
    (
        "broadcast_to / expand_dims / squeeze(x, axis=None)",
        "torch.broadcast_to / torch.unsqueeze / torch.squeeze(x[, dim=axis])",
        "torch.squeeze of a dimension that is not 1 leaves it, where TF raises",
    ),
    ("unstack(x, axis=0)", "list(torch.unbind(x, dim=axis))", "torch's split into views"),
    (
        "range(start, limit=None, delta=1, dtype=None)",
        "torch.arange(start, limit, delta, dtype, device)",
        "integer bounds give int64 (TF: int32); float bounds give torch's default float32",
    ),
    (
        "cond(pred, true_fn, false_fn) / while_loop(cond, body, loop_vars)",
        "Python if / while on bool(pred)",
        "TF's eager cond and while_loop run the branch and iterations in Python; torch.cond and "
        "torch's while_loop are torch.compile/export constructs, eager torch uses Python",
    ),
    (
        "tensor -> NumPy",
        "t.detach().cpu().resolve_conj().numpy()",
        "detach: tensors that require grad refuse numpy(); resolve_conj materializes lazy conj",
    ),
    (
        "native error -> ErrorKind",
        "native type and message (see TorchAdapter.classify_error)",
        "torch raises builtin exceptions; the message decides the kind",
    ),
)


# ---- error classification ------------------------------------------------------------------------

#: (exception types, lower-case message fragments, kind): the first rule that matches decides.
def _any_of(*fragments: str) -> str:
    """A regex matching any of ``fragments`` literally (with ``re.IGNORECASE``)."""
    return "|".join(re.escape(fragment) for fragment in fragments)


#: torch raises builtin exceptions, so the message carries the meaning; first match wins.
_ERROR_RULES: tuple[ErrorRule, ...] = (
    ErrorRule(
        ("RuntimeError",),
        _any_of("trying to backward through the graph a second time"),
        ErrorKind.CONSUMED_TAPE,
        re.IGNORECASE,
    ),
    ErrorRule(
        ("RuntimeError",),
        _any_of(
            "does not require grad and does not have a grad_fn",
            "appears to not have been used in the graph",
            "one of the differentiated tensors does not require grad",
            "derivative for ",
        ),
        ErrorKind.NOT_DIFFERENTIABLE,
        re.IGNORECASE,
    ),
    ErrorRule(
        ("RuntimeError",),
        _any_of("only tensors of floating point"),
        ErrorKind.DTYPE_NOT_DIFFERENTIABLE,
        re.IGNORECASE,
    ),
    ErrorRule(
        ("RuntimeError",),
        _any_of("can only change requires_grad flags of leaf variables"),
        ErrorKind.INVALID_WATCH,
        re.IGNORECASE,
    ),
    ErrorRule(
        ("AttributeError",),
        _any_of("has no attribute 'requires_grad_'"),
        ErrorKind.INVALID_WATCH,
        re.IGNORECASE,
    ),
    ErrorRule(
        ("RuntimeError", "ValueError", "AssertionError"),
        _any_of(
            "grad can be implicitly created only for",  # "... (real) scalar outputs"
            "returned an incorrect number of gradients",
            "argument to `grad()` cannot be empty",
            "all inputs have to be tensors",
            "expected output to be a torch.tensor",
            "tensors and",  # "got 2 tensors and 1 gradients"
            "unknown value for unconnected_gradients",
        ),
        ErrorKind.INVALID_ARGUMENT,
        re.IGNORECASE,
    ),
    ErrorRule(
        ("RuntimeError",),
        _any_of("dtype", "scalar type", "can't be cast to the desired output type"),
        ErrorKind.DTYPE_MISMATCH,
        re.IGNORECASE,
    ),
    ErrorRule(
        ("RuntimeError", "ValueError"),
        _any_of("size of tensor", "shape", "must match", "inconsistent tensor size"),
        ErrorKind.SHAPE_MISMATCH,
        re.IGNORECASE,
    ),
    ErrorRule(("TypeError", "AttributeError"), "", ErrorKind.INVALID_ARGUMENT),  # any message
)


def _raised_by_user_code(error: BaseException) -> bool:
    """Whether the innermost frame is a ``raise`` statement outside torch and the adapters."""
    torch_dir = Path(_torch().__file__).resolve().parent
    return raised_by_user_code(error, [_ADAPTERS_DIR, torch_dir])


# ---- the adapter -------------------------------------------------------------------------------


class TorchAdapter:
    """PyTorch autograd behind the neutral tape API (see the module docstring)."""

    name = "torch"
    protocol_version = "1.2"
    distribution = "torch"

    def available(self) -> str | None:
        try:
            _torch()
        except ImportError:
            return f"torch is not installed ({_INSTALL_HINT})"
        return None

    def version(self) -> str:
        return str(_torch().__version__)

    def devices(self) -> Sequence[str]:
        devices = ["CPU:0"]
        if _torch().cuda.is_available():
            devices.append("GPU:0")
        return devices

    def features(self, device: str | None = None) -> Mapping[str, str | None]:
        return {feature: _UNSUPPORTED.get(feature) for feature in FEATURES}

    def namespace(self, device: str) -> TorchNamespace:
        return TorchNamespace(self._torch_device(device))

    def forget_process_state(self) -> None:
        """Let torch's warn-once warnings (TORCH_WARN_ONCE: casting complex to real, ...) show in
        every cell, as in a fresh process, so a cell's warnings never depend on the cells before
        it. torch keeps no per-site record to clear; its warn-always switch is the equivalent."""
        _torch().set_warn_always(True)

    def _torch_device(self, device: str) -> Any:
        """``"CPU:0"`` -> ``torch.device("cpu")``, ``"GPU:0"`` -> ``torch.device("cuda:0")``."""
        kind, _, index = device.partition(":")
        if kind == "CPU":
            return _torch().device("cpu")
        if kind == "GPU" and device in self.devices():
            return _torch().device(f"cuda:{index or 0}")
        raise ValueError(
            f"torch adapter has no device {device!r}; available here: {list(self.devices())}"
        )

    def to_numpy(self, value: Any) -> Any:
        if not self.is_tensor(value):
            return value
        return value.detach().cpu().resolve_conj().resolve_neg().numpy()

    def dtype_name(self, value: Any) -> str:
        if not self.is_tensor(value):
            raise TypeError(f"dtype_name needs a torch tensor, got {type(value).__name__}")
        return str(value.dtype).removeprefix("torch.")

    def is_tensor(self, value: Any) -> bool:
        if self.available() is not None:
            return False
        return isinstance(value, _torch().Tensor)

    def classify_error(self, error: BaseException) -> ErrorKind:
        """Native exception -> neutral kind, deciding in this order:

        1. raised by a ``raise`` statement outside torch and the adapters (the scenario, or a
           ``custom_gradient`` grad_fn that torch called back) -> USER_ERROR, whatever its type;
        2. the first of ``_ERROR_RULES`` matching the native type and a message fragment (torch
           raises builtin exceptions, so the message carries the meaning); a TypeError or
           AttributeError left over is a non-tensor where torch needs one -> INVALID_ARGUMENT;
        3. anything else -> UNKNOWN, including NotImplementedError (a kernel or feature torch
           lacks, not a tape semantic) and torch's "modified by an inplace operation" error.
        """
        if _raised_by_user_code(error):
            return ErrorKind.USER_ERROR
        return classify_by_rules(error, _ERROR_RULES)

    def warning_loggers(self) -> Sequence[str]:
        return []  # torch warns through the warnings module, which the harness captures

    def mappings(self) -> Sequence[Mapping_]:
        return tuple(Mapping_(neutral, native, why) for neutral, native, why in _MAPPINGS)

    def divergences_path(self) -> str | None:
        return str(_ADAPTERS_DIR / "divergences" / "torch.toml")
