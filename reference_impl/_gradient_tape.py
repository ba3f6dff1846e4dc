"""``GradientTape``: TensorFlow's public tape object over ``_core``'s recording and backprop.

The state machine is TensorFlow's (``backprop.py``): the object owns at most one ``Tape``,
created lazily by ``__enter__``; ``_recording`` says whether that tape is in the thread's active
set. A non-persistent tape is dropped by its first successful gradient/jacobian, and the next
``__enter__`` (or the end of a ``stop_recording`` block) silently starts a new one.
"""

from __future__ import annotations

import contextlib
import enum
import linecache
import os
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from reference_impl import _ops, errors
from reference_impl import nest as _nest
from reference_impl._backend import backend_of, device_of
from reference_impl._core import IndexedSlices, Tape, Tensor, backprop, convert, state
from reference_impl._dtypes import as_dtype
from reference_impl._logging import log_first_n, logger
from reference_impl._variables import Variable

__all__ = ["GradientTape", "UnconnectedGradients"]

_CONSUMED = (
    "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)"
)
_RELEASED = (
    "Internal state of the gradient tape is invalid: failed to find operation producing a tensor"
)
_NOT_IN_CONTEXT = (
    "gradient() cannot be invoked within the GradientTape context (i.e., while operations are "
    "being recorded). Either move the call to gradient() to be outside the 'with tf.GradientTape' "
    "block, or use a persistent tape: 'with tf.GradientTape(persistent=true)'"
)
_IN_CONTEXT_WARNING = (
    "Calling GradientTape.gradient on a persistent tape inside its context is significantly less "
    "efficient than calling it outside the context (it causes the gradient ops to be recorded on the "
    "tape, leading to increased CPU and memory usage). Only call GradientTape.gradient inside the "
    "context if you actually want to trace the gradient in order to compute higher order derivatives."
)


class UnconnectedGradients(enum.Enum):
    """What ``gradient`` returns for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


def _unconnected(value: Any) -> UnconnectedGradients:
    if (
        value is UnconnectedGradients.NONE
    ):  # the default, on every gradient call: skip the enum lookup
        return value
    try:
        return UnconnectedGradients(value)
    except ValueError:
        raise ValueError(f"Unknown value for unconnected_gradients: {value!r}") from None


def _watchables(structure: Any) -> list[Any]:
    """Tensors and variables in ``structure``; anything else is a ValueError (TF's message)."""
    found = []
    for item in _nest.flatten(structure):
        if type(item) is IndexedSlices:  # a composite tensor: its components are watched
            found += [item.values, item.indices, item.dense_shape]
            continue
        if not isinstance(item, (Tensor, Variable)):
            raise ValueError(
                f"Passed in object {item} of type '{type(item).__name__}', not tf.Tensor or "
                "tf.Variable or ExtensionType."
            )
        found.append(item)
    return found


def _check_tensor(item: Any) -> Any:
    """A gradient target or source must be a tensor or variable; anything else fails as in
    TensorFlow, whose error comes from its internals: ``IsTrainable`` reads the item as a dtype
    (``as_dtype``: a TypeError if it is none), then the tape reads ``.dtype`` (for a value that
    names a non-trainable dtype, such as ``3.0``, enum int32) or ``._id`` (for a trainable one)."""
    if isinstance(item, (Tensor, Variable)):
        return item
    named = _as_tf_dtype(item)
    if named is None:
        raise TypeError(
            f"Cannot convert the argument `type_value`: {item!r} to a TensorFlow DType."
        )
    kind = type(item)
    type_name = f"numpy.{kind.__name__}" if kind.__module__ == "numpy" else kind.__name__
    missing = "_id" if named.is_trainable else "dtype"
    raise AttributeError(f"'{type_name}' object has no attribute '{missing}'")


def _as_tf_dtype(item: Any) -> Any:
    """The dtype TensorFlow's ``as_dtype`` reads ``item`` as (numbers as DataType enum values),
    or None where it raises."""
    if isinstance(item, (bool, int, float)) and not isinstance(item, np.generic):
        number = float(item)
        item = int(number) if number.is_integer() else None
    elif hasattr(item, "dtype"):
        item = item.dtype
    if item is None:
        return None
    try:
        return as_dtype(item)
    except TypeError:
        return None


def _beside(host: np.ndarray, tensor: Any) -> Any:
    """A host array placed on ``tensor``'s backend and device."""
    value = tensor._value
    if isinstance(value, (np.ndarray, np.generic)):
        return host
    return backend_of(value).asarray(host, device_of(value))


def _record_slices(tape: Tape, target: Any) -> bool:
    """Read the target as TensorFlow's Jacobian does, and say whether its slices are recorded.

    TensorFlow reshapes the target and gathers each row under the tape, then takes the gradient
    of that row: the rows are connected only when those ops are recorded, that is when the target
    is tracked (watched or produced on the tape) with a trainable dtype, or is a trainable
    variable the tape watches as it reads it (and then lists in ``watched_variables``). So an
    unwatched target is not its own Jacobian's identity, as ``gradient(x, x)`` is.
    """
    if not target._dtype.is_trainable:
        return False
    if target._id in tape.tensor_ids:
        return True
    if isinstance(target, Variable) and target.trainable and tape.watch_accessed_variables:
        tape.watch_variable(target)
        return True
    return False


def _check_loop_dtype(target: Any, row: Any) -> None:
    """``experimental_use_pfor=False`` stacks the rows in a TensorArray of the target's dtype:
    a gradient of another dtype (a source of another dtype) cannot be written there."""
    if row is not None and row.dtype is not target.dtype:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"TensorArray dtype is {target.dtype.name} but Op is trying to write dtype "
            f"{row.dtype.name} ",
        )


def _value_like(item: Any) -> Tensor:
    """A tensor with ``item``'s shape and dtype, without reading (and so recording) a variable."""
    return Tensor(item._value, item._dtype)


#: The exception types whose message TensorFlow's autograph rewrites (and keeps the type of).
_STRING_CONSTRUCTOR_ERRORS = (
    AssertionError,
    AttributeError,
    NameError,
    NotImplementedError,
    RuntimeError,
    StopIteration,
    TypeError,
    UnboundLocalError,
    ValueError,
)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class StagingError(Exception):
    """TensorFlow's autograph ``StagingError``: what an error raised while pfor traces a Jacobian
    becomes when autograph cannot rebuild its type with the "in user code:" message (a user's
    own exception class with an ``__init__`` of its own, such as a ``RuntimeError`` subclass)."""


class _MultilineKeyError(KeyError):
    """A KeyError that prints its message as is (a KeyError's ``str`` is its key's repr); named
    KeyError, as autograph's own."""

    def __str__(self) -> str:
        return str(self.args[0])


_MultilineKeyError.__name__ = KeyError.__name__


def _vectorized(kind: str, use_pfor: Any, compute: Callable[[], Any]) -> Any:
    """Run a Jacobian's rows as TensorFlow runs them under pfor (a traced function): an error
    raised there is rewritten "in user code:" by autograph, and a ValueError becomes pfor's
    "Encountered an exception while vectorizing"; without pfor, it is raised as it is."""
    if not use_pfor:
        return compute()
    try:
        return compute()
    except ValueError as error:
        raise ValueError(
            f"Encountered an exception while vectorizing the {kind} computation. Vectorization "
            "can be disabled by setting experimental_use_pfor to False."
        ) from error
    except errors.OpError:
        raise  # a kernel's own check: TF raises it when the traced rows run, not rewritten
    except Exception as error:
        raise _rewritten(error) from error


def _rewritten(error: Exception) -> Exception:
    """Autograph's ``create_exception``: the same type where it can build one from the message
    (one of its known types exactly, or a class using Exception's own constructor), a KeyError
    that prints its message, otherwise a ``StagingError``."""
    text = _in_user_code(error)
    kind = type(error)
    if kind in _STRING_CONSTRUCTOR_ERRORS or kind.__init__ is Exception.__init__:
        return kind(text)
    if kind is KeyError:
        return _MultilineKeyError(text)
    return StagingError(text)


def _in_user_code(error: BaseException) -> str:
    """Autograph's message for ``error``: the frames of user code it went through (none when
    this package raised it on its own), then the original type and message."""
    frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
    lines = ["in user code:", ""]
    for frame in frames:
        if _in_package(frame.f_code.co_filename):
            continue
        source = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        lines += [
            f'    File "{frame.f_code.co_filename}", line {frame.f_lineno}, in '
            f"{frame.f_code.co_name}",
            f"        {source}",
        ]
    lines += ["", f"    {type(error).__name__}: {error}", ""]
    return "\n".join(lines)


def _traced_repr(grad: IndexedSlices, source: Any) -> str:
    """A gather's sparse gradient as TensorFlow's pfor trace prints it (graph tensor names)."""
    rank = len(grad.shape)
    if isinstance(source, Variable):
        dense = f'Tensor("gradient_tape/Const:0", shape=({rank},), dtype=int32)'
    else:
        device = "/job:localhost/replica:0/task:0/device:CPU:0"
        dense = f'Tensor("gradient_tape/Shape_1:0", shape=({rank},), dtype=int32, device={device})'
    return (
        f'IndexedSlices(indices=Tensor("gradient_tape/Reshape_2:0", shape={grad.indices.shape}, '
        f'dtype=int32), values=Tensor("gradient_tape/Reshape_1:0", shape={grad.values.shape}, '
        f"dtype={grad.values.dtype.name}), dense_shape={dense})"
    )


def _in_package(filename: str) -> bool:
    return os.path.dirname(os.path.abspath(filename)) == _PACKAGE_DIR


class GradientTape:
    """Records operations for automatic differentiation (``tf.GradientTape``).

    >>> import reference_impl as tf
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = x * x
    >>> float(tape.gradient(y, x))
    6.0
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._tape: Tape | None = None
        # As in TensorFlow, the object tests these flags for truth, but the recording tape is
        # persistent (watches accessed variables) only for ``True`` itself: with
        # persistent="yes" the tape object survives its first gradient, its records do not.
        self._persistent = persistent
        self._watch_accessed_variables = watch_accessed_variables
        self._watched_variables: tuple[Any, ...] = ()
        self._recording = False
        self._active: list[Tape] = []  # the active-tape list of the thread that entered

    # ---- the context and its state machine
    def __enter__(self) -> GradientTape:
        self._push_tape()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._recording:
            self._pop_tape()

    def _push_tape(self) -> None:
        if self._recording:
            raise ValueError(
                "Tape is still recording, This can happen if you try to re-enter an already-active tape."
            )
        if self._tape is None:
            self._tape = Tape(self._persistent is True, self._watch_accessed_variables is True)
        self._active = state.tapes
        self._active.append(self._tape)
        self._recording = True

    def _pop_tape(self) -> None:
        if not self._recording:
            raise ValueError("Tape is not recording.")
        # from the thread that entered it (a gradient may be taken on another thread)
        self._active.remove(self._tape)
        self._recording = False

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Ops inside the block are not recorded on this tape."""
        if self._tape is None:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        self._pop_tape()
        try:
            yield
        finally:
            self._push_tape()

    def reset(self) -> None:
        """Discard everything recorded and watched so far; keep recording."""
        self._pop_tape()
        self._tape = None
        self._push_tape()

    # ---- watching
    def watch(self, tensor: Any) -> None:
        """Watch every tensor or variable in the (nested) ``tensor``."""
        for item in _watchables(tensor):
            if not item._dtype.is_trainable:
                log_first_n(
                    "watch-dtype",
                    5,
                    f"The dtype of the watched tensor must be floating (e.g. tf.float32), got {item._dtype!r}",
                )
            if self._tape is None:
                raise AttributeError(
                    "GradientTape.watch() needs an entered tape: call it inside `with tape:` "
                    "(this tape was never entered)"
                )
            if (
                not state.tapes
            ):  # as TensorFlow: a no-op while no tape at all records on this thread
                continue
            if isinstance(item, Variable):
                self._tape.watch_variable(item)
            else:
                self._tape.watch(item)

    def watched_variables(self) -> tuple[Any, ...]:
        """The variables this tape watched, in creation order."""
        if self._tape is not None:
            variables = self._tape.watched_variables
            self._watched_variables = tuple(variables[key] for key in sorted(variables))
        return self._watched_variables

    # ---- differentiation
    def _begin_gradient(self, per_call_site: bool = True) -> Tape:
        """Checks and side effects shared by gradient, jacobian and batch_jacobian."""
        if self._tape is None:
            raise RuntimeError(_CONSUMED)
        if self._recording:
            if not self._persistent:
                self._pop_tape()
            else:
                log_first_n("in-context", 1, _IN_CONTEXT_WARNING, per_call_site=per_call_site)
        return self._tape

    def _check_records(self, tape: Tape) -> None:
        """A recording tape that is not persistent cannot be differentiated twice, or while it
        records (reachable only with a truthy non-``True`` ``persistent``, as in TensorFlow)."""
        if tape.persistent:
            return
        if tape.released:
            raise errors.InternalError(None, None, _RELEASED)
        if self._recording:
            raise RuntimeError(_NOT_IN_CONTEXT)

    def _consume(self) -> None:
        self._tape.released = not self._tape.persistent
        if not self._persistent:
            if self._tape.watched_variables:
                self.watched_variables()  # keep them available after the tape is dropped
            self._tape = None

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
    ) -> Any:
        """The gradient of ``target`` with respect to ``sources``, in the structure of ``sources``."""
        tape = self._begin_gradient()
        if not tape.persistent and (tape.released or self._recording):
            self._check_records(tape)
        if target is None:
            raise TypeError(
                "Argument `target` should be a list or nested structure of Tensors, Variables or "
                "CompositeTensors to be differentiated, but received None."
            )
        if (
            type(target) is Tensor
            and type(sources) is Tensor
            and output_gradients is None
            and unconnected_gradients is UnconnectedGradients.NONE
            and target._dtype.name != "string"
        ):  # the common case, one tensor w.r.t. one tensor, without the structure handling
            (grad,) = backprop(tape, (target,), (sources,), (_ops.ones_like(target),))
            self._consume()
            return grad
        flat_targets = [_check_tensor(t) for t in _nest.flatten(target)]
        flat_sources = [_check_tensor(s) for s in _nest.flatten(sources)]
        seeds = self._seeds(flat_targets, output_gradients)
        mode = _unconnected(unconnected_gradients)
        grads = backprop(tape, flat_targets, flat_sources, seeds)
        if mode is UnconnectedGradients.ZERO:
            # zeros_like of the source itself, as TensorFlow's zero fill: a variable is read, so a
            # tape still recording (persistent, inside its context) watches it
            grads = [
                _ops.zeros_like(s) if g is None else g
                for s, g in zip(flat_sources, grads, strict=True)
            ]
        self._consume()
        return _nest.pack_sequence_as(sources, grads)

    @staticmethod
    def _seeds(targets: list[Any], output_gradients: Any) -> list[Any]:
        """One seed per target: its output gradient, converted on its own (an int is int32, as
        in TensorFlow, where the backward op then fails), or ones where none is given. Like
        TensorFlow's tape, extra output gradients are ignored and missing ones are ones."""
        given = [] if output_gradients is None else _nest.flatten(output_gradients)
        seeds = []
        for index, target in enumerate(targets):
            if index < len(given):
                seeds.append(convert(given[index]))  # None: TensorFlow's ValueError
            elif target._dtype.name == "string":
                seeds.append(None)
            else:
                seeds.append(_ops.ones_like(_value_like(target)))
        return seeds

    def jacobian(
        self,
        target: Any,
        sources: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: int | None = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """The Jacobian of ``target`` with respect to each source: shape target.shape + source.shape."""
        if self._tape is None:
            raise RuntimeError(_CONSUMED)
        if not experimental_use_pfor and not self._persistent:
            raise RuntimeError(
                "GradientTape must be created with persistent=True to compute the jacobian with eager "
                "execution enabled and with  experimental_use_pfor set to False."
            )
        if not hasattr(target, "shape"):
            raise AttributeError(f"'{type(target).__name__}' object has no attribute 'shape'")
        tape = self._begin_gradient(per_call_site=False)
        mode = _unconnected(unconnected_gradients)
        flat_sources = [_check_tensor(s) for s in _nest.flatten(sources)]
        if isinstance(target, (np.ndarray, np.generic)):
            target = convert(target)  # a constant no tape recorded: unconnected, as in TensorFlow
        target = _check_tensor(target)
        rows = _vectorized(
            "jacobian",
            experimental_use_pfor,
            lambda: self._rows(tape, target, flat_sources, False, experimental_use_pfor),
        )
        results = []
        for source, row in zip(flat_sources, rows, strict=True):
            full_shape = tuple(target.shape) + tuple(source.shape)
            if not experimental_use_pfor and 0 in tuple(target.shape):
                # TF's while_loop of no iterations stacks nothing of the source's shape
                raise ValueError(
                    f"Tensor's shape {tuple(target.shape)} is not compatible with supplied shape "
                    f"{full_shape}."
                )
            if row == []:  # an empty target: pfor still traced the (connected) gradient once
                results.append(_ops.zeros(full_shape, source._dtype))
            elif row is None:
                results.append(
                    _ops.zeros(full_shape, source._dtype)
                    if mode is UnconnectedGradients.ZERO
                    else None
                )
            else:
                results.append(_ops.reshape(_ops.stack(row), full_shape))
            if not experimental_use_pfor:
                _check_loop_dtype(target, results[-1])
        self._consume()
        return _nest.pack_sequence_as(sources, results)

    def batch_jacobian(
        self,
        target: Any,
        source: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: int | None = None,
        experimental_use_pfor: bool = True,
    ) -> Tensor:
        """Per-example Jacobians: target [B, ...] and source [B, ...] give [B, target..., source...].

        As in TensorFlow, ``target[i]`` must depend only on ``source[i]``; cross-example terms
        are summed silently. Unconnected results are zeros in the target's dtype.
        """
        if self._tape is None:
            raise RuntimeError(_CONSUMED.replace("used to compute", "used tocompute"))
        if not experimental_use_pfor and not self._persistent:
            raise RuntimeError(
                "GradientTape must be created with persistent=True to compute the batch_jacobian with "
                "eager execution enabled and  with experimental_use_pfor set to False."
            )
        for value in (target, source):
            if not hasattr(value, "shape"):
                raise AttributeError(f"'{type(value).__name__}' object has no attribute 'shape'")
            if len(value.shape) < 2:
                raise ValueError(f"Shape {tuple(value.shape)} must have rank at least 2")
        if target.shape[0] != source.shape[0]:
            raise ValueError(
                f"Need first dimension of target shape ({tuple(target.shape)}) and source shape "
                f"({tuple(source.shape)}) to match."
            )
        tape = self._begin_gradient(per_call_site=False)
        mode = _unconnected(unconnected_gradients)
        target, source = _check_tensor(target), _check_tensor(source)
        (row,) = _vectorized(
            "batch_jacobian",
            experimental_use_pfor,
            lambda: self._rows(tape, target, [source], True, experimental_use_pfor),
        )
        full_shape = tuple(target.shape) + tuple(source.shape)[1:]
        self._consume()
        if not experimental_use_pfor:
            # the rows TF's loop writes: the gradients, or zeros like the source with "zero"
            zero_row = _value_like(source) if mode is UnconnectedGradients.ZERO else None
            _check_loop_dtype(target, row[0] if row is not None else zero_row)
        if row is None:
            # TensorFlow's rows are gradients: with "zero" each is zeros like the source (so the
            # result has the source's dtype); with "none" there are no rows, and the result is
            # zeros of the target's dtype (kept for compatibility, whatever was asked)
            zeros_dtype = source.dtype if mode is UnconnectedGradients.ZERO else target._dtype
            return _ops.zeros(full_shape, zeros_dtype)
        stacked = _ops.stack(row, axis=1)  # [batch, target row, source...]
        return _ops.reshape(stacked, full_shape)

    @staticmethod
    def _rows(
        tape: Tape, target: Any, sources: list[Any], batch: bool, use_pfor: Any = True
    ) -> list[list[Any] | None]:
        """One backprop per target element (per target column when ``batch``), seeded one-hot.

        Each pass is an ordinary gradient: inside a recording outer tape it is recorded, so
        Jacobians of Jacobians (Hessians) work without a special case.
        """
        shape = tuple(target.shape)
        if tape.released:  # a non-persistent recording after its first use has no records
            return [None for _ in sources]
        if not _record_slices(tape, target):
            return [None for _ in sources]
        count = int(np.prod(shape[1:] if batch else shape, dtype=np.int64))
        rows: list[list[Any]] = [[] for _ in sources]
        if count == 0 and not batch:  # no rows, but pfor traces one: which sources it reaches
            zero = Tensor(_beside(np.zeros(shape, target._dtype._np), target), target._dtype)
            grads = backprop(tape, [target], sources, [zero])
            return [[] if g is not None else None for g in grads]
        connected = [False] * len(sources)
        for index in range(count):
            seed = np.zeros((count,), dtype=target._dtype._np)
            seed[index] = 1
            seed = np.broadcast_to(seed, (shape[0], count)) if batch else seed
            seed = _beside(np.reshape(seed, shape), target)
            grads = backprop(tape, [target], sources, [Tensor(seed, target._dtype)])
            for k, (source, grad) in enumerate(zip(sources, grads, strict=True)):
                connected[k] |= grad is not None
                if isinstance(grad, IndexedSlices):
                    if index == 0 and use_pfor:  # TF's pfor loop densifies (and says so)
                        logger.warning(
                            f"Converting {_traced_repr(grad, source)} to a dense representation "
                            "may make it slow. "
                            "Alternatively, output the indices and values of the IndexedSlices "
                            "separately, and handle the vectorized outputs directly."
                        )
                    grad = grad._as_tensor()
                rows[k].append(_ops.zeros_like(_value_like(source)) if grad is None else grad)
        return [row if ok else None for row, ok in zip(rows, connected, strict=True)]
