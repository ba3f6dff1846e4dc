"""The numeric oracle: central finite differences in float64 on the reference forward function.

Agreement between frameworks is not proof; this is. For a scenario with an ``Oracle``, the
forward function runs on the reference implementation in float64 (no tape involved), and its
first derivatives (gradient of ``sum(output k)`` w.r.t. argument ``j``) and second derivatives
(gradient of the sum of that gradient, which is what nested tapes compute) are estimated by
central differences. The scenario's expected numbers must equal the oracle's picks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from conformance.expect import Either, Raises, Value
from conformance.registry import Oracle, Scenario

__all__ = ["Derivatives", "expected_numbers", "oracle_values"]

_H1 = 1e-6  # first-order step: truncation O(h^2) ~ 1e-12, rounding ~ 1e-10 in float64
_H2 = 1e-4  # mixed second-order step: truncation O(h^2) ~ 1e-8, rounding ~ 1e-8


class Derivatives:
    """Finite-difference derivatives of ``forward`` at ``at``, computed on demand."""

    def __init__(self, forward: Callable[..., Any], at: Sequence[Any]) -> None:
        import reference_impl
        from adapters._tf_shaped import tf_namespace

        self._fw = tf_namespace(reference_impl, "CPU:0")
        self._forward = forward
        self._at = [np.asarray(a, dtype=np.float64) for a in at]
        self._n_outputs = len(self._outputs(self._at))

    def _outputs(self, args: list[np.ndarray]) -> list[float]:
        """Each output of ``forward`` at ``args``, summed to a scalar."""
        tensors = [self._fw.constant(a, dtype=self._fw.float64) for a in args]
        result = self._forward(self._fw, *tensors)
        outputs = result if isinstance(result, tuple) else (result,)
        return [
            float(np.sum(np.asarray(o.numpy() if hasattr(o, "numpy") else o, np.float64)))
            for o in outputs
        ]

    def _shifted(self, shifts: dict[int, np.ndarray]) -> list[float]:
        args = [a + shifts[j] if j in shifts else a for j, a in enumerate(self._at)]
        return self._outputs(args)

    def _basis(self, j: int, i: int, h: float) -> np.ndarray:
        step = np.zeros_like(self._at[j])
        step.flat[i] = h
        return step

    @cached_property
    def first(self) -> list[list[np.ndarray]]:
        """``first[k][j]``: the gradient of sum(output k) with respect to argument j."""
        grads = [[np.zeros_like(a) for a in self._at] for _ in range(self._n_outputs)]
        for j, arg in enumerate(self._at):
            for i in range(arg.size):
                plus = self._shifted({j: self._basis(j, i, _H1)})
                minus = self._shifted({j: self._basis(j, i, -_H1)})
                for k in range(self._n_outputs):
                    grads[k][j].flat[i] = (plus[k] - minus[k]) / (2 * _H1)
        return [[g[()] if g.ndim == 0 else g for g in row] for row in grads]

    @cached_property
    def second(self) -> list[list[np.ndarray]]:
        """``second[k][j]``: the gradient of sum(first[k][j]) with respect to argument j.

        That is the mixed directional derivative along e_i and the all-ones direction, by the
        four-point central formula.
        """
        grads = [[np.zeros_like(a) for a in self._at] for _ in range(self._n_outputs)]
        for j, arg in enumerate(self._at):
            ones = np.full_like(arg, _H2)
            for i in range(arg.size):
                e = self._basis(j, i, _H2)
                pp = self._shifted({j: e + ones})
                pm = self._shifted({j: e - ones})
                mp = self._shifted({j: -e + ones})
                mm = self._shifted({j: -e - ones})
                for k in range(self._n_outputs):
                    grads[k][j].flat[i] = (pp[k] - pm[k] - mp[k] + mm[k]) / (4 * _H2 * _H2)
        return [[g[()] if g.ndim == 0 else g for g in row] for row in grads]


def oracle_values(oracle: Oracle) -> list[np.ndarray | None]:
    """The derivatives an oracle picks, as float64 arrays; ``None`` where the expected number is
    not a derivative (a forward value, a loop's count), which only TensorFlow checks."""
    derivatives = Derivatives(oracle.forward, oracle.at)
    picked = oracle.pick(derivatives) if oracle.pick is not None else [derivatives.first[0][0]]
    return [None if p is None else np.asarray(p, dtype=np.float64) for p in picked]


def expected_numbers(scenario: Scenario) -> list[np.ndarray]:
    """The numeric leaves of a scenario's expected return value, in order (None/ANY/flags skipped)."""
    expect = scenario.expect
    if isinstance(expect, (Raises, Either)):
        return []
    numbers: list[np.ndarray] = []
    stack = [expect.tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, Value) and not isinstance(item.data, bool):
            numbers.append(
                np.asarray(item.data, dtype=np.complex128 if _is_complex(item.data) else np.float64)
            )
        elif isinstance(item, float):
            numbers.append(np.asarray(item, dtype=np.float64))
    return numbers


def _is_complex(data: Any) -> bool:
    return np.iscomplexobj(np.asarray(data))
