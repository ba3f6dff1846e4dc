"""tapeconf-autograd's own unit tests: its error rules, on real autograd errors.

The contract kit and the conformance matrix are in ``test_matrix.py``; run everything for this
adapter with ``pytest examples/tapeconf-autograd/tests --adapter autograd``.
"""

from __future__ import annotations

import pytest

autograd = pytest.importorskip("autograd")

import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
from tapeconf_autograd import AutogradAdapter  # noqa: E402
from tapeconf_autograd.adapter import AUTOGRAD_ERROR_RULES  # noqa: E402

from conformance.protocol import ErrorKind  # noqa: E402

#: One real autograd/NumPy error per rule of AUTOGRAD_ERROR_RULES, with the kind it must get.
REAL_ERRORS = {
    "int argument": (lambda: autograd.grad(lambda x: x * 2)(3), ErrorKind.DTYPE_NOT_DIFFERENTIABLE),
    "no vjp": (
        lambda: autograd.grad(lambda x: anp.sum(anp.take(x, [0])))(np.ones(2)),
        ErrorKind.NOT_DIFFERENTIABLE,
    ),
    "broadcast": (lambda: anp.add(np.ones(2), np.ones(3)), ErrorKind.SHAPE_MISMATCH),
    "matmul": (lambda: anp.matmul(np.ones((2, 3)), np.ones((2, 3))), ErrorKind.SHAPE_MISMATCH),
    "reshape": (lambda: anp.reshape(np.ones(3), (2, 2)), ErrorKind.SHAPE_MISMATCH),
    "concatenate": (
        lambda: anp.concatenate([np.ones((2, 2)), np.ones((3, 3))], axis=0),
        ErrorKind.SHAPE_MISMATCH,
    ),
    "stack": (lambda: anp.stack([np.ones(2), np.ones(3)]), ErrorKind.SHAPE_MISMATCH),
    "attribute": (lambda: anp.ones(2).no_such_attribute, ErrorKind.INTERNAL),
    "other TypeError": (lambda: anp.sum(np.ones(2), axis="x"), ErrorKind.INVALID_ARGUMENT),
    "other ValueError": (lambda: anp.ones(2).reshape(-1, -1), ErrorKind.INVALID_ARGUMENT),
    "index": (lambda: anp.ones(2)[5], ErrorKind.INVALID_ARGUMENT),
}


@pytest.mark.parametrize("name", REAL_ERRORS)
def test_real_errors_are_classified(name):
    """Each rule classifies an error that autograd or NumPy really raises."""
    program, kind = REAL_ERRORS[name]
    with pytest.raises(Exception) as raised:
        program()
    assert AutogradAdapter().classify_error(raised.value) is kind


def test_every_rule_kind_is_exercised():
    """No rule is untested: every kind in the table appears among the real errors."""
    assert {rule.kind for rule in AUTOGRAD_ERROR_RULES} == {k for _, k in REAL_ERRORS.values()}


def test_nested_gradients_are_nested_autograd_traces():
    """A gradient of a gradient is the second derivative (6x at 3 is 18), with no special case."""
    fw = AutogradAdapter().namespace("CPU:0")
    x = fw.constant(3.0)
    with fw.GradientTape() as outer:
        with fw.GradientTape() as inner:
            y = x * x * x
        dy = inner.gradient(y, x)
    assert float(dy) == 27.0
    assert float(outer.gradient(dy, x)) == 18.0
