"""Section J of the spec: what individual ops contribute — stop_gradient, piecewise-constant ops,
subgradients at kinks, special values, gathers, Python control flow, broadcasting.

Skipped, because the neutral API cannot express them:
- OP04 (an op without a registered gradient): needs ``tf.raw_ops``.
- OP08/OP09 IndexedSlices internals (type, ``indices``, ``dense_shape``): the neutral API has no
  IndexedSlices; their *values* are pinned here, densified with ``multiply(g, 1.0)`` (the neutral
  API has no ``convert_to_tensor``). ``embedding_lookup`` and ``sparse_read`` are not neutral.
- OP11's ``tf.cond``, ``tf.while_loop`` and ``tf.function``: not neutral; the eager equivalent,
  Python control flow on tensors, is pinned instead.
- OP12 (v1 graph control flow): graph mode.
OP14 (variable assignment) is in ``variables.py``.
"""

from __future__ import annotations

from conformance.expect import returns, value
from conformance.registry import Oracle, scenario

_KINK = "the value at a kink is a convention (a subgradient); finite differences are undefined"
_V = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]  # the variable gathered from in OP08/OP09
_SPECIAL = "the derivative is infinite or undefined here; the IEEE special value is the behaviour"


# ---- stop_gradient -----------------------------------------------------------------------------


@scenario(
    "ops.stop_gradient_blocks",
    spec="OP01",
    statement="a target produced by stop_gradient has no gradient: None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.stop_gradient(x * x)
    return tape.gradient(y, x)


@scenario(
    "ops.stop_gradient_one_factor",
    spec="OP01",
    statement="x * stop_gradient(x) differentiates only the unstopped factor: 3.0, not 6.0",
    expect=returns(3.0),
    oracle=Oracle(lambda fw, x, stopped: x * stopped, at=(3.0, 3.0)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x * fw.stop_gradient(x)
    return tape.gradient(y, x)


@scenario(
    "ops.stop_gradient_prunes_backward",
    spec="OP02",
    statement="a backward function downstream of stop_gradient is never called",
    expect=returns([None, 0]),
    features=["custom_gradient"],
)
def _(fw):
    calls = []

    @fw.custom_gradient
    def counted(x):
        def grad(dy):
            calls.append(1)
            return dy

        return x * 1.0, grad

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = counted(fw.stop_gradient(x))
    return [tape.gradient(y, x), len(calls)]


@scenario(
    "ops.unwatched_prunes_backward",
    spec="OP02",
    statement="a backward function of an op on an unwatched input is never called",
    expect=returns([None, 0]),
    features=["custom_gradient"],
)
def _(fw):
    calls = []

    @fw.custom_gradient
    def counted(x):
        def grad(dy):
            calls.append(1)
            return dy

        return x * 1.0, grad

    x = fw.constant(1.0)
    with fw.GradientTape() as tape:
        y = counted(x)
    return [tape.gradient(y, x), len(calls)]


@scenario(
    "ops.identity_passes_gradient",
    spec="OP01 (implied)",
    statement="identity passes the gradient through unchanged (unlike stop_gradient)",
    expect=returns(6.0),
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.identity(x * x)
    return tape.gradient(y, x)


# ---- piecewise-constant ops --------------------------------------------------------------------


@scenario(
    "ops.round_has_no_gradient",
    spec="OP03",
    statement="round() has no gradient: None, not zero",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(2.3)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.round(x)
    return tape.gradient(y, x)


@scenario(
    "ops.floor_has_no_gradient",
    spec="OP03",
    statement="floor() has no gradient: None, not zero",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(2.3)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.floor(x)
    return tape.gradient(y, x)


@scenario(
    "ops.sign_gradient_is_zero",
    spec="OP03",
    statement="sign() has a zero gradient: 0.0, not None",
    expect=returns(0.0),
    oracle=Oracle(lambda fw, x: fw.sign(x), at=(2.3,)),
)
def _(fw):
    x = fw.constant(2.3)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.sign(x)
    return tape.gradient(y, x)


# ---- kinks -------------------------------------------------------------------------------------


@scenario(
    "ops.relu_kink",
    spec="OP05",
    statement="relu's gradient at 0 is 0",
    expect=returns(value([0.0, 0.0, 1.0])),
    oracle_exempt=_KINK,
)
def _(fw):
    x = fw.constant([-1.0, 0.0, 1.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.relu(x))
    return tape.gradient(y, x)


@scenario(
    "ops.abs_kink",
    spec="OP05",
    statement="abs's gradient at 0 is 0 (sign(x))",
    expect=returns(value([-1.0, 0.0, 1.0])),
    oracle_exempt=_KINK,
)
def _(fw):
    x = fw.constant([-1.0, 0.0, 1.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.abs(x))
    return tape.gradient(y, x)


@scenario(
    "ops.maximum_tie_goes_to_first",
    spec="OP05",
    statement="maximum(a, b) with a == b sends the whole gradient to the first argument",
    expect=returns([1.0, 0.0]),
    oracle_exempt=_KINK,
)
def _(fw):
    a = fw.constant(1.0)
    b = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.maximum(a, b)
    return tape.gradient(y, [a, b])


@scenario(
    "ops.minimum_tie_goes_to_first",
    spec="OP05 (implied)",
    statement="minimum(a, b) with a == b sends the whole gradient to the first argument",
    expect=returns([1.0, 0.0]),
    oracle_exempt=_KINK,
)
def _(fw):
    a = fw.constant(1.0)
    b = fw.constant(1.0)
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.minimum(a, b)
    return tape.gradient(y, [a, b])


@scenario(
    "ops.reduce_max_tie_splits",
    spec="OP05",
    statement="reduce_max splits the gradient evenly between tied maxima",
    expect=returns(value([0.0, 0.5, 0.5])),
    oracle_exempt=_KINK,
)
def _(fw):
    m = fw.constant([1.0, 3.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(m)
        y = fw.reduce_max(m)
    return tape.gradient(y, m)


# ---- special values ----------------------------------------------------------------------------


@scenario(
    "ops.sqrt_at_zero_is_inf",
    spec="OP06",
    statement="the gradient of sqrt at 0 is inf",
    expect=returns(float("inf")),
    oracle_exempt=_SPECIAL,
)
def _(fw):
    z = fw.constant(0.0)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = fw.sqrt(z)
    return tape.gradient(y, z)


@scenario(
    "ops.norm_at_zero_is_nan",
    spec="OP06",
    statement="the gradient of the Euclidean norm at the zero vector is NaN",
    expect=returns(value([float("nan"), float("nan")])),
    oracle_exempt=_SPECIAL,
)
def _(fw):
    zz = fw.constant([0.0, 0.0])
    with fw.GradientTape() as tape:
        tape.watch(zz)
        y = fw.norm(zz)
    return tape.gradient(y, zz)


@scenario(
    "ops.pow_zero_exponent_at_zero_is_nan",
    spec="OP06",
    statement="the gradient of z ** 0.0 at z = 0 is NaN (0 * 0 ** -1), not 0",
    expect=returns(float("nan")),
    oracle_exempt=_SPECIAL,
)
def _(fw):
    z = fw.constant(0.0)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = z**0.0
    return tape.gradient(y, z)


@scenario(
    "ops.exp_overflow_is_inf",
    spec="OP06",
    statement="the gradient of exp(100) overflows float32 to inf",
    expect=returns(float("inf")),
    oracle_exempt="float32 overflow is the behaviour; the float64 oracle would not overflow",
)
def _(fw):
    big = fw.constant(100.0)
    with fw.GradientTape() as tape:
        tape.watch(big)
        y = fw.exp(big)
    return tape.gradient(y, big)


@scenario(
    "ops.pow_two_at_zero",
    spec="OP06",
    statement="the gradient of z ** 2 at 0 is 0.0 (no NaN from a log of 0)",
    expect=returns(0.0),
    oracle=Oracle(lambda fw, z: z**2, at=(0.0,)),
)
def _(fw):
    z = fw.constant(0.0)
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = z**2
    return tape.gradient(y, z)


@scenario(
    "ops.where_sqrt_no_nan",
    spec="OP07",
    statement="where(x > 0, sqrt(x), 0) at x = 0 gives 0, not NaN: TF's sqrt backward "
    "returns 0 for a zero upstream",
    expect=returns(value([0.0, 0.25])),
    oracle_exempt="the point x = 0 is the where/NaN trap itself; finite differences straddle it",
)
def _(fw):
    x = fw.constant([0.0, 4.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.where(x > 0, fw.sqrt(x), fw.zeros_like(x)))
    return tape.gradient(y, x)


@scenario(
    "ops.where_log_nan",
    spec="OP07",
    statement="where(x > 0, log(x), 0) at x = 0 gives NaN: the unselected branch's inf times 0",
    expect=returns(value([float("nan"), 0.25])),
    oracle_exempt="the point x = 0 is the where/NaN trap itself; finite differences straddle it",
)
def _(fw):
    x = fw.constant([0.0, 4.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.where(x > 0, fw.log(x), fw.zeros_like(x)))
    return tape.gradient(y, x)


@scenario(
    "ops.where_routes_gradient",
    spec="OP07 (implied)",
    statement="where() sends each element's gradient to the selected branch only",
    expect=returns(value([10.0, 4.0, 6.0])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.where(x > 1.5, x * x, x * 10.0)), at=([1.0, 2.0, 3.0],)
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.where(x > 1.5, x * x, x * 10.0))
    return tape.gradient(y, x)


# ---- gathers -----------------------------------------------------------------------------------


@scenario(
    "ops.gather_duplicates_accumulate",
    spec="OP08",
    statement="gather's gradient adds up repeated indices (densified: [[1,1],[0,0],[2,2]])",
    expect=returns(value([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]])),
    features=["variables"],
    oracle=Oracle(lambda fw, v: fw.reduce_sum(fw.gather(v, [2, 0, 2])), at=(_V,)),
)
def _(fw):
    v = fw.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        y = fw.reduce_sum(fw.gather(v, [2, 0, 2]))
    return fw.multiply(tape.gradient(y, v), 1.0)


@scenario(
    "ops.gather_watched_constant",
    spec="OP08",
    statement="gather from a watched constant: the densified gradient counts each index's uses",
    expect=returns(value([2.0, 0.0, 1.0])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(fw.gather(x, [0, 0, 2])), at=([1.0, 2.0, 3.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.gather(x, [0, 0, 2]))
    return fw.multiply(tape.gradient(y, x), 1.0)


@scenario(
    "ops.gather_contributions_aggregate",
    spec="OP09",
    statement="two gathers of the same variable add their contributions (densified)",
    expect=returns(value([[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])),
    features=["variables"],
    oracle=Oracle(
        lambda fw, v: fw.reduce_sum(fw.gather(v, [0])) + fw.reduce_sum(fw.gather(v, [0, 2])),
        at=(_V,),
    ),
)
def _(fw):
    v = fw.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        s = fw.reduce_sum(fw.gather(v, [0])) + fw.reduce_sum(fw.gather(v, [0, 2]))
    return fw.multiply(tape.gradient(s, v), 1.0)


@scenario(
    "ops.gather_plus_dense_use",
    spec="OP09",
    statement="a gather plus a dense use of the same variable give one dense sum",
    expect=returns(value([[3.0, 3.0], [2.0, 2.0], [2.0, 2.0]])),
    features=["variables"],
    oracle=Oracle(
        lambda fw, v: fw.reduce_sum(fw.gather(v, [0])) + fw.reduce_sum(v * 2.0),
        at=(_V,),
    ),
)
def _(fw):
    v = fw.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        d = fw.reduce_sum(fw.gather(v, [0])) + fw.reduce_sum(v * 2.0)
    return tape.gradient(d, v)


# ---- control flow and shapes -------------------------------------------------------------------


@scenario(
    "ops.python_branch",
    spec="OP11",
    statement="a Python if on a tensor records only the branch taken (eager tf.cond)",
    expect=returns(6.0),
    oracle=Oracle(lambda fw, x: x * x, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = x if x < x else x * x
    return tape.gradient(y, x)


@scenario(
    "ops.python_loop",
    spec="OP11",
    statement="a Python loop is unrolled onto the tape (eager tf.while_loop): d(4x)/dx = 4",
    expect=returns(4.0),
    oracle=Oracle(lambda fw, x: x * 2 * 2, at=(3.0,)),
)
def _(fw):
    x = fw.constant(3.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        a = x
        for _ in range(2):
            a = a * 2
    return tape.gradient(a, x)


@scenario(
    "ops.broadcast_reduced_to_source_shape",
    spec="J (implied)",
    statement="a source broadcast by an op gets a gradient of its own shape, summed over copies",
    expect=returns(value([2.0, 2.0, 2.0])),
    oracle=Oracle(
        lambda fw, x, m: fw.reduce_sum(x + m),
        at=([1.0, 2.0, 3.0], [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]),
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    m = fw.constant([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(x + m)
    return tape.gradient(y, x)


@scenario(
    "ops.softmax_sum_gives_zeros",
    spec="J (implied)",
    statement="sum(softmax(x)) is constant: the gradient is zeros (connected), not None",
    expect=returns(value([0.0, 0.0, 0.0])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(fw.softmax(x)), at=([1.0, 2.0, 3.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.softmax(x))
    return tape.gradient(y, x)


@scenario(
    "ops.matmul_both_operands",
    spec="J (implied)",
    statement="matmul's gradients: ones @ B^T for A and A^T @ ones for B",
    expect=returns([value([[11.0, 15.0], [11.0, 15.0]]), value([[4.0, 4.0], [6.0, 6.0]])]),
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(fw.matmul(a, b)),
        at=([[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    b = fw.constant([[5.0, 6.0], [7.0, 8.0]])
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.reduce_sum(fw.matmul(a, b))
    return tape.gradient(y, [a, b])


@scenario(
    "ops.shape_ops_route_gradient",
    spec="J (implied)",
    statement="concat, stack and tile route gradients back to every use: 3 + (1 + 2x) + 3",
    expect=returns(value([9.0, 11.0, 13.0])),
    oracle=Oracle(
        lambda fw, x: (
            fw.reduce_sum(fw.concat([x, x * 2.0], 0)),
            fw.reduce_sum(fw.stack([x, x * x], 0)),
            fw.reduce_sum(fw.tile(x, [3])),
        ),
        at=([1.0, 2.0, 3.0],),
        pick=lambda d: [d.first[0][0] + d.first[1][0] + d.first[2][0]],
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        c = fw.reduce_sum(fw.concat([x, x * 2.0], 0))
        s = fw.reduce_sum(fw.stack([x, x * x], 0))
        t = fw.reduce_sum(fw.tile(x, [3]))
    return tape.gradient([c, s, t], x)
