"""The finite-difference oracle for generated programs (float64, first order).

For a ``gradient`` / ``jacobian`` / ``batch_jacobian`` call on tape ``T``, the program is replayed
in float64 NumPy with a small perturbation of one source element at a time. An input of an op
carries the perturbation only where the generator's model of the tape says ``T`` tracked it when
the op ran (``Op.tracked``); every other input is frozen at its unperturbed value. So ops before
the tape, inside ``stop_recording``, before a ``reset``, through ``stop_gradient`` or a cast to
an integer are constants for ``T``, exactly as the tape sees them, and central differences give
the gradient the tape should return.

The oracle abstains (``None``) where it cannot speak: complex or float16 programs, integer
results (``is_derivative_dtype``), values that are not finite, points where the function has a
kink (one-sided differences disagree: ``relu`` at 0, ties in ``maximum``), and results that pass
through a ``custom_gradient`` or another gradient call (their derivatives are user-defined or
second order).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from conformance.fuzz.program import GradientCall, Leaf, Op, Program, TapeBlock, flatten_nest

__all__ = ["expected_gradients", "is_derivative_dtype", "result_leaves"]

STEP = 1e-6
_UNKNOWN = object()


class _Abstain(Exception):
    """The oracle cannot compute this call's gradient (see the module docstring)."""


def _statements(program: Program) -> Iterator[Any]:
    for statement in program.walk():
        if not isinstance(statement, TapeBlock):
            yield statement


class _Replay:
    """One replay of the program up to a gradient call, with ``delta`` added to sources."""

    def __init__(
        self, program: Program, call: GradientCall, delta: dict[str, np.ndarray], plain: bool
    ) -> None:
        self.plain = plain  # every input live: the derivative of the function, tape or not
        self.base: dict[str, Any] = {}
        self.live: dict[str, Any] = {}
        self.opaque: set[str] = set()  # names whose gradient the oracle cannot model
        self.delta = delta
        self.tape = call.tape
        self.tracked_at_call = call.tracked_at_call
        for statement in _statements(program):
            if statement is call:
                return
            self.step(statement)
        raise _Abstain("the call is not in the program")

    def value(self, name: str, tracked: bool) -> Any:
        if not tracked:
            return self.base.get(name, _UNKNOWN)
        value = self.live.get(name, _UNKNOWN)
        return value + self.delta[name] if name in self.delta and value is not _UNKNOWN else value

    def step(self, statement: Any) -> None:
        if isinstance(statement, Leaf):
            value = np.asarray(statement.value, dtype=np.float64)
            self.base[statement.name] = self.live[statement.name] = value
        elif isinstance(statement, GradientCall):
            self.base[statement.name] = self.live[statement.name] = _UNKNOWN
        elif isinstance(statement, Op):
            self.op(statement)

    def op(self, op: Op) -> None:
        if op.resets == self.tape and not self.plain:  # what was recorded is forgotten
            self.live = dict(self.base)
            return
        if op.replay is None:
            return
        flags = op.tracked.get(self.tape, tuple(False for _ in op.inputs))
        if self.plain:
            flags = tuple(True for _ in op.inputs)
        elif any(flags) and self.tracked_at_call is not None:
            # the op is on the tape; an input gets a gradient if the tape tracks it by the time
            # of the gradient call (watched after the op, say), as TensorFlow decides then
            flags = tuple(
                f or name in self.tracked_at_call for name, f in zip(op.inputs, flags, strict=True)
            )
        base_inputs = [self.base.get(name, _UNKNOWN) for name in op.inputs]
        live_inputs = [
            self.value(n, f) if f else self.base.get(n, _UNKNOWN)
            for n, f in zip(op.inputs, flags, strict=True)
        ]
        if op.assigns:  # the assigned value, as every replayed value, in float64
            self.base[op.assigns] = np.asarray(op.replay(self.base[op.assigns]), np.float64)
            self.live[op.assigns] = np.asarray(op.replay(self.live[op.assigns]), np.float64)
            return
        names = [n.strip() for n in op.name.split(",")] if op.name else []
        base_out = _apply(op, base_inputs)
        live_out = _apply(op, live_inputs)
        if len(names) > 1:
            if base_out is _UNKNOWN or live_out is _UNKNOWN:
                base_out = live_out = (_UNKNOWN,) * len(names)
            for name, b_value, l_value in zip(names, base_out, live_out, strict=True):
                self.base[name], self.live[name] = b_value, l_value
        elif names:
            self.base[names[0]], self.live[names[0]] = base_out, live_out
        if op.opaque or any(n in self.opaque for n, f in zip(op.inputs, flags, strict=True) if f):
            self.opaque.update(names)
        if op.freezes:
            for name in names:
                self.live[name] = self.base[name]


def _apply(op: Op, inputs: list[Any]) -> Any:
    if any(value is _UNKNOWN for value in inputs):
        return _UNKNOWN
    with np.errstate(all="ignore"):
        result = op.replay(*inputs)
    if isinstance(result, tuple):
        return tuple(np.asarray(r, dtype=np.float64) for r in result)
    return np.asarray(np.real(result) if np.iscomplexobj(result) else result, dtype=np.float64)


def _objective(
    program: Program, call: GradientCall, delta: dict[str, np.ndarray], plain: bool
) -> np.ndarray:
    """What the call differentiates, as a flat vector: ``sum(target * seed)`` or the targets."""
    replay = _Replay(program, call, delta, plain)
    targets = flatten_nest(call.targets)
    parts = []
    for index, name in enumerate(targets):
        if name in replay.opaque:
            raise _Abstain(f"{name} passes through a custom gradient")
        # A target is its own gradient's seed (dy/dy = 1) for gradient(); a jacobian slices the
        # target first, and that slice is recorded only when the tape records the target.
        recorded = plain or call.method == "gradient" or call.recorded_targets[index]
        value = replay.value(name, recorded)
        if value is _UNKNOWN:
            raise _Abstain(f"{name} is a gradient result")
        if call.method == "gradient":
            seed = replay.base[call.seeds[index]] if call.seeds else 1.0
            parts.append(np.atleast_1d(np.sum(value * seed)))
        else:
            parts.append(np.ravel(value))
    return sum(parts) if call.method == "gradient" else np.concatenate(parts)


def _derivative(
    program: Program, call: GradientCall, source: str, shape: tuple[int, ...], plain: bool
) -> np.ndarray:
    """d objective / d source, shaped ``objective.shape + source.shape``."""
    base = _objective(program, call, {}, plain)
    if not np.all(np.isfinite(base)):
        raise _Abstain("the function is not finite here")
    columns = []
    for index in np.ndindex(*shape) if shape else [()]:
        bump = np.zeros(shape)
        bump[index] = STEP
        up = _objective(program, call, {source: bump}, plain)
        down = _objective(program, call, {source: -bump}, plain)
        forward, backward = (up - base) / STEP, (base - down) / STEP
        central = (up - down) / (2 * STEP)
        # a kink makes the one-sided slopes differ; a jump (sign at 0) makes the slope grow as
        # the step shrinks: compare with a ten times smaller step
        narrow = (
            _objective(program, call, {source: bump / 10}, plain)
            - _objective(program, call, {source: -bump / 10}, plain)
        ) / (STEP / 5)
        if not np.all(np.isfinite(central)) or np.any(
            (np.abs(forward - backward) > 1e-3 * (1 + np.abs(central)))
            | (np.abs(narrow - central) > 1e-3 * (1 + np.abs(central)))
        ):
            raise _Abstain("the function has a kink or a jump here")
        columns.append(central)
    if not columns:  # a source with no elements: an empty gradient of its shape
        return np.zeros(base.shape + tuple(shape))
    return np.stack(columns, axis=-1).reshape(base.shape + tuple(shape))


def expected_gradients(
    program: Program, *, plain: bool = False
) -> dict[str, tuple[np.ndarray | None, ...]]:
    """For each gradient result the oracle can speak for: the expected array of each source
    (in the sources' flatten order), ``None`` where it abstains for that source.

    ``plain``: the derivative of the function itself, every input live (what a framework with
    no watching computes), instead of what the tape recorded. Telling the two apart tells a
    watching difference from a numeric bug.
    """
    if any(d in program.features for d in ("complex", "float16")):
        return {}
    calls = [s for s in program.walk() if isinstance(s, GradientCall)]
    found: dict[str, tuple[np.ndarray | None, ...]] = {}
    for call in calls:
        try:
            shapes = {
                k: np.shape(v)
                for k, v in _Replay(program, call, {}, plain).base.items()
                if v is not _UNKNOWN
            }
        except _Abstain:
            continue
        arrays: list[np.ndarray | None] = []
        for source in flatten_nest(call.sources):
            arrays.append(_one(program, call, source, shapes, plain))
        found[call.name] = tuple(arrays)
    return found


def _one(
    program: Program, call: GradientCall, source: str, shapes: dict[str, Any], plain: bool
) -> np.ndarray | None:
    if source not in shapes:
        return None
    try:
        derivative = _derivative(program, call, source, shapes[source], plain)
    except _Abstain:
        return None
    if call.method == "gradient":
        return derivative.reshape(shapes[source])
    target_shape = shapes[flatten_nest(call.targets)[0]]
    full = derivative.reshape(tuple(target_shape) + tuple(shapes[source]))
    if call.method == "jacobian":
        return full
    # batch_jacobian: result[b, y..., x...] = sum over b' of d target[b', y...] / d source[b, x...]
    return np.moveaxis(full.sum(axis=0), len(target_shape) - 1, 0)


def is_derivative_dtype(dtype: str) -> bool:
    """Whether a returned gradient of ``dtype`` is a derivative the oracle can check: an integer
    or bool "gradient" is a convention (TensorFlow's identity seed of an int source, or zeros
    from a Jacobian's loop: spec T03), not a limit of difference quotients."""
    return dtype.startswith(("float", "bfloat"))


def result_leaves(tree: Any) -> list[Any]:
    """A returned gradient's leaves in the sources' flatten order (dict keys sorted)."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in result_leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in result_leaves(item)]
    return [tree]
