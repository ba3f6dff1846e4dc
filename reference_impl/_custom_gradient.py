"""``custom_gradient``: a function whose gradient is the one it returns, not its ops'.

As in TensorFlow's eager implementation, the forward function runs normally; its outputs are
then re-issued as outputs of one recorded op whose backward function is the user's ``grad_fn``.
Variables the function reads are inputs of that op too, and ``grad_fn`` must accept them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from reference_impl import nest
from reference_impl._core import OpRecord, call, convert, convert_beside, record, state
from reference_impl._ops import _identity

__all__ = ["custom_gradient"]


class _CustomGradientOp:
    """The recorded op of one custom_gradient call; its backward is the user's grad_fn.

    As in TensorFlow, ``grad_fn`` gets the upstream gradients as they are (an IndexedSlices
    stays one) and what it returns is used as is: a Python float it returns is the gradient.
    """

    accepts_sparse = True

    def __init__(
        self, name: str, grad_fn: Callable[..., Any], n_inputs: int, variables: list[Any]
    ) -> None:
        self.name = name
        self.tf_name = name
        self.grad_fn = grad_fn
        self.n_inputs = n_inputs
        self.variables = variables

    def backward(self, entry: OpRecord, grads: list[Any], needs: Sequence[bool]) -> Sequence[Any]:
        if self.variables:
            input_grads, variable_grads = self.grad_fn(*grads, variables=self.variables)
            if len(variable_grads) != len(self.variables):
                raise ValueError(
                    "Must return gradient for each variable from @custom_gradient grad_fn."
                )
        else:
            input_grads, variable_grads = self.grad_fn(*grads), []
        flat = nest.flatten(input_grads)
        if len(flat) != self.n_inputs:
            raise ValueError(
                f"custom_gradient function expected to return {self.n_inputs} gradients, "
                f"but returned {len(flat)} instead."
            )
        return [*flat, *variable_grads]


def _accepts_variables(grad_fn: Callable[..., Any]) -> bool:
    parameters = inspect.signature(grad_fn).parameters.values()
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in parameters)


def custom_gradient(f: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """Decorator: ``f(*x)`` returns ``(y, grad_fn)``; gradients of ``y`` come from ``grad_fn``.

    >>> import reference_impl as tf
    >>> @tf.custom_gradient
    ... def clip_grad(x):
    ...     return x * 1.0, lambda dy: tf.minimum(dy, 0.5)
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = clip_grad(x)
    >>> float(tape.gradient(y, x))
    0.5
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        watcher: dict[int, Any] = {}
        state.variable_watchers.append(watcher)
        try:
            # as TensorFlow: f gets the arguments as given (f(None) fails inside f, the way the
            # user wrote it); they are converted afterwards, to be the recorded op's inputs
            result, grad_fn = f(*args, **kwargs)
        finally:
            state.variable_watchers.remove(watcher)
        inputs = [convert(a) for a in args]
        # a variable passed as an argument is an input, not one of grad_fn's ``variables``
        arguments = {id(a) for a in args}
        variables = [watcher[key] for key in sorted(watcher) if id(watcher[key]) not in arguments]
        if variables and not _accepts_variables(grad_fn):
            raise TypeError(
                "@tf.custom_gradient grad_fn must accept keyword argument 'variables', since function "
                f"uses variables: {variables}"
            )
        # each output converted on its own, as TensorFlow's convert_to_tensor (a Python float is
        # float32, an int int32, whatever the inputs' dtype), on the inputs' device, where
        # TensorFlow would copy it (the reference never copies between devices silently)
        like = inputs[0]._value if inputs else None
        flat = [convert_beside(r, None, like) for r in nest.flatten(result)]
        # As TensorFlow, the outputs are re-issued through recorded identity ops first: a tape
        # that records the forward ops but not the custom op (it does not watch the inputs)
        # still reaches them; on tapes that record the custom op, the custom op wins.
        outputs = tuple(call(_identity, (r,), dtype=r._dtype) for r in flat)
        op = _CustomGradientOp(
            getattr(f, "__name__", "custom_gradient"), grad_fn, len(inputs), variables
        )
        if state.tapes:
            # as TensorFlow's convert_to_tensor of each variable: the op's input is a fresh read,
            # which a tape tracks only if it watched the variable by now (a later watch of the
            # variable does not reach it)
            reads = [v.read_value() for v in variables]
            record(op, (*inputs, *reads), outputs)
        return nest.pack_sequence_as(result, list(outputs))

    return decorated
