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

from conformance.expect import raises, returns, value
from conformance.protocol import ErrorKind
from conformance.registry import Oracle, scenario

_KINK = "the value at a kink is a convention (a subgradient); finite differences are undefined"
_V = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]  # the variable gathered from in OP08/OP09
_SPECIAL = "the derivative is infinite or undefined here; the IEEE special value is the behaviour"


def _rejects(op: str, name: str = " name: ") -> str:
    """TensorFlow's kernel-registration error for ``op``, to its end: eager ops on tensors end
    with " name: " (an op TensorFlow ran after converting a Python value does not)."""
    return rf"(?s)not in the list of allowed values: .*\[Op:{op}\]{name}$"


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


# ---- every neutral op's own gradient -----------------------------------------------------------
# One scenario per op that nothing else differentiates, at points away from kinks, so that a wrong
# rule in the op table (a sign, a factor, a missing term) is noticed by the matrix itself.

_X3 = [0.5, 1.0, 2.0]


@scenario(
    "ops.square_gradient",
    spec="J (implied)",
    statement="square's gradient is 2x",
    expect=returns(value([1.0, 2.0, 4.0])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(fw.square(x)), at=(_X3,)),
)
def _(fw):
    x = fw.constant([0.5, 1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.square(x))
    return tape.gradient(y, x)


@scenario(
    "ops.sin_cos_gradients",
    spec="J (implied)",
    statement="sin's gradient is cos x and cos's is -sin x",
    expect=returns([value([0.87758255, 0.5403023, -0.41614684]),
                    value([-0.47942555, -0.84147096, -0.9092974])]),
    oracle=Oracle(
        lambda fw, x: (fw.reduce_sum(fw.sin(x)), fw.reduce_sum(fw.cos(x))),
        at=(_X3,),
        pick=lambda d: [d.first[0][0], d.first[1][0]],
    ),
)
def _(fw):
    x = fw.constant([0.5, 1.0, 2.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        s = fw.reduce_sum(fw.sin(x))
        c = fw.reduce_sum(fw.cos(x))
    return [tape.gradient(s, x), tape.gradient(c, x)]


@scenario(
    "ops.tanh_sigmoid_gradients",
    spec="J (implied)",
    statement="tanh's gradient is 1 - tanh² and sigmoid's is s(1 - s)",
    expect=returns([value([0.7864477, 0.41997433, 0.07065082]),
                    value([0.23500371, 0.19661193, 0.10499359])]),
    oracle=Oracle(
        lambda fw, x: (fw.reduce_sum(fw.tanh(x)), fw.reduce_sum(fw.sigmoid(x))),
        at=(_X3,),
        pick=lambda d: [d.first[0][0], d.first[1][0]],
    ),
)
def _(fw):
    x = fw.constant([0.5, 1.0, 2.0])
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        t = fw.reduce_sum(fw.tanh(x))
        s = fw.reduce_sum(fw.sigmoid(x))
    return [tape.gradient(t, x), tape.gradient(s, x)]


@scenario(
    "ops.reduce_mean_gradient",
    spec="J (implied)",
    statement="reduce_mean over an axis spreads 1/n of the gradient to each element",
    expect=returns(value([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(fw.reduce_mean(x, axis=1)), at=(_V,)),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.reduce_mean(x, axis=1))
    return tape.gradient(y, x)


@scenario(
    "ops.reduce_mean_all_gradient",
    spec="J (implied)",
    statement="reduce_mean over all elements gives 1/n each, weighted by the upstream product",
    expect=returns(value([[4.0, 8.0], [12.0, 16.0]])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_mean(x * x) * 8.0, at=([[1.0, 2.0], [3.0, 4.0]],)
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_mean(x * x) * 8.0
    return tape.gradient(y, x)


@scenario(
    "ops.transpose_gradient",
    spec="J (implied)",
    statement="transpose's gradient is the upstream transposed back: a weight per original cell",
    expect=returns(value([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.transpose(x) * fw.constant(_V, dtype=x.dtype)),
        at=([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    weights = fw.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.transpose(x) * weights)
    return tape.gradient(y, x)


@scenario(
    "ops.transposed_matmul_gradients",
    spec="J (implied)",
    statement="matmul(a, transpose(b)) with non-square shapes: each gradient has its input's shape",
    expect=returns([value([[9.0, 12.0], [9.0, 12.0]]), value([[4.0, 6.0], [4.0, 6.0], [4.0, 6.0]])]),
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(fw.matmul(a, fw.transpose(b))),
        at=([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    b = fw.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.reduce_sum(fw.matmul(a, fw.transpose(b)))
    return tape.gradient(y, [a, b])


@scenario(
    "ops.reduce_max_axis_gradient",
    spec="J (implied)",
    statement="reduce_max along an axis sends each row's gradient to that row's maximum",
    expect=returns(value([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.reduce_max(x, axis=1)),
        at=([[1.0, 2.0], [4.0, 3.0], [5.0, 6.0]],),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [4.0, 3.0], [5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.reduce_max(x, axis=1))
    return tape.gradient(y, x)


# ---- gradient-less ops beside and after differentiable ones ------------------------------------


@scenario(
    "ops.round_of_product_is_none",
    spec="OP03",
    statement="a differentiable op feeding round(): the path is cut, the gradient is None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(2.3)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.round(x * 2.0)
    return tape.gradient(y, x)


@scenario(
    "ops.cast_to_int_of_product_is_none",
    spec="W20",
    statement="a differentiable op feeding a cast to int32: the path is cut, the gradient is None",
    expect=returns(None),
)
def _(fw):
    x = fw.constant(2.3)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.cast(x * 2.0, fw.int32)
    return tape.gradient(y, x)


@scenario(
    "ops.gradientless_beside_differentiable",
    spec="OP03",
    statement="round(x) + x * x: the round term adds nothing, the product gives 2x = 4.6",
    expect=returns(4.6),
    oracle=Oracle(lambda fw, x: fw.round(x) + x * x, at=(2.3,)),
)
def _(fw):
    x = fw.constant(2.3)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.round(x) + x * x
    return tape.gradient(y, x)


# ---- broadcasting ------------------------------------------------------------------------------


@scenario(
    "ops.broadcast_size_one_dimension",
    spec="J (implied)",
    statement="a (2, 1) input against a (2, 3) one gets a (2, 1) gradient: the row sums",
    expect=returns([value([[6.0], [15.0]]), value([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])]),
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(a * b),
        at=([[1.0], [2.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant([[1.0], [2.0]])
    b = fw.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.reduce_sum(a * b)
    return tape.gradient(y, [a, b])


@scenario(
    "ops.broadcast_subtract_gradients",
    spec="J (implied)",
    statement="x - y with a scalar y: x gets the weights, y minus their sum",
    expect=returns([value([1.0, 2.0, 3.0]), -6.0]),
    oracle=Oracle(
        lambda fw, x, y: fw.reduce_sum((x - y) * fw.constant([1.0, 2.0, 3.0], dtype=x.dtype)),
        at=([1.0, 2.0, 3.0], 0.5),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    y = fw.constant(0.5)
    weights = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        z = fw.reduce_sum((x - y) * weights)
    return tape.gradient(z, [x, y])


@scenario(
    "ops.broadcast_pow_gradients",
    spec="J (implied)",
    statement="x ** p with a scalar exponent: p x^(p-1) for x, sum(x^p ln x) for the exponent",
    expect=returns([value([2.0, 4.0]), 2.7725887]),
    oracle=Oracle(
        lambda fw, x, p: fw.reduce_sum(fw.pow(x, p)),
        at=([1.0, 2.0], 2.0),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    p = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch([x, p])
        y = fw.reduce_sum(fw.pow(x, p))
    return tape.gradient(y, [x, p])


@scenario(
    "ops.broadcast_maximum_minimum_gradients",
    spec="J (implied)",
    statement="maximum and minimum against a broadcast row: each element's gradient goes to the "
    "winner, summed over the broadcast dimension",
    expect=returns([value([[2.0, 2.0], [1.0, 2.0]]), value([3.0, 2.0])]),
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(fw.maximum(a, b)) + 2.0 * fw.reduce_sum(fw.minimum(a, b)),
        at=([[1.0, 5.0], [4.0, 2.0]], [3.0, 6.0]),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant([[1.0, 5.0], [4.0, 2.0]])
    b = fw.constant([3.0, 6.0])
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.reduce_sum(fw.maximum(a, b)) + 2.0 * fw.reduce_sum(fw.minimum(a, b))
    return tape.gradient(y, [a, b])


@scenario(
    "ops.broadcast_where_gradients",
    spec="OP07 (implied)",
    statement="where(cond, x, y) with a scalar y: y gets one per unselected element",
    expect=returns([value([1.0, 0.0, 1.0]), 1.0]),
    oracle=Oracle(
        lambda fw, x, y: fw.reduce_sum(fw.where(x > 1.5, x, y)),
        at=([2.0, 1.0, 3.0], 0.5),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    x = fw.constant([2.0, 1.0, 3.0])
    y = fw.constant(0.5)
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        z = fw.reduce_sum(fw.where(x > 1.5, x, y))
    return tape.gradient(z, [x, y])


@scenario(
    "ops.where_scalar_condition",
    spec="OP07 (implied)",
    statement="where with a scalar condition selects a whole branch: its gradient, zeros for the other",
    expect=returns([value([0.0, 0.0]), value([2.0, 2.0])]),
    oracle_exempt="the condition is a constant; the oracle cannot vary it, and the values are 2 and 0",
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    y = fw.constant([3.0, 4.0])
    with fw.GradientTape() as tape:
        tape.watch([x, y])
        z = fw.reduce_sum(fw.where(fw.constant(False), x * 3.0, y * 2.0))
    return tape.gradient(z, [x, y])


@scenario(
    "ops.broadcast_complex_gradients",
    spec="D02",
    statement="real(sum(z * c)) with a complex vector z and a complex scalar c: the scalar's "
    "gradient is the conjugate of sum(z), each z element's is conj(c)",
    expect=returns([value([1 - 1j, 1 - 1j], dtype="complex64"), value(3 - 1j, dtype="complex64")]),
    features=["complex"],
    oracle_exempt="the oracle differentiates real arguments only; the numbers are conj(c) and "
    "conj(sum z), TF's convention for a real-valued target",
)
def _(fw):
    z = fw.constant([1.0 + 0.0j, 2.0 + 1.0j], dtype=fw.complex64)
    c = fw.constant(1.0 + 1.0j, dtype=fw.complex64)
    with fw.GradientTape() as tape:
        tape.watch([z, c])
        y = fw.real(fw.reduce_sum(z * c))
    return tape.gradient(y, [z, c])


# ---- gathers along other axes and of computed tensors ------------------------------------------


@scenario(
    "ops.gather_axis_one",
    spec="OP08",
    statement="gather along axis 1: each picked column's gradient, densified, repeats counted",
    expect=returns(value([[2.0, 0.0, 1.0], [2.0, 0.0, 1.0]])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.gather(x, [0, 2, 0], axis=1)),
        at=([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.gather(x, [0, 2, 0], axis=1))
    return fw.multiply(tape.gradient(y, x), 1.0)


@scenario(
    "ops.gather_of_computed_tensor",
    spec="OP08",
    statement="gather over the output of another op: the gradient flows on through that op",
    expect=returns(value([0.0, 4.0, 12.0])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(fw.gather(x * x, [1, 2, 2])), at=([1.0, 2.0, 3.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.gather(x * x, [1, 2, 2]))
    return tape.gradient(y, x)


# ---- more of each rule: upstream weights, axes, overflow ---------------------------------------


@scenario(
    "ops.softmax_gradient_2d",
    spec="J (implied)",
    statement="softmax over the last axis of a matrix: each row's gradient of a weighted sum is "
    "s * (w - sum(s * w))",
    expect=returns(value([[-0.19661193, 0.19661193], [0.09035332, -0.09035332]])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(
            fw.softmax(x) * fw.constant([[1.0, 2.0], [3.0, 1.0]], dtype=x.dtype)
        ),
        at=([[1.0, 2.0], [0.0, 3.0]],),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [0.0, 3.0]])
    weights = fw.constant([[1.0, 2.0], [3.0, 1.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.softmax(x) * weights)
    return tape.gradient(y, x)


@scenario(
    "ops.softmax_large_logits_stay_finite",
    spec="OP06",
    statement="softmax of logits near 1000 is finite (the maximum is subtracted first), and so "
    "is its gradient",
    expect=returns([value([0.26894143, 0.73105854]), value([-0.19661193, 0.19661193])]),
    oracle_exempt="exp(1000) overflows in float64 too; the values equal those at [0, 1]",
)
def _(fw):
    x = fw.constant([1000.0, 1001.0])
    weights = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        s = fw.softmax(x)
        y = fw.reduce_sum(s * weights)
    return [s, tape.gradient(y, x)]


@scenario(
    "ops.norm_gradient",
    spec="J (implied)",
    statement="the Euclidean norm's gradient is x / |x|: [0.6, 0.8] at [3, 4]",
    expect=returns(value([0.6, 0.8])),
    oracle=Oracle(lambda fw, x: fw.norm(x), at=([3.0, 4.0],)),
)
def _(fw):
    x = fw.constant([3.0, 4.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.norm(x)
    return tape.gradient(y, x)


@scenario(
    "ops.concat_axis_one_gradient",
    spec="J (implied)",
    statement="concat along axis 1 of a (2, 1) and a (2, 2) matrix splits the gradient back by "
    "columns",
    expect=returns([value([[1.0], [4.0]]), value([[2.0, 3.0], [5.0, 6.0]])]),
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(
            fw.concat([a, b], 1) * fw.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=a.dtype)
        ),
        at=([[1.0], [2.0]], [[3.0, 4.0], [5.0, 6.0]]),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant([[1.0], [2.0]])
    b = fw.constant([[3.0, 4.0], [5.0, 6.0]])
    weights = fw.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.reduce_sum(fw.concat([a, b], 1) * weights)
    return tape.gradient(y, [a, b])


@scenario(
    "ops.stack_axis_one_gradient",
    spec="J (implied)",
    statement="stack along axis 1 routes each column's weight back to its input",
    expect=returns([value([1.0, 3.0]), value([2.0, 4.0])]),
    oracle=Oracle(
        lambda fw, a, b: fw.reduce_sum(
            fw.stack([a, b], 1) * fw.constant([[1.0, 2.0], [3.0, 4.0]], dtype=a.dtype)
        ),
        at=([1.0, 2.0], [3.0, 4.0]),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    a = fw.constant([1.0, 2.0])
    b = fw.constant([3.0, 4.0])
    weights = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    with fw.GradientTape() as tape:
        tape.watch([a, b])
        y = fw.reduce_sum(fw.stack([a, b], 1) * weights)
    return tape.gradient(y, [a, b])


@scenario(
    "ops.reshape_to_scalar_gradient",
    spec="J (implied)",
    statement="reshape of a one-element vector to a scalar (shape []) and back: the gradient has "
    "the source's shape [1]",
    expect=returns(value([6.0])),
    oracle=Oracle(lambda fw, x: fw.reshape(x, []) * fw.reshape(x, []), at=([3.0],)),
)
def _(fw):
    x = fw.constant([3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        s = fw.reshape(x, [])
        y = s * s
    return tape.gradient(y, x)


@scenario(
    "ops.reduce_max_tie_with_upstream_weight",
    spec="OP05",
    statement="tied maxima share a weighted upstream evenly: 3 * 0.5 each",
    expect=returns(value([0.0, 1.5, 1.5])),
    oracle_exempt=_KINK,
)
def _(fw):
    m = fw.constant([1.0, 3.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(m)
        y = fw.reduce_max(m) * 3.0
    return tape.gradient(y, m)


@scenario(
    "ops.reduce_max_keepdims_gradient",
    spec="J (implied)",
    statement="reduce_max(axis=1, keepdims=True) times per-row weights: each row's weight goes "
    "to its maximum",
    expect=returns(value([[0.0, 2.0], [3.0, 0.0]])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(
            fw.reduce_max(x, axis=1, keepdims=True) * fw.constant([[2.0], [3.0]], dtype=x.dtype)
        ),
        at=([[1.0, 2.0], [4.0, 3.0]],),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [4.0, 3.0]])
    weights = fw.constant([[2.0], [3.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.reduce_max(x, axis=1, keepdims=True) * weights)
    return tape.gradient(y, x)


@scenario(
    "ops.broadcast_rank_and_size_one",
    spec="J (implied)",
    statement="a (2, 1) input against a (3, 2, 4) one: its gradient sums the new leading axis "
    "and its own size-1 axis, keeping shape (2, 1)",
    expect=returns(value([[12.0], [12.0]])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(x * fw.ones([3, 2, 4], dtype=x.dtype)), at=([[1.0], [2.0]],)
    ),
)
def _(fw):
    x = fw.constant([[1.0], [2.0]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(x * fw.ones([3, 2, 4]))
    return tape.gradient(y, x)


@scenario(
    "ops.divide_python_numerator",
    spec="J (implied)",
    statement="divide with a Python numerator or denominator: d(6 / x) = -6 / x^2 = -1.5 and "
    "d(x / 4) = 0.25 at 2",
    expect=returns([-1.5, 0.25]),
    oracle=Oracle(
        lambda fw, x: (fw.divide(6.0, x), fw.divide(x, 4.0)),
        at=(2.0,),
        pick=lambda d: [d.first[0][0], d.first[1][0]],
    ),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        numerator = fw.divide(6.0, x)
        denominator = fw.divide(x, 4.0)
    return [tape.gradient(numerator, x), tape.gradient(denominator, x)]


@scenario(
    "ops.reductions_drop_the_axis",
    spec="J (implied)",
    statement="reduce_max, reduce_mean and reduce_sum over axis 1 drop that axis by default "
    "(keepdims=False): shape [3], not [3, 1]",
    expect=returns([value([2.0, 4.0, 6.0]), value([1.5, 3.5, 5.5]), value([3.0, 7.0, 11.0])]),
    oracle_exempt="forward values of reductions, not derivatives",
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [4.0, 3.0], [5.0, 6.0]])
    return [fw.reduce_max(x, axis=1), fw.reduce_mean(x, axis=1), fw.reduce_sum(x, axis=1)]


# ---- Python protocols on tensors ---------------------------------------------------------------


@scenario(
    "ops.len_and_iteration",
    spec="J (implied)",
    statement="len() of a vector is its first dimension and iterating gives its elements",
    expect=returns([3, [1.0, 2.0, 3.0]]),
    oracle_exempt="Python protocols, not derivatives",
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    return [len(x), list(x)]


@scenario(
    "ops.len_of_scalar_rejected",
    spec="J (implied)",
    statement="len() of a scalar tensor is a TypeError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    return len(fw.constant(1.0))


@scenario(
    "ops.iterating_a_scalar_rejected",
    spec="J (implied)",
    statement="iterating over a scalar tensor is a TypeError",
    expect=raises(ErrorKind.INVALID_ARGUMENT, "TypeError"),
)
def _(fw):
    return list(fw.constant(1.0))


@scenario(
    "ops.shape_compares_with_sequences",
    spec="J (implied)",
    statement="a tensor's shape equals a tuple or list of its dimensions and differs from others",
    expect=returns([True, True, True, False]),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    return [x.shape == (2,), x.shape != (3,), x.shape == [2], x.shape != (2,)]


@scenario(
    "ops.autopacked_list_operand_is_differentiable",
    spec="J (implied)",
    statement="a Python list holding a watched tensor, used as an operand, is packed into one "
    "tensor on the tape: the gradient reaches the tensor inside (flat and nested lists)",
    expect=returns([3.0, 2.0]),
    oracle=Oracle(
        lambda fw, y: (
            fw.reduce_sum(fw.multiply(fw.constant([3.0, 4.0], dtype=y.dtype), [y, 2.0])),
            fw.reduce_sum(fw.add(fw.ones([2, 2], dtype=y.dtype), [[y, 1.0], [2.0, y]])),
        ),
        at=(2.0,),
        pick=lambda d: [d.first[0][0], d.first[1][0]],
    ),
)
def _(fw):
    y = fw.constant(2.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(y)
        flat = fw.reduce_sum(fw.multiply(fw.constant([3.0, 4.0]), [y, 2.0]))
        nested = fw.reduce_sum(fw.add(fw.ones([2, 2]), [[y, 1.0], [2.0, y]]))
    return [tape.gradient(flat, y), tape.gradient(nested, y)]


@scenario(
    "ops.tensors_print_as_tensorflow",
    spec="OP15",
    statement="repr and str of tensors and variables: shape, dtype and NumPy's text, a matrix's "
    "on its own lines",
    expect=returns([
        "<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.], dtype=float32)>",
        "<tf.Tensor: shape=(2, 2), dtype=float32, numpy=\narray([[1., 2.],\n       [3., 4.]], "
        "dtype=float32)>",
        "tf.Tensor(\n[[1. 2.]\n [3. 4.]], shape=(2, 2), dtype=float32)",
        "tf.Tensor(1.5, shape=(), dtype=float32)",
        "<tf.Variable 'Variable:0' shape=(2, 2) dtype=float32, numpy=\narray([[1., 2.],\n"
        "       [3., 4.]], dtype=float32)>",
    ]),
    features=["variables"],
)
def _(fw):
    matrix = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    return [
        repr(fw.constant([1.0, 2.0])),
        repr(matrix),
        str(matrix),
        str(fw.constant(1.5)),
        repr(fw.Variable([[1.0, 2.0], [3.0, 4.0]])),
    ]


# ---- which dtypes each op accepts --------------------------------------------------------------


@scenario(
    "ops.integer_ops_keep_ints",
    spec="OP16",
    statement="round, sign, abs, relu and square accept int32 and return int32",
    expect=returns([
        value([1, -2], dtype="int32"), value([1, -1], dtype="int32"), value([1, 2], dtype="int32"),
        value([1, 0], dtype="int32"), value([1, 4], dtype="int32"),
    ]),
    oracle_exempt="integer forward values, not derivatives",
)
def _(fw):
    i = fw.constant([1, -2])
    return [fw.round(i), fw.sign(i), fw.abs(i), fw.relu(i), fw.square(i)]


@scenario(
    "ops.sqrt_rejects_int",
    spec="OP16",
    statement="sqrt (like exp, log, sin, tanh) has no int32 kernel: an InvalidArgumentError",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Sqrt")),  # no rule yet
)
def _(fw):
    return fw.sqrt(fw.constant([1, 4]))


@scenario(
    "ops.floor_rejects_int",
    spec="OP16",
    statement="floor has float kernels only: int32 is an InvalidArgumentError",
    expect=raises(ErrorKind.UNKNOWN, match="not in the list of allowed values"),  # no rule yet
)
def _(fw):
    return fw.floor(fw.constant([1, 2]))


@scenario(
    "ops.softmax_rejects_int",
    spec="OP16",
    statement="softmax has float kernels only: int32 is an InvalidArgumentError of Softmax itself",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Softmax")),  # no rule yet
)
def _(fw):
    return fw.softmax(fw.constant([1, 2]))


@scenario(
    "ops.abs_rejects_bool",
    spec="OP16",
    statement="abs has no bool kernel: an InvalidArgumentError",
    expect=raises(ErrorKind.UNKNOWN, match="not in the list of allowed values"),  # no rule yet
)
def _(fw):
    return fw.abs(fw.constant([True, False]))


@scenario(
    "ops.comparisons_are_elementwise_bool",
    spec="J (implied)",
    statement="<, <=, >, >=, == and != on tensors are elementwise and give bool tensors",
    expect=returns([
        value([True, False], dtype="bool"), value([True, False], dtype="bool"),
        value([False, True], dtype="bool"), value([False, True], dtype="bool"),
        value([True, False], dtype="bool"), value([False, True], dtype="bool"),
    ]),
    oracle_exempt="comparisons, not derivatives",
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    y = fw.constant([1.5, 1.5])
    same = fw.constant([1.0, 3.0])
    return [x < y, x <= y, x > y, x >= y, x == same, x != same]


@scenario(
    "ops.pow_exponent_gradient_skips_nonpositive_bases",
    spec="OP06",
    statement="the exponent's gradient of x ** p counts only positive bases (log x is taken as 0 "
    "where x <= 0): 4 ln 2 from x = 2 alone",
    expect=returns(2.7725887),
    oracle_exempt="at x = 0 and x < 0 the exponent's derivative is undefined or complex; TF's "
    "convention drops them",
)
def _(fw):
    x = fw.constant([0.0, -2.0, 2.0])
    p = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(p)
        y = fw.reduce_sum(fw.pow(x, p))
    return tape.gradient(y, p)


@scenario(
    "ops.tile_2d_gradient",
    spec="J (implied)",
    statement="tile of a (1, 2) matrix by [2, 3]: each element's gradient sums its six copies' "
    "weights",
    expect=returns(value([[30.0, 36.0]])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(
            fw.tile(x, [2, 3])
            * fw.constant([[0.0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]], dtype=x.dtype)
        ),
        at=([[1.0, 2.0]],),
    ),
)
def _(fw):
    x = fw.constant([[1.0, 2.0]])
    weights = fw.constant([[0.0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.tile(x, [2, 3]) * weights)
    return tape.gradient(y, x)


@scenario(
    "ops.gradientless_branch_before_differentiable",
    spec="OP03",
    statement="x * x + round(x * 2): the backward pass meets the cut branch first and must go on "
    "to the product: 2x = 4.6",
    expect=returns(4.6),
    oracle=Oracle(lambda fw, x: x * x + fw.round(x * 2.0), at=(2.3,)),
)
def _(fw):
    x = fw.constant(2.3)
    with fw.GradientTape() as tape:
        tape.watch(x)
        square = x * x
        y = square + fw.round(x * 2.0)
    return tape.gradient(y, x)


# ---- more dtypes each op rejects (OP16) --------------------------------------------------------


@scenario(
    "ops.subtract_rejects_bool",
    spec="OP16",
    statement="subtract has no bool kernel: an InvalidArgumentError naming Sub",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Sub")),  # no rule yet, as OP16
)
def _(fw):
    b = fw.constant([True, False])
    return fw.subtract(b, b)


@scenario(
    "ops.pow_rejects_bool",
    spec="OP16",
    statement="pow has no bool kernel: an InvalidArgumentError naming Pow",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Pow")),
)
def _(fw):
    b = fw.constant([True, False])
    return fw.pow(b, b)


@scenario(
    "ops.maximum_rejects_bool",
    spec="OP16",
    statement="maximum has no bool kernel: an InvalidArgumentError naming Maximum",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Maximum")),
)
def _(fw):
    b = fw.constant([True, False])
    return fw.maximum(b, b)


@scenario(
    "ops.minimum_rejects_complex",
    spec="OP16",
    statement="minimum has no complex kernel (complex numbers are unordered)",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Minimum")),
    features=["complex"],
)
def _(fw):
    z = fw.constant([1.0 + 1.0j], dtype=fw.complex64)
    return fw.minimum(z, z)


@scenario(
    "ops.relu_rejects_complex",
    spec="OP16",
    statement="relu has no complex kernel: an InvalidArgumentError naming Relu",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Relu")),
    features=["complex"],
)
def _(fw):
    return fw.relu(fw.constant([1.0 + 1.0j], dtype=fw.complex64))


@scenario(
    "ops.round_rejects_bool",
    spec="OP16",
    statement="round has no bool kernel: an InvalidArgumentError naming Round",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Round")),
)
def _(fw):
    return fw.round(fw.constant([True, False]))


@scenario(
    "ops.sign_rejects_bool",
    spec="OP16",
    statement="sign has no bool kernel: an InvalidArgumentError naming Sign",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Sign")),
)
def _(fw):
    return fw.sign(fw.constant([True, False]))


@scenario(
    "ops.matmul_rejects_bool",
    spec="OP16",
    statement="matmul has no bool kernel: an InvalidArgumentError naming MatMul",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("MatMul")),
)
def _(fw):
    b = fw.constant([[True]])
    return fw.matmul(b, b)


@scenario(
    "ops.reduce_sum_rejects_bool",
    spec="OP16",
    statement="reduce_sum has no bool kernel (count True values by casting first)",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Sum")),
)
def _(fw):
    return fw.reduce_sum(fw.constant([True, False]))


@scenario(
    "ops.reduce_max_rejects_complex",
    spec="OP16",
    statement="reduce_max has no complex kernel: an InvalidArgumentError naming Max",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Max")),
    features=["complex"],
)
def _(fw):
    return fw.reduce_max(fw.constant([1.0 + 1.0j], dtype=fw.complex64))


@scenario(
    "ops.ordering_rejects_complex",
    spec="OP16",
    statement="< and > have no complex kernels: an InvalidArgumentError naming Greater",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Greater")),
    features=["complex"],
)
def _(fw):
    z = fw.constant([1.0 + 1.0j], dtype=fw.complex64)
    return z > z


# ---- operands of one op must agree in dtype (OP17) ---------------------------------------------


@scenario(
    "ops.mixed_dtype_operands_rejected",
    spec="OP17",
    statement="float32 - int32 is not promoted: an InvalidArgumentError naming the operand",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"cannot compute Sub as input #1\(zero-based\) was expected to be a float tensor "
        r"but is a int32 tensor \[Op:Sub\]",
    ),
)
def _(fw):
    return fw.subtract(fw.constant(1.0), fw.constant(1))


@scenario(
    "ops.add_converts_first_operand_alone",
    spec="OP17",
    statement="add(1, x) converts the Python 1 on its own (int32), so float x is rejected; "
    "add(x, 1) converts 1 to x's dtype",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"input #1\(zero-based\) was expected to be a int32 tensor but is a float tensor "
        r"\[Op:AddV2\]",
    ),
)
def _(fw):
    x = fw.constant(2.0)
    fw.add(x, 1)  # fine: 1 becomes float32
    return fw.add(1, x)


@scenario(
    "ops.true_division_of_mixed_floats_rejected",
    spec="OP17",
    statement="float32 / float64 is a TypeError of / itself (no promotion)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, type="TypeError", match="must have the same dtype"),
    features=["float64"],
)
def _(fw):
    return fw.constant(1.0) / fw.constant(1.0, dtype=fw.float64)


@scenario(
    "ops.where_branches_must_agree",
    spec="OP17",
    statement="where(c, float, int) names the third input (#2) as the one of the wrong dtype",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"cannot compute SelectV2 as input #2\(zero-based\) was expected to be a float",
    ),
)
def _(fw):
    return fw.where(fw.constant([True]), fw.constant([1.0]), fw.constant([1]))


@scenario(
    "ops.stack_of_mixed_dtypes_rejected",
    spec="OP17",
    statement="stack of a float32 and an int32 tensor is an InvalidArgumentError of Pack",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"input #1\(zero-based\) was expected to be a float tensor but is a int32 tensor "
        r"\[Op:Pack\] name: stack",
    ),
)
def _(fw):
    return fw.stack([fw.constant([1.0, 2.0]), fw.constant([1, 2])], axis=1)


@scenario(
    "ops.concat_of_mixed_dtypes_rejected",
    spec="OP17",
    statement="concat of a float32 and an int32 tensor is an InvalidArgumentError of ConcatV2",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"input #1\(zero-based\) was expected to be a float tensor but is a int32 tensor "
        r"\[Op:ConcatV2\] name: concat",
    ),
)
def _(fw):
    return fw.concat([fw.constant([1.0]), fw.constant([1])], 0)


@scenario(
    "ops.variable_operand_of_another_dtype_rejected",
    spec="OP17",
    statement="float32 tensor * float64 variable: the variable is read as it is, and Mul rejects "
    "it as input #1",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"cannot compute Mul as input #1\(zero-based\) was expected to be a float tensor "
        r"but is a double tensor",
    ),
    features=["variables", "float64"],
)
def _(fw):
    v = fw.Variable(1.0, dtype=fw.float64)
    return fw.multiply(fw.constant(1.0), v)


# ---- shape errors of ops (OP18) ----------------------------------------------------------------


@scenario(
    "ops.elementwise_shapes_must_broadcast",
    spec="OP18",
    statement="[2] + [3] is an InvalidArgumentError: Incompatible shapes: [2] vs. [3]",
    expect=raises(
        ErrorKind.SHAPE_MISMATCH, match=r"Incompatible shapes: \[2\] vs. \[3\] \[Op:AddV2\] name: $"
    ),
)
def _(fw):
    return fw.constant([1.0, 2.0]) + fw.constant([1.0, 2.0, 3.0])


@scenario(
    "ops.ordering_shapes_must_broadcast",
    spec="OP18",
    statement="[2] > a list of 3 is an InvalidArgumentError like arithmetic's (without the node "
    "name TensorFlow prints for tensor operands)",
    expect=raises(
        ErrorKind.SHAPE_MISMATCH, match=r"Incompatible shapes: \[2\] vs. \[3\] \[Op:Greater\]$"
    ),
)
def _(fw):
    return fw.constant([1.0, 2.0]) > [1.0, 2.0, 3.0]


@scenario(
    "ops.equality_of_unequal_shapes_is_false",
    spec="OP18",
    statement="== and != of tensors whose shapes cannot broadcast are a scalar False / True",
    expect=returns([value(False, dtype="bool"), value(True, dtype="bool")]),
    oracle_exempt="comparisons, not derivatives",
)
def _(fw):
    a, b = fw.constant([1.0, 2.0]), fw.constant([1.0, 2.0, 3.0])
    return [a == b, a != b]


@scenario(
    "ops.matmul_inner_dimensions_must_agree",
    spec="OP18",
    statement="matmul of [2,3] by [2,3] is an InvalidArgumentError naming both shapes",
    expect=raises(
        ErrorKind.UNKNOWN, match=r"Matrix size-incompatible: In\[0\]: \[2,3\], In\[1\]: \[2,3\] \[Op:MatMul\]"
    ),
)
def _(fw):
    return fw.matmul(fw.zeros([2, 3]), fw.zeros([2, 3]))


@scenario(
    "ops.concat_other_dimensions_must_agree",
    spec="OP18",
    statement="concat along axis 1 of [2,1] and [3,2] is an InvalidArgumentError naming dimension 0",
    expect=raises(
        ErrorKind.UNKNOWN,
        match=r"ConcatOp : Dimension 0 in both shapes must be equal: shape\[0\] = \[2,1\] vs. "
        r"shape\[1\] = \[3,2\] \[Op:ConcatV2\] name: concat",
    ),
)
def _(fw):
    return fw.concat([fw.zeros([2, 1]), fw.zeros([3, 2])], 1)


@scenario(
    "ops.reshape_infers_one_unknown",
    spec="OP18",
    statement="reshape infers one -1 dimension, and takes its shape as a list or a tensor",
    expect=returns([value([[1.0, 2.0], [3.0, 4.0]]), value([[1.0, 2.0], [3.0, 4.0]])]),
    oracle_exempt="shapes and values, not derivatives",
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0, 4.0])
    return [fw.reshape(x, [-1, 2]), fw.reshape(x, fw.constant([2, 2]))]


@scenario(
    "ops.reshape_two_unknowns_rejected",
    spec="OP18",
    statement="reshape with two -1 dimensions is an InvalidArgumentError naming both",
    expect=raises(ErrorKind.UNKNOWN, match=r"Only one input size may be -1, not both 0 and 1"),
)
def _(fw):
    return fw.reshape(fw.constant([1.0, 2.0, 3.0, 4.0]), [-1, -1])


@scenario(
    "ops.gather_index_out_of_range",
    spec="OP18",
    statement="gather with an index equal to the dimension is an InvalidArgumentError naming it",
    expect=raises(ErrorKind.UNKNOWN, match=r"indices\[1\] = 3 is not in \[0, 3\) \[Op:GatherV2\]"),
)
def _(fw):
    return fw.gather(fw.constant([1.0, 2.0, 3.0]), [0, 3])


@scenario(
    "ops.reduce_scalar_has_no_axis_zero",
    spec="OP18",
    statement="a scalar has no axis 0: reduce_sum(scalar, axis=0) is an InvalidArgumentError",
    expect=raises(
        ErrorKind.UNKNOWN,
        match=r"Invalid reduction dimension \(0 for input with 0 dimension\(s\) \[Op:Sum\] name: $",
    ),
)
def _(fw):
    return fw.reduce_sum(fw.constant(3.0), axis=0)


# ---- what single ops mean (OP19) ---------------------------------------------------------------


@scenario(
    "ops.divide_converts_python_numerator",
    spec="OP19",
    statement="divide(1, x) converts the Python 1 to x's dtype first: d(1 / x) = -1 / x^2",
    expect=returns(-0.25),
    oracle=Oracle(lambda fw, x: fw.divide(1, x), at=(2.0,)),
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.divide(1, x)
    return tape.gradient(y, x)


@scenario(
    "ops.where_of_condition_alone_gives_indices",
    spec="OP19",
    statement="where(condition) alone gives the int64 coordinates of its True elements, one row "
    "each",
    expect=returns([value([[0], [2]], dtype="int64"), value([[0, 0], [1, 1]], dtype="int64")]),
    oracle_exempt="indices, not derivatives",
)
def _(fw):
    return [
        fw.where(fw.constant([True, False, True])),
        fw.where(fw.constant([[True, False], [False, True]])),
    ]


@scenario(
    "ops.where_needs_both_branches",
    spec="OP19",
    statement="where(condition, x) without y is a ValueError: both branches or neither",
    expect=raises(
        ErrorKind.INVALID_ARGUMENT, type="ValueError", match="x and y must both be non-None"
    ),
)
def _(fw):
    return fw.where(fw.constant([True]), fw.constant([1.0]))


@scenario(
    "ops.where_with_combined_condition",
    spec="OP07 (implied)",
    statement="a mask built with & of two comparisons selects the gradient of the elements in both",
    expect=returns(value([0.0, 4.0, 0.0])),
    oracle=Oracle(
        lambda fw, x: fw.reduce_sum(fw.where((x > 1.5) & (x < 2.5), x * x, x * 0.0)),
        at=([1.0, 2.0, 3.0],),
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.where((x > 1.5) & (x < 2.5), x * x, x * 0.0))
    return tape.gradient(y, x)


@scenario(
    "ops.transpose_does_not_conjugate",
    spec="OP19",
    statement="transpose of a complex matrix permutes it without conjugating (conjugate=False)",
    expect=returns(value([[1 + 1j, 3 + 0j], [2 + 0j, 4j]], dtype="complex64")),
    features=["complex"],
    oracle_exempt="a forward value, not a derivative",
)
def _(fw):
    return fw.transpose(fw.constant([[1 + 1j, 2 + 0j], [3 + 0j, 4j]], dtype=fw.complex64))


@scenario(
    "ops.real_and_conj_of_real_are_identity",
    spec="OP19",
    statement="real() and conj() of real values are the values themselves: gradients stay float32",
    expect=returns([value([1.0, 2.0]), 3.0, 2.0]),
    oracle_exempt="real and conj are the identity on real inputs; the gradients are the factors",
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        by_real = fw.real(x) * 3.0
        by_conj = fw.conj(x) * 2.0
    return [fw.conj([1.0, 2.0]), tape.gradient(by_real, x), tape.gradient(by_conj, x)]


@scenario(
    "ops.zeros_and_ones_of_an_integer_shape",
    spec="OP19",
    statement="zeros(3) and ones(2) take a bare integer as a one-dimensional shape",
    expect=returns([value([0.0, 0.0, 0.0]), value([1.0, 1.0])]),
    oracle_exempt="creation, not derivatives",
)
def _(fw):
    return [fw.zeros(3), fw.ones(2)]


@scenario(
    "ops.cast_complex_to_float_keeps_real_part",
    spec="OP19, D02",
    statement="cast of complex to float keeps the real part and warns once (no other cast warns, "
    "complex64 to complex128 keeps both parts); its gradient is the upstream as a complex number",
    expect=returns(
        [
            value([1.0], dtype="float32"), value([1 + 0j], dtype="complex64"),
            value([1 + 2j], dtype="complex128"),
        ],
        warns={"You are casting an input of type complex64 to an incompatible dtype float32": 1,
               "You are casting": 1, "imaginary part": 1},
    ),
    features=["complex"],
    oracle_exempt="the oracle differentiates real arguments only; the gradient is 1 + 0j",
)
def _(fw):
    z = fw.constant([1 + 2j], dtype=fw.complex64)
    fw.cast(fw.constant([1]), fw.float32)  # an int -> float cast: no warning
    with fw.GradientTape() as tape:
        tape.watch(z)
        y = fw.cast(z, fw.float32)
    return [y, tape.gradient(y, z), fw.cast(z, fw.complex128)]


@scenario(
    "ops.stop_gradient_of_variable_reads_unwatched",
    spec="OP01",
    statement="stop_gradient of a trainable variable reads it without watching it; of a Python "
    "number it is a constant",
    expect=returns([None, 0, 3.0]),
    features=["variables", "watched_variables"],
    oracle_exempt="no gradient (None), a count, and a constant's value",
)
def _(fw):
    v = fw.Variable(2.0)
    with fw.GradientTape() as tape:
        y = fw.stop_gradient(v) * 3.0
    return [tape.gradient(y, v), len(tape.watched_variables()), fw.stop_gradient(3.0)]


# ---- backward rules differentiated again (N01) -------------------------------------------------
# A backward rule is itself recorded; differentiating the upstream gradient it was given (the
# outer tape watches it) calls the backward rule of that rule, which unit seeds never reach.


def _second_order_of_square(fw, x, forward):
    """[first, second] derivative of sum(forward(x) ** 2) by two nested tapes.

    Squaring after ``forward`` makes the upstream gradient of forward's backward rule depend on
    ``x``, so the outer tape differentiates that rule through its upstream argument.
    """
    with fw.GradientTape() as outer:
        outer.watch(x)
        with fw.GradientTape() as inner:
            inner.watch(x)
            out = forward(x)
            y = fw.reduce_sum(out * out)
        first = inner.gradient(y, x)
        total = fw.reduce_sum(first)
    return [first, outer.gradient(total, x)]


def _squared_oracle(forward, at):
    return Oracle(
        lambda fw, x: fw.reduce_sum(forward(fw, x) * forward(fw, x)),
        at=(at,),
        pick=lambda d: [d.first[0][0], d.second[0][0]],
    )


@scenario(
    "ops.second_order_of_squared_stack",
    spec="N01",
    statement="sum(stack([x, 2x]) ** 2) = 5 sum(x^2): 10x, then 10 through stack's backward rule",
    expect=returns([value([10.0, 20.0]), value([10.0, 10.0])]),
    oracle=_squared_oracle(lambda fw, x: fw.stack([x, 2.0 * x], 1), [1.0, 2.0]),
)
def _(fw):
    return _second_order_of_square(fw, fw.constant([1.0, 2.0]), lambda x: fw.stack([x, 2.0 * x], 1))


@scenario(
    "ops.second_order_of_squared_concat",
    spec="N01",
    statement="sum(concat([x, 2x]) ** 2) = 5 sum(x^2): 10x, then 10 through concat's backward rule",
    expect=returns([value([10.0, 20.0]), value([10.0, 10.0])]),
    oracle=_squared_oracle(lambda fw, x: fw.concat([x, 2.0 * x], 0), [1.0, 2.0]),
)
def _(fw):
    return _second_order_of_square(
        fw, fw.constant([1.0, 2.0]), lambda x: fw.concat([x, 2.0 * x], 0)
    )


@scenario(
    "ops.second_order_of_squared_gather_axis_one",
    spec="N01, OP08",
    statement="sum(gather(x, [0, 0], axis=1) ** 2) = 2 sum(x[:, 0]^2): 4x in column 0, then 4",
    expect=returns([value([[4.0, 0.0], [12.0, 0.0]]), value([[4.0, 0.0], [4.0, 0.0]])]),
    oracle=_squared_oracle(lambda fw, x: fw.gather(x, [0, 0], axis=1), [[1.0, 2.0], [3.0, 4.0]]),
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    return _second_order_of_square(fw, x, lambda x: fw.gather(x, [0, 0], axis=1))


@scenario(
    "ops.second_order_of_squared_slice",
    spec="N01",
    statement="sum(x[1:] ** 2): 2x where sliced, 0 elsewhere; then 2 through the slice's "
    "backward rule",
    expect=returns([value([0.0, 4.0, 6.0]), value([0.0, 2.0, 2.0])]),
    oracle=_squared_oracle(lambda fw, x: x[1:], [1.0, 2.0, 3.0]),
)
def _(fw):
    return _second_order_of_square(fw, fw.constant([1.0, 2.0, 3.0]), lambda x: x[1:])


@scenario(
    "ops.second_order_of_squared_relu",
    spec="N01, OP05",
    statement="sum(relu(x) ** 2): 2x where x > 0, then 2 there through relu's backward rule",
    expect=returns([value([0.0, 4.0]), value([0.0, 2.0])]),
    oracle=_squared_oracle(lambda fw, x: fw.relu(x), [-1.0, 2.0]),
)
def _(fw):
    return _second_order_of_square(fw, fw.constant([-1.0, 2.0]), fw.relu)


@scenario(
    "ops.second_order_of_squared_real",
    spec="N01, D02",
    statement="sum(real(z) ** 2) of complex128 z: 2 re(z) as a complex gradient, then 2 through "
    "real's backward rule",
    expect=returns([
        value([2 + 0j, 4 + 0j], dtype="complex128"), value([2 + 0j, 2 + 0j], dtype="complex128")
    ]),
    features=["complex"],
    oracle_exempt="the oracle differentiates real arguments only; the values are 2 re(z) and 2",
)
def _(fw):
    z = fw.constant([1 + 1j, 2 - 1j], dtype=fw.complex128)
    return _second_order_of_square(fw, z, fw.real)


# ---- how operands are converted (OP17) ---------------------------------------------------------


@scenario(
    "ops.rejected_list_operand_has_no_node_name",
    spec="OP16",
    statement="sqrt of a Python list of ints converts it to int32 first, then rejects it (the "
    "error names no node, as for every op TensorFlow runs after converting a value)",
    expect=raises(ErrorKind.UNKNOWN, match=_rejects("Sqrt", name="")),
)
def _(fw):
    return fw.sqrt([4])


@scenario(
    "ops.autopacked_list_of_mixed_dtypes_rejected",
    spec="OP17",
    statement="a list of a float32 and an int32 tensor as an operand is packed first, and the "
    "pack rejects the int32 one",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"cannot compute Pack as input #1\(zero-based\) was expected to be a float tensor "
        r"but is a int32 tensor \[Op:Pack\] name: packed",
    ),
)
def _(fw):
    return fw.reduce_sum([fw.constant(1.0), fw.constant(1)])


@scenario(
    "ops.python_number_takes_the_variables_dtype",
    spec="OP17",
    statement="multiply(2.0, v) with a float64 variable is float64: the variable decides, and its "
    "gradient is float64 2.0",
    expect=returns([value(2.0, dtype="float64"), value(2.0, dtype="float64")]),
    features=["variables", "float64"],
    oracle_exempt="the gradient of 2 v is the constant factor 2; the check is the dtype",
)
def _(fw):
    v = fw.Variable(1.0, dtype=fw.float64)
    with fw.GradientTape() as tape:
        y = fw.multiply(2.0, v)
    return [y, tape.gradient(y, v)]


@scenario(
    "ops.add_reads_a_variable_operand_in_its_own_dtype",
    spec="OP17",
    statement="float32 tensor + float64 variable: AddV2 rejects the variable as input #1",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"cannot compute AddV2 as input #1\(zero-based\) was expected to be a float tensor "
        r"but is a double tensor",
    ),
    features=["variables", "float64"],
)
def _(fw):
    return fw.constant(1.0) + fw.Variable(1.0, dtype=fw.float64)


@scenario(
    "ops.python_float_operand_of_int_tensor_rejected",
    spec="OP17",
    statement="multiply(int32 tensor, 2.5) is a TypeError: 2.5 is converted to int32 strictly",
    expect=raises(
        ErrorKind.INVALID_ARGUMENT, type="TypeError", match="Cannot convert 2.5 to EagerTensor of dtype int32"
    ),
)
def _(fw):
    return fw.multiply(fw.constant([1, 2]), 2.5)


@scenario(
    "ops.comparison_converts_python_number_strictly",
    spec="OP17",
    statement="int32 tensor > 1.5 is a TypeError, as in arithmetic: 1.5 is not an int32",
    expect=raises(
        ErrorKind.INVALID_ARGUMENT, type="TypeError", match="Cannot convert 1.5 to EagerTensor of dtype int32"
    ),
)
def _(fw):
    return fw.constant([1, 2]) > 1.5


@scenario(
    "ops.matmul_converts_its_first_operand_alone",
    spec="OP17",
    statement="matmul([[1, 2]], float matrix) converts the list on its own (int32), so MatMul "
    "rejects the float operand",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"cannot compute MatMul as input #1\(zero-based\) was expected to be a int32 tensor "
        r"but is a float tensor",
    ),
)
def _(fw):
    return fw.matmul([[1, 2]], fw.constant([[1.0], [2.0]]))


# ---- more of what single ops mean (OP19) -------------------------------------------------------


@scenario(
    "ops.reshape_to_minus_one_flattens",
    spec="OP19",
    statement="reshape(x, -1) with a bare -1 flattens x, and the gradient comes back in x's shape",
    expect=returns([value([1.0, 2.0, 3.0, 4.0]), value([[1.0, 2.0], [3.0, 4.0]])]),
    oracle_exempt="the flattened values, and a gradient equal to the weights reshaped",
)
def _(fw):
    x = fw.constant([[1.0, 2.0], [3.0, 4.0]])
    weights = fw.constant([1.0, 2.0, 3.0, 4.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        flat = fw.reshape(x, -1)
        y = fw.reduce_sum(flat * weights)
    return [flat, tape.gradient(y, x)]


@scenario(
    "ops.concat_of_one_tensor",
    spec="OP19",
    statement="concat of a list holding one tensor is that tensor, and passes its gradient",
    expect=returns(value([3.0, 3.0])),
    oracle=Oracle(lambda fw, x: fw.reduce_sum(fw.concat([x * 3.0], 0)), at=([1.0, 2.0],)),
)
def _(fw):
    x = fw.constant([1.0, 2.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.concat([x * 3.0], 0))
    return tape.gradient(y, x)


@scenario(
    "ops.gather_from_a_scalar_rejected",
    spec="OP18",
    statement="gather needs params of rank 1 or more: a scalar is an InvalidArgumentError",
    expect=raises(ErrorKind.UNKNOWN, match=r"params must be at least 1 dimensional \[Op:GatherV2\]"),
)
def _(fw):
    return fw.gather(fw.constant(3.0), [0])


@scenario(
    "ops.tile_multiples_must_match_rank",
    spec="OP18",
    statement="tile's multiples need one entry per dimension: [2] for a matrix is an "
    "InvalidArgumentError",
    expect=raises(
        ErrorKind.UNKNOWN,
        match=r"Expected multiples argument to be a vector of length 2 but got length 1 \[Op:Tile\]",
    ),
)
def _(fw):
    return fw.tile(fw.constant([[1.0, 2.0]]), [2])


@scenario(
    "ops.relu_passes_nan",
    spec="OP19, OP06",
    statement="relu is max(x, 0) as TensorFlow's kernel computes it: a NaN stays NaN (relu does not "
    "hide a NaN)",
    expect=returns(value([float("nan"), 0.0, 0.5, 2.0])),
    oracle_exempt=_SPECIAL,
)
def _(fw):
    return fw.relu(fw.constant([float("nan"), -1.0, 0.5, 2.0]))


# ---- third derivatives through backward rules of backward rules (N01) --------------------------


def _third_order_of_squares(fw, x, forward):
    """[f1, f2, f3] with f1 = d sum(forward(x)^2)/dx, f2 = d sum(f1^2)/dx, f3 = d sum(f2)/dx.

    Squaring the first gradient makes the upstream of the backward rule's own backward rule
    depend on x, so the third tape differentiates that rule of a rule.
    """
    with fw.GradientTape() as third:
        third.watch(x)
        with fw.GradientTape() as second:
            second.watch(x)
            with fw.GradientTape() as first:
                first.watch(x)
                out = forward(x)
                y = fw.reduce_sum(out * out)
            f1 = first.gradient(y, x)
            y2 = fw.reduce_sum(f1 * f1)
        f2 = second.gradient(y2, x)
        y3 = fw.reduce_sum(f2)
    return [f1, f2, third.gradient(y3, x)]


_THIRD = "a chain of squared gradients, in closed form: sum(5 x^2) gives 10x, then 200x, then 200"


@scenario(
    "ops.third_order_through_stack",
    spec="N01",
    statement="three nested tapes through stack([x, 2x]): 10x, 200x, 200",
    expect=returns([value([10.0, 20.0]), value([200.0, 400.0]), value([200.0, 200.0])]),
    oracle_exempt=_THIRD,
)
def _(fw):
    return _third_order_of_squares(
        fw, fw.constant([1.0, 2.0]), lambda x: fw.stack([x, 2.0 * x], 1)
    )


@scenario(
    "ops.third_order_through_concat",
    spec="N01",
    statement="three nested tapes through concat([x, 2x]): 10x, 200x, 200",
    expect=returns([value([10.0, 20.0]), value([200.0, 400.0]), value([200.0, 200.0])]),
    oracle_exempt=_THIRD,
)
def _(fw):
    return _third_order_of_squares(
        fw, fw.constant([1.0, 2.0]), lambda x: fw.concat([x, 2.0 * x], 0)
    )


@scenario(
    "ops.integer_mean_is_exact_integer_division",
    spec="OP19",
    statement="reduce_mean of integers divides the exact sum as C++ does (toward zero, no float "
    "rounding, 0 for no elements, no warning): 2^60 + 1, -2 and 0",
    expect=returns(
        [value(2**60 + 1, dtype="int64"), value(-2, dtype="int32"), value(0, dtype="int32")],
        warns={"divide by zero": 0},
    ),
    oracle_exempt="integer forward values, not derivatives",
)
def _(fw):
    return [
        fw.reduce_mean(fw.constant([2**60 + 1, 2**60 + 2], dtype=fw.int64)),
        fw.reduce_mean(fw.constant([-3, -2])),
        fw.reduce_mean(fw.zeros([0], dtype=fw.int32)),
    ]


# ---- rarely taken branches of the op table (OP16-OP19) -----------------------------------------


@scenario(
    "ops.integer_pow_to_negative_power_rejected",
    spec="OP16",
    statement="an int32 to a negative int32 power is an InvalidArgumentError of Pow (no float result)",
    expect=raises(
        ErrorKind.UNKNOWN,
        match=r"Integers to negative integer powers are not allowed \[Op:Pow\] name: $",
    ),
)
def _(fw):
    return fw.pow(fw.constant(2), fw.constant(-1))


@scenario(
    "ops.complex_pow_gradients",
    spec="D02",
    statement="real(z ** p) with complex z and p: conj(p z^(p-1)) for z, conj(z^p log z) for p",
    expect=returns([value([2 - 2j], dtype="complex64"), value(-1.5707964 - 0.6931472j, dtype="complex64")]),
    features=["complex"],
    oracle_exempt="the oracle differentiates real arguments only; the values are conj(2 z) and "
    "conj(z^2 log z) at z = 1 + i",
)
def _(fw):
    z = fw.constant([1 + 1j], dtype=fw.complex64)
    p = fw.constant(2 + 0j, dtype=fw.complex64)
    with fw.GradientTape() as tape:
        tape.watch([z, p])
        y = fw.real(fw.reduce_sum(fw.pow(z, p)))
    return tape.gradient(y, [z, p])


@scenario(
    "ops.where_condition_must_be_bool",
    spec="OP17",
    statement="where with a float condition is an InvalidArgumentError naming input #0",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"cannot compute SelectV2 as input #0\(zero-based\) was expected to be a bool tensor "
        r"but is a float tensor",
    ),
)
def _(fw):
    return fw.where(fw.constant([1.0, 0.0]), fw.constant([1.0, 2.0]), fw.constant([3.0, 4.0]))


@scenario(
    "ops.where_shapes_must_broadcast",
    spec="OP18",
    statement="where's condition and branches must broadcast together: the error names all three",
    expect=raises(
        ErrorKind.UNKNOWN,
        match=r"condition \[2\], then \[2\], and else \[3\] must be broadcastable \[Op:SelectV2\]",
    ),
)
def _(fw):
    return fw.where(fw.constant([True, False]), fw.constant([1.0, 2.0]), fw.constant([1.0, 2.0, 3.0]))


@scenario(
    "ops.imag_and_cast_of_real_values",
    spec="OP19",
    statement="imag of a real tensor is zeros, and a cast to the dtype it has is the tensor itself: "
    "gradients pass as if neither were there",
    expect=returns([value([0.0, 0.0]), 1.0, value(2.0), 3.0]),
    oracle_exempt="imag is zero and the cast the identity on real float32 values; the gradients are "
    "the factors 1 and 3",
)
def _(fw):
    x = fw.constant(2.0)
    with fw.GradientTape(persistent=True) as tape:
        tape.watch(x)
        by_imag = fw.imag(x) + x
        by_cast = fw.cast(x, fw.float32) * 3.0
    return [
        fw.imag(fw.constant([1.0, 2.0])), tape.gradient(by_imag, x),
        fw.cast(x, fw.float32), tape.gradient(by_cast, x),
    ]


@scenario(
    "ops.reshape_to_another_size_rejected",
    spec="OP18",
    statement="reshape of 4 values to [3] is an InvalidArgumentError counting both",
    expect=raises(
        ErrorKind.UNKNOWN,
        match=r"Input to reshape is a tensor with 4 values, but the requested shape has 3 \[Op:Reshape\]",
    ),
)
def _(fw):
    return fw.reshape(fw.constant([1.0, 2.0, 3.0, 4.0]), [3])


@scenario(
    "ops.concat_ranks_must_agree",
    spec="OP18",
    statement="concat of a matrix and a vector is an InvalidArgumentError: the ranks must match",
    expect=raises(
        ErrorKind.UNKNOWN,
        match=r"ConcatOp : Ranks of all input tensors should match: shape\[0\] = \[2,1\] vs. "
        r"shape\[1\] = \[2\] \[Op:ConcatV2\] name: concat",
    ),
)
def _(fw):
    return fw.concat([fw.zeros([2, 1]), fw.zeros([2])], 0)


@scenario(
    "ops.scalar_added_before_gather_gets_summed_gradient",
    spec="OP08, OP09",
    statement="x + s gathered at [0, 0, 2]: the scalar s gets the sum of the sparse upstream (3), "
    "x the densified rows",
    expect=returns([value([2.0, 0.0, 1.0]), 3.0]),
    oracle=Oracle(
        lambda fw, x, s: fw.reduce_sum(fw.gather(x + s, [0, 0, 2])),
        at=([1.0, 2.0, 3.0], 0.5),
        pick=lambda d: [d.first[0][0], d.first[0][1]],
    ),
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    s = fw.constant(0.5)
    with fw.GradientTape() as tape:
        tape.watch([x, s])
        y = fw.reduce_sum(fw.gather(x + s, [0, 0, 2]))
    by_x, by_s = tape.gradient(y, [x, s])
    return [fw.multiply(by_x, 1.0), by_s]


@scenario(
    "ops.true_division_of_bools_rejected",
    spec="OP17",
    statement="bool / bool is a TypeError of / (bool is not among the dtypes it divides)",
    expect=raises(ErrorKind.INVALID_ARGUMENT, type="TypeError", match=r"Invalid dtype tf\.bool in __truediv__"),
)
def _(fw):
    return fw.constant([True]) / fw.constant([True])


@scenario(
    "ops.add_of_int_tensor_and_python_float_rejected",
    spec="OP17",
    statement="int32 tensor + 2.5: add takes 2.5 as a float32 when int32 cannot hold it, and AddV2 "
    "rejects it (multiply's conversion is a TypeError instead)",
    expect=raises(
        ErrorKind.DTYPE_MISMATCH,
        match=r"cannot compute AddV2 as input #1\(zero-based\) was expected to be a int32 tensor "
        r"but is a float tensor",
    ),
)
def _(fw):
    return fw.constant([1, 2]) + 2.5


@scenario(
    "ops.cast_of_sparse_gradient_keeps_values",
    spec="OP08",
    statement="casting a gather's sparse gradient to float64 casts its values: densified, "
    "[2, 0, 1] in float64",
    expect=returns(value([2.0, 0.0, 1.0], dtype="float64")),
    features=["float64"],
    oracle_exempt="the gradient's values are counts of the gathered indices; the check is the cast",
)
def _(fw):
    x = fw.constant([1.0, 2.0, 3.0])
    with fw.GradientTape() as tape:
        tape.watch(x)
        y = fw.reduce_sum(fw.gather(x, [0, 0, 2]))
    return fw.multiply(fw.cast(tape.gradient(y, x), fw.float64), 1.0)
