"""Section N of the spec: ``GradientTape.batch_jacobian`` — per-example Jacobians of a batch.

The oracle checks a batch Jacobian column by column: the forward function returns each target
column ``y[:, i]`` as a separate output, so ``d.first[i][0][b]`` is the row ``[b, i, :]`` (valid
because the examples are independent; B06 pins what happens when they are not).

Skipped: B04's ``tf.function`` / ``parallel_iterations`` variant (tf.function and the
``parallel_iterations`` argument are not neutral).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from conformance.expect import raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario


def _per_example(batch: int, columns: int) -> Callable[[Any], Sequence[Any]]:
    """Pick the batch Jacobian ``[batch, columns, ...]`` from one forward output per column."""
    return lambda d: [[[d.first[i][0][b] for i in range(columns)] for b in range(batch)]]


#: y = x * x for x = [[1, 2], [3, 4]], one output per target column.
_square_batch = Oracle(
    lambda fw, x: tuple(fw.gather(x * x, [i], axis=1) for i in range(2)),
    at=([[1.0, 2.0], [3.0, 4.0]],),
    pick=_per_example(2, 2),
)
_SQUARE_BATCH_JACOBIAN = value([[[2.0, 0.0], [0.0, 4.0]], [[6.0, 0.0], [0.0, 8.0]]])
_ZEROS = "zeros for an unconnected source by definition; no derivative to check"


@scenario(
    "batch_jacobian.per_example",
    spec="B (batch_jacobian docstring)",
    statement="batch_jacobian gives one Jacobian per example: [batch, target dim, source dim]",
    expect=returns(_SQUARE_BATCH_JACOBIAN),
    features=["batch_jacobian"],
    oracle=_square_batch,
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.batch_jacobian(y, x)


@scenario(
    "batch_jacobian.rectangular",
    spec="B (batch_jacobian docstring)",
    statement="for y = x @ w with x [2, 3] and w [3, 2], each example's Jacobian is w^T [2, 3]",
    expect=returns(value([[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]], [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]])),
    features=["batch_jacobian"],
    oracle=Oracle(
        lambda fw, x, w0, w1: (fw.matmul(x, w0), fw.matmul(x, w1)),
        at=([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[1.0], [3.0], [5.0]], [[2.0], [4.0], [6.0]]),
        pick=_per_example(2, 2),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w = fw.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.matmul(x, w)
    return tape.batch_jacobian(y, x)


@scenario(
    "batch_jacobian.first_dimension_mismatch",
    spec="B02",
    statement="target and source with different first (batch) dimensions raise a ValueError",
    expect=raises(ErrorKind.SHAPE_MISMATCH, "ValueError"),
    features=["batch_jacobian"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.concat([x, x], axis=0)
    return tape.batch_jacobian(y, x)


@scenario(
    "batch_jacobian.rank1_source",
    spec="B02",
    statement="a rank-1 source (no per-example dimension) raises a ValueError",
    expect=raises(ErrorKind.SHAPE_MISMATCH, "ValueError"),
    features=["batch_jacobian"],
)
def _(fw):
    with fw.GradientTape(persistent=True) as tape:
        pass
    return tape.batch_jacobian(fw.constant([[1.0, 2.0], [3.0, 4.0]]), fw.constant([1.0, 2.0]))


@scenario(
    "batch_jacobian.rank1_target",
    spec="B02",
    statement="a rank-1 target raises a ValueError",
    expect=raises(ErrorKind.SHAPE_MISMATCH, "ValueError"),
    features=["batch_jacobian"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = fw.reduce_sum(x, axis=1)
    return tape.batch_jacobian(y, x)


@scenario(
    "batch_jacobian.list_source_rejected",
    spec="B02",
    statement="a list source is not supported; TF fails inside (AttributeError on .shape), "
    "so only the kind is pinned",
    expect=raises(ErrorKind.INTERNAL),
    features=["batch_jacobian"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * 2.0
    return tape.batch_jacobian(y, [x])


@scenario(
    "batch_jacobian.unconnected_is_zeros",
    spec="B03",
    statement="an unconnected source gets zeros, never None, even with the default 'none'",
    expect=returns(value([[[0.0, 0.0], [0.0, 0.0]]])),
    features=["batch_jacobian"],
    oracle_exempt=_ZEROS,
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    w = fw.constant([[3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch([x, w])
        y = w * 2.0
    return tape.batch_jacobian(y, x, unconnected_gradients=fw.UnconnectedGradients.NONE)


@scenario(
    "batch_jacobian.unconnected_zeros_in_target_dtype",
    spec="B03",
    statement="those zeros take the target's dtype: float64 for a float64 target, float32 source",
    expect=returns(value([[[0.0, 0.0], [0.0, 0.0]]], dtype="float64")),
    features=["batch_jacobian", "float64"],
    oracle_exempt=_ZEROS,
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    w = fw.constant([[3.0, 4.0]], dtype=fw.float64)
    with fw.GradientTape() as tape:
        tape.watch([x, w])
        y = w * 2.0
    return tape.batch_jacobian(y, x)


@scenario(
    "batch_jacobian.no_pfor_needs_persistent",
    spec="B04",
    statement="experimental_use_pfor=False on a non-persistent tape raises a RuntimeError (eager)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "RuntimeError"),
    features=["batch_jacobian"],
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.constant([[1.0, 2.0]])
        tape.watch(x)
        y = x * x
    return tape.batch_jacobian(y, x, experimental_use_pfor=False)


@scenario(
    "batch_jacobian.no_pfor_persistent",
    spec="B04",
    statement="experimental_use_pfor=False on a persistent tape gives the same batch Jacobian",
    expect=returns(_SQUARE_BATCH_JACOBIAN),
    features=["batch_jacobian"],
    oracle=_square_batch,
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    return tape.batch_jacobian(y, x, experimental_use_pfor=False)


@scenario(
    "batch_jacobian.one_per_non_persistent_tape",
    spec="B05",
    statement="a non-persistent tape computes one batch_jacobian; the second call raises "
    "(TF's message still says 'tocompute': not pinned)",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["batch_jacobian"],
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.constant([[3.0]])
        tape.watch(x)
        y = x * x
        z = y * y
    tape.batch_jacobian(z, x)
    return tape.batch_jacobian(y, x)


@scenario(
    "batch_jacobian.cross_example_dependence_unchecked",
    spec="B06",
    statement="a target mixing examples is not detected: TF returns the column sums "
    "sum_b dy_b/dx_i = 6, 6 (the true per-example values would be 4, 5), with no error",
    expect=returns(value([[[6.0]], [[6.0]]])),
    features=["batch_jacobian"],
    oracle=Oracle(
        lambda fw, x: x * fw.reduce_sum(x), at=([[1.0], [2.0]],), pick=_per_example(2, 1)
    ),
)
def _(fw):
    x = fw.constant([[1.0], [2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * fw.reduce_sum(x)
    return tape.batch_jacobian(y, x)


@scenario(
    "batch_jacobian.inside_persistent_context",
    spec="B07",
    statement="batch_jacobian inside a persistent tape's block is allowed: 108 at 3",
    expect=returns(value([[[108.0]]])),
    features=["batch_jacobian"],
    oracle=Oracle(lambda fw, x: (x * x) * (x * x), at=([[3.0]],), pick=_per_example(1, 1)),
)
def _(fw):
    with fw.GradientTape(persistent=True) as tape:
        x = fw.constant([[3.0]])
        tape.watch(x)
        y = x * x
        z = y * y
        return tape.batch_jacobian(z, x)


@scenario(
    "batch_jacobian.inside_non_persistent_context",
    spec="B07",
    statement="batch_jacobian inside a non-persistent tape's block is allowed: 108 at 3",
    expect=returns(value([[[108.0]]])),
    features=["batch_jacobian"],
    oracle=Oracle(lambda fw, x: (x * x) * (x * x), at=([[3.0]],), pick=_per_example(1, 1)),
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.constant([[3.0]])
        tape.watch(x)
        y = x * x
        z = y * y
        return tape.batch_jacobian(z, x)


# ---- bad arguments, and which error wins ------------------------------------------------------


@scenario(
    "batch_jacobian.consumed_tape_raises",
    spec="L01, B05",
    statement="batch_jacobian on a tape consumed by gradient raises the consumed-tape RuntimeError "
    "(TF's text has a typo, 'tocompute': the message is not pinned)",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["batch_jacobian"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        total = fw.reduce_sum(y)
    tape.gradient(total, x)  # a scalar target: a non-scalar one is another behaviour (T11)
    return tape.batch_jacobian(y, x)


@scenario(
    "batch_jacobian.consumed_wins_over_no_pfor",
    spec="L01, B04",
    statement="a consumed non-persistent tape with experimental_use_pfor=False reports the "
    "consumed tape, not the missing persistence",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["batch_jacobian"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        total = fw.reduce_sum(y)
    tape.gradient(total, x)  # a scalar target: a non-scalar one is another behaviour (T11)
    return tape.batch_jacobian(y, x, experimental_use_pfor=False)


@scenario(
    "batch_jacobian.python_float_target",
    spec="B02",
    statement="a Python float as the target fails before any work: it has no shape "
    "(TF's AttributeError; loose, only the kind is pinned)",
    expect=raises(ErrorKind.INTERNAL, "AttributeError"),
    features=["batch_jacobian"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.batch_jacobian(3.0, x)


@scenario(
    "batch_jacobian.bad_unconnected_value",
    spec="U04, B03",
    statement="an unconnected_gradients value other than 'none'/'zero' raises a ValueError "
    "(loose: TF's message comes from its vectorizer)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
    features=["batch_jacobian"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.batch_jacobian(y, x, unconnected_gradients="bogus")


@scenario(
    "batch_jacobian.shape_check_wins_over_bad_unconnected",
    spec="B02, U04",
    statement="mismatched first dimensions and a bad unconnected_gradients value: the shape "
    "check's ValueError wins",
    expect=raises(ErrorKind.SHAPE_MISMATCH, "ValueError", "Need first dimension"),
    features=["batch_jacobian"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    z = fw.constant([[1.0], [2.0]])
    with fw.GradientTape() as tape:
        tape.watch([x, z])
        y = x * 2.0
    return tape.batch_jacobian(y, z, unconnected_gradients="bogus")


# ---- found by tapeconf fuzz (docs/fuzz.md): shrunk programs, TensorFlow's outcome expected


@scenario(
    "batch_jacobian.integer_target_is_unconnected",
    spec="B03, J09",
    statement="an int32 variable's batch_jacobian with respect to itself is zeros (int32), not "
    "the identity: integer tensors are never recorded",
    expect=returns(value([[[0, 0], [0, 0]], [[0, 0], [0, 0]]], dtype="int32")),
    features=["batch_jacobian", "variables"],
    oracle_exempt=_ZEROS,
)
def _(fw):
    v = fw.Variable([[1, 2], [3, 4]])
    with fw.GradientTape() as tape:
        tape.watch(v)
    return tape.batch_jacobian(v, v)


@scenario(
    "batch_jacobian.unconnected_zero_has_the_source_dtype",
    spec="B03",
    statement='with unconnected_gradients="zero" the zeros take the source\'s dtype (each row is '
    "a gradient: zeros like the source)",
    expect=returns(value([[[0.0, 0.0], [0.0, 0.0]]], dtype="float32")),
    features=["batch_jacobian", "float64"],
    oracle_exempt=_ZEROS,
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    w = fw.constant([[3.0, 4.0]], dtype=fw.float64)
    with fw.GradientTape() as tape:
        tape.watch([x, w])
        y = w * 2.0
    return tape.batch_jacobian(y, x, unconnected_gradients="zero")


@scenario(
    "batch_jacobian.no_pfor_mixed_dtype_rejected",
    spec="B04, D01",
    statement="without vectorization, a float64 target of a float32 source fails: the loop's "
    "TensorArray has the target's dtype (TF's InvalidArgumentError; no neutral kind yet)",
    expect=raises(ErrorKind.UNKNOWN, match="TensorArray dtype is float64 but Op is trying to write"),
    features=["batch_jacobian", "float64"],
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = fw.cast(x, fw.float64) * 2.0
    return tape.batch_jacobian(y, x, experimental_use_pfor=False)


# ---- the in-context WARNING, and the unvectorized loop's rows


@scenario(
    "batch_jacobian.in_context_warning_once",
    spec="B07, L05",
    statement="batch_jacobians inside a persistent tape's block log the in-context WARNING once in "
    "all, whatever the call site",
    expect=returns(
        value([[[2.0, 0.0], [0.0, 4.0]]]),
        warns={"less efficient than calling it outside the context": 1},
    ),
    features=["batch_jacobian"],
    oracle_exempt="the batch Jacobian of x * x is diag(2x); batch_jacobian.no_pfor_persistent has "
    "the oracle",
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        tape.batch_jacobian(y, x)
        last = tape.batch_jacobian(y, x)
    return last


def _unconnected_loop(fw: Any, mode: str) -> Any:
    """An unvectorized batch Jacobian of a float32 target with respect to an unconnected float64
    source."""
    x = fw.constant([[1.0, 2.0]], dtype=fw.float64)
    z = fw.constant([[3.0]])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        tape.watch(z)
        y = z * 2.0
    return tape.batch_jacobian(y, x, unconnected_gradients=mode, experimental_use_pfor=False)


@scenario(
    "batch_jacobian.no_pfor_unconnected_zero_rows_take_the_target_dtype",
    spec="B03, B04, J10",
    statement="without vectorization and with 'zero', the unconnected rows are zeros like the "
    "float64 source, which the float32 loop cannot hold (TF's InvalidArgumentError)",
    expect=raises(ErrorKind.UNKNOWN, match="TensorArray dtype is float32 but Op is trying to write"),
    features=["batch_jacobian", "float64"],
)
def _(fw):
    return _unconnected_loop(fw, "zero")


@scenario(
    "batch_jacobian.no_pfor_unconnected_none_is_target_zeros",
    spec="B03, B04",
    statement="without vectorization and with 'none', an unconnected float64 source writes no "
    "rows: the result is zeros of the float32 target's dtype",
    expect=returns(value([[[0.0, 0.0]]])),
    features=["batch_jacobian", "float64"],
    oracle_exempt=_ZEROS,
)
def _(fw):
    return _unconnected_loop(fw, "none")


@scenario(
    "batch_jacobian.no_pfor_one_output_per_example",
    spec="B04",
    statement="without vectorization, a target with one output per example ([2, 1]) gives a "
    "[2, 1, 2] batch Jacobian",
    expect=returns(value([[[2.0, 4.0]], [[6.0, 8.0]]])),
    features=["batch_jacobian"],
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(x * x, axis=1, keepdims=True),
        at=([[1.0, 2.0], [3.0, 4.0]],),
        pick=_per_example(2, 1),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = fw.reduce_sum(x * x, axis=1, keepdims=True)
    return tape.batch_jacobian(y, x, experimental_use_pfor=False)
