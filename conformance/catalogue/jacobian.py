"""Section M of the spec: ``GradientTape.jacobian`` — full Jacobians, their shape and structure.

The oracle checks a Jacobian entry by entry: each forward function returns the target's elements
as separate scalar outputs (and takes the source's elements as separate arguments where that is
simpler), so ``d.first[i][j]`` is the entry ``[i, j]``.

Skipped: J04's ``tf.function`` variant (not neutral); J07's WARNING text (it names TensorFlow's
IndexedSlices internals; the densified value is pinned); J08 (tf.function retracing WARNINGs: the
spec says not to pin them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from conformance.expect import any_value, raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, UserError, scenario


def _matrix(rows: int, columns: int) -> Callable[[Any], Sequence[Any]]:
    """Pick the Jacobian ``[rows, columns]`` from a forward with one output per target element
    and one argument per source element."""
    return lambda d: [[[d.first[i][j] for j in range(columns)] for i in range(rows)]]


#: y = x * x at x = [1, 2], element by element.
_square_2 = Oracle(lambda fw, x0, x1: (x0 * x0, x1 * x1), at=(1.0, 2.0), pick=_matrix(2, 2))
_SQUARE_JACOBIAN = value([[2.0, 0.0], [0.0, 4.0]])


@scenario(
    "jacobian.elementwise",
    spec="J01",
    statement="the Jacobian of y = x * x is diagonal with 2x on the diagonal",
    expect=returns(_SQUARE_JACOBIAN),
    features=["jacobian"],
    oracle=_square_2,
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.constant([1.0, 2.0])
        tape.watch(x)
        y = x * x
    return tape.jacobian(y, x)


@scenario(
    "jacobian.shape_is_target_then_source",
    spec="J01 (implied)",
    statement="the Jacobian's shape is target.shape + source.shape: [2] and [2, 2] give [2, 2, 2]",
    expect=returns(value([[[1.0, 1.0], [0.0, 0.0]], [[0.0, 0.0], [1.0, 1.0]]])),
    features=["jacobian"],
    oracle=Oracle(
        lambda fw, a, b, c, d: (a + b, c + d),
        at=(1.0, 2.0, 3.0, 4.0),
        pick=lambda d: [
            [[[d.first[i][2 * r + c] for c in range(2)] for r in range(2)] for i in range(2)]
        ],
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(x, axis=1)
    return tape.jacobian(y, x)


@scenario(
    "jacobian.scalar_target",
    spec="J01 (implied)",
    statement="the Jacobian of a scalar target has the source's shape: it is the gradient",
    expect=returns(value([2.0, 4.0])),
    features=["jacobian"],
    oracle=Oracle(lambda fw, x: fw.reduce_sum(x * x), at=([1.0, 2.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(x * x)
    return tape.jacobian(y, x)


@scenario(
    "jacobian.scalar_source",
    spec="J01 (implied)",
    statement="the Jacobian with respect to a scalar source has the target's shape",
    expect=returns(value([1.0, 6.0])),
    features=["jacobian"],
    oracle=Oracle(
        lambda fw, x: (x, x * x), at=(3.0,), pick=lambda d: [[d.first[0][0], d.first[1][0]]]
    ),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.stack([x, x * x])
    return tape.jacobian(y, x)


@scenario(
    "jacobian.variable_source",
    spec="J01 (implied)",
    statement="a trainable variable read inside the tape is a valid jacobian source",
    expect=returns(_SQUARE_JACOBIAN),
    features=["jacobian", "variables"],
    oracle=_square_2,
)
def _(fw):
    v = fw.Variable([1.0, 2.0])
    with fw.GradientTape() as tape:
        y = v * v
    return tape.jacobian(y, v)


@scenario(
    "jacobian.structure_and_unconnected_none",
    spec="J03",
    statement="the result mirrors the sources' structure; an unconnected source gets None",
    expect=returns({"x": _SQUARE_JACOBIAN, "w": (None,)}),
    features=["jacobian"],
    oracle=_square_2,
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    w = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch([x, w])
        y = x * x
    return tape.jacobian(y, {"x": x, "w": (w,)})


@scenario(
    "jacobian.unconnected_zero",
    spec="J03",
    statement="with 'zero' an unconnected source gets zeros of shape target.shape + source.shape",
    expect=returns(value([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])),
    features=["jacobian"],
    oracle_exempt="zeros for an unconnected source by definition; no derivative to check",
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    w = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch([x, w])
        y = x * x
    return tape.jacobian(y, w, unconnected_gradients="zero")


@scenario(
    "jacobian.no_pfor_needs_persistent",
    spec="J04",
    statement="experimental_use_pfor=False on a non-persistent tape raises a RuntimeError (eager)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "RuntimeError"),
    features=["jacobian"],
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.constant([1.0, 2.0])
        tape.watch(x)
        y = x * x
    return tape.jacobian(y, x, experimental_use_pfor=False)


@scenario(
    "jacobian.no_pfor_persistent",
    spec="J04",
    statement="experimental_use_pfor=False on a persistent tape gives the same Jacobian",
    expect=returns(_SQUARE_JACOBIAN),
    features=["jacobian"],
    oracle=_square_2,
)
def _(fw):
    with fw.GradientTape(persistent=True) as tape:
        x = fw.constant([1.0, 2.0])
        tape.watch(x)
        y = x * x
    return tape.jacobian(y, x, experimental_use_pfor=False)


@scenario(
    "jacobian.one_per_non_persistent_tape",
    spec="J04, L01",
    statement="a non-persistent tape computes one jacobian; the second call raises",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["jacobian"],
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.constant([1.0, 2.0])
        tape.watch(x)
        y = x * x
    tape.jacobian(y, x)
    return tape.jacobian(y, x)


@scenario(
    "jacobian.inside_context",
    spec="J05",
    statement="jacobian inside a non-persistent tape's block is allowed: d(x^4)/dx = 108 at 3",
    expect=returns(108.0),
    features=["jacobian"],
    oracle=Oracle(lambda fw, x: (x * x) * (x * x), at=(3.0,)),
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.constant(3.0)
        tape.watch(x)
        y = x * x
        z = y * y
        return tape.jacobian(z, x)


@scenario(
    "jacobian.target_list_rejected",
    spec="J06",
    statement="a list of targets is not supported; TF fails inside (AttributeError on .shape), "
    "so only the kind is pinned",
    expect=raises(ErrorKind.INTERNAL),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y1 = x * x
        y2 = x * 3.0
    return tape.jacobian([y1, y2], x)


@scenario(
    "jacobian.int_target",
    spec="J06",
    statement="the Jacobian of an int target (through a cast) is None",
    expect=returns(None),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(x, fw.int32) * 2
    return tape.jacobian(y, x)


@scenario(
    "jacobian.gather_densified",
    spec="J07",
    statement="a gather's sparse gradient comes back as a dense [2, 2, 3, 2] Jacobian",
    expect=returns(
        value(
            [
                [[[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]],
                [[[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0], [0.0, 1.0]]],
            ]
        )
    ),
    features=["jacobian"],
    oracle=Oracle(
        lambda fw, x: tuple(
            fw.reduce_sum(fw.gather(fw.gather(x, [row]), [column], axis=1))
            for row in (0, 2)
            for column in (0, 1)
        ),
        at=([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],),
        pick=lambda d: [[[d.first[2 * i + j][0] for j in range(2)] for i in range(2)]],
    ),
)
def _(fw):
    with fw.GradientTape() as tape:
        x = fw.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        tape.watch(x)
        y = fw.gather(x, [0, 2])
    return tape.jacobian(y, x)


@scenario(
    "jacobian.hessian_from_gradient",
    spec="J01, N01 (implied)",
    statement="an outer tape's jacobian of an inner gradient is the Hessian",
    expect=returns(value([[8.0, 2.0], [2.0, 14.0]])),
    features=["jacobian"],
    oracle=Oracle(  # the analytic gradient of sum(x^3) + sum(x)^2, element by element
        lambda fw, x0, x1: (3.0 * x0**2 + 2.0 * (x0 + x1), 3.0 * x1**2 + 2.0 * (x0 + x1)),
        at=(1.0, 2.0),
        pick=_matrix(2, 2),
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            f = fw.reduce_sum(x**3) + fw.reduce_sum(x) ** 2
        gradient = inner.gradient(f, x)
    return outer.jacobian(gradient, x)


# ---- bad arguments, and which error wins ------------------------------------------------------


@scenario(
    "jacobian.consumed_tape_raises",
    spec="L01, J01",
    statement="jacobian on a tape consumed by gradient raises the consumed-tape RuntimeError",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        total = fw.reduce_sum(y)
    tape.gradient(total, x)  # a scalar target: a non-scalar one is another behaviour (T11)
    return tape.jacobian(y, x)


@scenario(
    "jacobian.consumed_wins_over_no_pfor",
    spec="L01, J04",
    statement="a consumed non-persistent tape with experimental_use_pfor=False reports the "
    "consumed tape, not the missing persistence",
    expect=raises(ErrorKind.CONSUMED_TAPE, "RuntimeError"),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        total = fw.reduce_sum(y)
    tape.gradient(total, x)  # a scalar target: a non-scalar one is another behaviour (T11)
    return tape.jacobian(y, x, experimental_use_pfor=False)


@scenario(
    "jacobian.python_float_target",
    spec="J06",
    statement="a Python float as the target fails before any work: it has no shape "
    "(TF's AttributeError; loose, only the kind is pinned)",
    expect=raises(ErrorKind.INTERNAL, "AttributeError"),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.jacobian(3.0, x)


@scenario(
    "jacobian.bad_unconnected_value",
    spec="U04, J03",
    statement="an unconnected_gradients value other than 'none'/'zero' raises a ValueError "
    "(loose: TF's message comes from its vectorizer)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "ValueError"),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return tape.jacobian(y, x, unconnected_gradients="bogus")


@scenario(
    "jacobian.in_context_warning_once",
    spec="J05, L05",
    statement="jacobians inside a persistent tape's block log the in-context WARNING once in all, "
    "whatever the call site",
    expect=returns(
        value([[4.0, 0.0], [0.0, 4.0]]),
        warns={"less efficient than calling it outside the context": 1},
    ),
    features=["jacobian"],
    oracle_exempt="the Jacobian of x * x at [2, 2] is diag(2x); jacobian.elementwise has the oracle",
)
def _(fw):
    x = fw.constant([2.0, 2.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        tape.jacobian(y, x)
        last = tape.jacobian(y, x)
    return last


@scenario(
    "jacobian.numpy_target_is_unconnected",
    spec="T08, J03",
    statement="a NumPy array as the jacobian target is a constant no tape recorded: None",
    expect=returns(None),
    features=["jacobian"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        x * x
    return tape.jacobian(np.array([1.0, 2.0]), x)


@scenario(
    "jacobian.sparse_rows_warn_once",
    spec="J07",
    statement="the jacobian of a gather densifies its sparse rows and logs the 'dense "
    "representation' WARNING once, not once per row; the result is [2, 2, 3, 2]",
    expect=returns(
        any_value("float32", [2, 2, 3, 2]), warns={"to a dense representation": 1}
    ),
    features=["jacobian", "variables"],
)
def _(fw):
    v = fw.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        y = fw.gather(v, [0, 2])
    return tape.jacobian(y, v)


# ---- found by tapeconf fuzz (docs/fuzz.md): shrunk programs, TensorFlow's outcome expected


@scenario(
    "jacobian.unwatched_target_is_not_its_own_identity",
    spec="J09",
    statement="jacobian(x, x) of an unwatched x is None, although gradient(x, x) is the seed",
    expect=returns([None, value([1.0, 1.0]), None]),
    features=["jacobian"],
    oracle_exempt="None and the seed: no derivative to check",
)
def _(fw):
    x = fw.constant([1.5, 2.0])
    with fw.GradientTape(persistent=True) as tape:
        y = x * 2.0  # nothing is watched: the tape records nothing
    return [tape.gradient(y, x), tape.gradient(x, x), tape.jacobian(x, x)]


@scenario(
    "jacobian.watched_target_is_its_own_identity",
    spec="J09",
    statement="once watched, the same target's Jacobian with respect to itself is the identity",
    expect=returns(value([[1.0, 0.0], [0.0, 1.0]])),
    features=["jacobian"],
    oracle_exempt="the identity: d x / d x needs no finite differences",
)
def _(fw):
    x = fw.constant([1.5, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
    return tape.jacobian(x, x)


@scenario(
    "jacobian.loop_rows_take_the_target_dtype",
    spec="J10",
    statement="without pfor, rows go into a TensorArray of the target's dtype: a float32 source of "
    "a float64 target raises",
    expect=raises(
        ErrorKind.UNKNOWN, match=r"^TensorArray dtype is float64 but Op is trying to write dtype float32"
    ),
    features=["jacobian", "float64"],
)
def _(fw):
    x = fw.constant([1.5, 2.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = fw.cast(x, fw.float64) * 2.0
    return tape.jacobian(y, x, experimental_use_pfor=False)


@scenario(
    "jacobian.mixed_dtype_has_the_source_dtype",
    spec="J01, D01",
    statement="the Jacobian of a float64 target of a float32 source has the source's dtype "
    "(float32), like a gradient",
    expect=returns(value([[2.0, 0.0], [0.0, 2.0]])),
    features=["jacobian", "float64"],
    oracle_exempt="the Jacobian of 2x is 2I; the point is its dtype",
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(x, fw.float64) * 2.0
    return tape.jacobian(y, x)


@scenario(
    "jacobian.no_pfor_mixed_dtype_rejected",
    spec="J04, D01",
    statement="without vectorization, a float64 target of a float32 source fails: the loop's "
    "TensorArray has the target's dtype (TF's InvalidArgumentError; no neutral kind yet)",
    expect=raises(ErrorKind.UNKNOWN, match="TensorArray dtype is float64 but Op is trying to write"),
    features=["jacobian", "float64"],
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = fw.cast(x, fw.float64) * 2.0
    return tape.jacobian(y, x, experimental_use_pfor=False)


# ---- errors inside the rows, variable targets, sparse rows, a tape whose records are gone


def _failing_jacobian(fw: Any, error: Exception, **options: Any) -> Any:
    """The Jacobian of a custom op whose gradient function raises ``error``."""

    @fw.custom_gradient
    def f(x):
        def grad(_):
            raise error

        return x * 1.0, grad

    x = fw.constant([1.0, 2.0])
    with fw.GradientTape(persistent=not options.get("experimental_use_pfor", True)) as tape:
        tape.watch(x)
        y = f(x)
    return tape.jacobian(y, x, **options)


#: Autograph's "in user code" text: the user's frames (here only ``grad``), then the error.
_IN_USER_CODE = (
    r'^in user code:\n\n    File "[^"]+", line \d+, in grad\n        raise error\n\n'
    r"    TypeError: boom\n$"
)


@scenario(
    "jacobian.error_in_vectorized_rows_is_reported_in_user_code",
    spec="J11",
    statement="a TypeError raised by a gradient function while pfor computes the Jacobian keeps "
    "its type, its message rewritten 'in user code:' with the user's frames and the original error",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError", match=_IN_USER_CODE),
    features=["jacobian", "custom_gradient"],
)
def _(fw):
    return _failing_jacobian(fw, TypeError("boom"))


@scenario(
    "jacobian.error_without_pfor_propagates_unchanged",
    spec="J11",
    statement="with experimental_use_pfor=False the gradient function's error reaches the caller "
    "as raised: same type, same message",
    expect=raises(ErrorKind.USER_ERROR, "RuntimeError", match="^boom$"),
    features=["jacobian", "custom_gradient"],
)
def _(fw):
    return _failing_jacobian(fw, UserError("boom"), experimental_use_pfor=False)


@scenario(
    "jacobian.key_error_in_vectorized_rows_stays_a_key_error",
    spec="J11",
    statement="a KeyError raised by a gradient function under pfor is still a KeyError, and prints "
    "the 'in user code:' message (not the key's repr)",
    expect=raises(ErrorKind.UNKNOWN, "KeyError", match=r"^in user code:\n(.|\n)*    KeyError: 'boom'\n$"),
    features=["jacobian", "custom_gradient"],
)
def _(fw):
    return _failing_jacobian(fw, KeyError("boom"))


@scenario(
    "jacobian.op_error_in_vectorized_rows_stays_the_ops",
    spec="J11",
    statement="an op's own error in a gradient function under pfor is not rewritten: an "
    "out-of-range gather index stays the op's InvalidArgumentError (no neutral kind yet)",
    expect=raises(ErrorKind.UNKNOWN, match=r"= 5 is not in \[0, 2\)"),
    features=["jacobian", "custom_gradient"],
)
def _(fw):
    @fw.custom_gradient
    def f(x):
        return x * 1.0, lambda dy: fw.gather(dy, [0, 5])

    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.jacobian(y, x)


@scenario(
    "jacobian.value_error_in_vectorized_rows",
    spec="J11",
    statement="a ValueError raised while pfor computes the Jacobian becomes pfor's 'Encountered an "
    "exception while vectorizing the jacobian computation' ValueError",
    expect=raises(
        ErrorKind.INVALID_ARGUMENT,
        "ValueError",
        match="^Encountered an exception while vectorizing the jacobian computation. "
        "Vectorization can be disabled by setting experimental_use_pfor to False.$",
    ),
    features=["jacobian", "custom_gradient"],
)
def _(fw):
    return _failing_jacobian(fw, ValueError("boom"))


@scenario(
    "jacobian.own_exception_class_becomes_a_staging_error",
    spec="J11",
    statement="an exception class of the user's own with its own constructor (a RuntimeError "
    "subclass) raised under pfor reaches the caller as autograph's StagingError (an Exception, so "
    "`except UserError` misses it)",
    expect=raises(
        ErrorKind.UNKNOWN, "Exception", match=r"^in user code:\n(.|\n)*    UserError: boom\n$"
    ),
    features=["jacobian", "custom_gradient"],
)
def _(fw):
    return _failing_jacobian(fw, UserError("boom"))


@scenario(
    "jacobian.variable_target_is_watched_when_sliced",
    spec="J09",
    statement="jacobian(v, v) of a trainable variable never read in the block is the identity: "
    "slicing the target reads it under the tape, which watches it (watched_variables lists it)",
    expect=returns([value([[1.0, 0.0], [0.0, 1.0]]), 1]),
    features=["jacobian", "variables", "watched_variables"],
    oracle_exempt="the Jacobian of v with respect to itself is the identity by definition",
)
def _(fw):
    v = fw.Variable([1.0, 2.0])
    with fw.GradientTape() as tape:
        pass
    result = tape.jacobian(v, v)
    return [result, len(tape.watched_variables())]


@scenario(
    "jacobian.no_pfor_checks_every_source_dtype",
    spec="J10",
    statement="without vectorization each source's rows must have the target's dtype: a float64 "
    "source after a float32 one fails (TF's InvalidArgumentError; no neutral kind yet)",
    expect=raises(ErrorKind.UNKNOWN, match="TensorArray dtype is float32 but Op is trying to write"),
    features=["jacobian", "float64"],
)
def _(fw):
    a = fw.constant([1.0])
    b = fw.constant([1.0], dtype=fw.float64)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(a)
        tape.watch(b)
        y = a * 2.0 + fw.cast(b, fw.float32)
    return tape.jacobian(y, [a, b], experimental_use_pfor=False)


@scenario(
    "jacobian.sparse_scalar_target_warns",
    spec="J07",
    statement="a scalar target's one sparse row through gather is densified too, with the "
    "'Converting IndexedSlices ... to a dense representation' WARNING once",
    expect=returns(
        value([1.0, 0.0, 1.0]),
        warns={"Converting IndexedSlices(": 1, "to a dense representation": 1},
    ),
    features=["jacobian"],
    oracle=Oracle(lambda fw, x0, x1, x2: x0 + x2, at=(1.0, 2.0, 3.0), pick=lambda d: [
        [d.first[0][0], d.first[0][1], d.first[0][2]]
    ]),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.gather(x, [0, 2]))
    return tape.jacobian(y, x)


@scenario(
    "jacobian.truthy_persistent_second_jacobian_is_unconnected",
    spec="J04, L02",
    statement="persistent=1 (truthy, not True): the tape object survives its first jacobian but "
    "its records do not, so the second jacobian is None",
    expect=returns([value([[2.0, 0.0], [0.0, 4.0]]), None]),
    features=["jacobian"],
    oracle_exempt="the first Jacobian is jacobian.elementwise's (which has the oracle); the point "
    "is the None",
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape(persistent=1) as tape:
        tape.watch(x)
        y = x * x
    first = tape.jacobian(y, x)
    return [first, tape.jacobian(y, x)]


@scenario(
    "jacobian.empty_target_gives_empty_zeros",
    spec="J12",
    statement="the Jacobian of an empty (0, 3) target is an empty array of shape (0, 3, 1, 3) for "
    "a connected source, None for an unconnected one",
    expect=returns([value(np.zeros((0, 3, 1, 3), np.float32)), None]),
    features=["jacobian", "variables"],
    oracle_exempt="an empty array: no derivative to check",
)
def _(fw):
    v = fw.Variable([[1.5, 1.5, 1.5]])
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = v[1:] * 2.0
    return tape.jacobian(y, [v, x])


@scenario(
    "jacobian.empty_target_without_pfor_raises",
    spec="J12",
    statement="without pfor, the Jacobian of an empty target is a ValueError: the loop of no "
    "iterations stacks nothing of the source's shape",
    expect=raises(
        ErrorKind.INVALID_ARGUMENT,
        "ValueError",
        r"Tensor's shape \(0, 3\) is not compatible with supplied shape \(0, 3, 1, 3\)",
    ),
    features=["jacobian", "variables"],
)
def _(fw):
    v = fw.Variable([[1.5, 1.5, 1.5]])
    with fw.GradientTape(persistent=True) as tape:
        y = v[1:] * 2.0
    return tape.jacobian(y, v, experimental_use_pfor=False)

